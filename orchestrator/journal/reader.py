"""The one reader of journal.jsonl for every consumer (docs/journal.md).

Reports, history, the archive scan and index, integrity, the run folder, compliance and
`drill recover` read a journal through here, as typed records (orchestrator.journal.records):
- `read_journal(path)`: every record, typed on demand (`RunJournal`);
- `read_ends(path)`: the first and last record only, raw (the archive scan of 10,000 runs);
- `read_start(path)`: the run.start record only;
- `read_strict(path)`: records of a journal whose chain `first_bad_record` found sound,
  naming a record whose fields have the wrong types (integrity).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from orchestrator.journal.chain import Record, read_records
from orchestrator.journal.records import (
    RECORD_TYPES,
    AnsibleProcess,
    Measure,
    PhaseStart,
    RunEnd,
    RunStart,
    StepStart,
    TypedRecord,
)
from orchestrator.model.results import worst_rto

JOURNAL = "journal.jsonl"
_TAIL_CHUNK = 64 * 1024

T = TypeVar("T", bound=TypedRecord)

__all__ = ["JOURNAL", "Record", "RunJournal", "read_ends", "read_journal", "read_records",
           "read_start", "read_strict", "typed"]


def typed(record: Record) -> TypedRecord | None:
    """The record's typed form; None for a kind without one."""
    cls = RECORD_TYPES.get(record.kind)
    return cls.from_record(record.data) if cls is not None else None


@dataclass(frozen=True)
class RunJournal:
    """One run's records, in order, with typed access."""

    path: Path
    records: tuple[Record, ...]

    def of(self, cls: type[T]) -> list[T]:
        """Every record of one kind, typed."""
        return [cls.from_record(r.data) for r in self.records if r.kind == cls.kind]

    def with_records(self, cls: type[T]) -> Iterator[tuple[Record, T]]:
        """(record, typed) of one kind: for a consumer that needs the seq or time too."""
        for r in self.records:
            if r.kind == cls.kind:
                yield r, cls.from_record(r.data)

    @property
    def start(self) -> RunStart | None:
        first = next((r for r in self.records if r.kind == RunStart.kind), None)
        return RunStart.from_record(first.data) if first is not None else None

    @property
    def end_record(self) -> Record | None:
        """The last run.end (a run sealed again ends with its latest)."""
        return next((r for r in reversed(self.records) if r.kind == RunEnd.kind), None)

    @property
    def end(self) -> RunEnd | None:
        rec = self.end_record
        return RunEnd.from_record(rec.data) if rec is not None else None

    @property
    def finished(self) -> bool:
        return self.end_record is not None

    @property
    def digest(self) -> str | None:
        """The final digest: the hash of the last record."""
        return self.records[-1].hash if self.records else None

    def worst_rto(self) -> dict[str, float]:
        """run.end's `rto_s`, recomputed from the measure records (model.results.worst_rto)."""
        return worst_rto(self.of(Measure))

    def process_groups(self) -> list[AnsibleProcess]:
        """ansible-runner process groups the run started (`drill recover` ends them)."""
        return self.of(AnsibleProcess)

    def fault_started(self) -> bool:
        """A fault, recovery, hold or restore step started (`drill recover` restores)."""
        return any(s.phase in ("fault", "recovery", "hold", "restore") for s in self.of(StepStart))

    def last_phase(self) -> str:
        phases = self.of(PhaseStart)
        return phases[-1].phase if phases else ""

    def last_step(self) -> str | None:
        steps = self.of(StepStart)
        return steps[-1].key if steps else None


def read_journal(path: Path) -> RunJournal:
    """Every complete record of a journal (a torn last line is skipped)."""
    return RunJournal(Path(path), tuple(read_records(Path(path))))


def from_records(path: Path, records: Sequence[Record]) -> RunJournal:
    return RunJournal(Path(path), tuple(records))


def read_start(path: Path) -> RunStart | None:
    """The first record, if it is a run.start; None if there is none or it is unreadable."""
    try:
        with open(path, "rb") as fh:
            raw = json.loads(fh.readline())
    except (OSError, ValueError):
        return None
    if not isinstance(raw, dict) or raw.get("kind") != RunStart.kind \
            or not isinstance(raw.get("data"), dict):
        return None
    return RunStart.from_record(raw["data"])


def read_ends(path: Path) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(first, last) complete records as raw dicts, reading two lines only.

    OSError when the journal cannot be read (FileNotFoundError when there is none),
    ValueError when either line is not JSON."""
    with open(path, "rb") as fh:
        first = _first_line(fh)
        last = _last_line(fh)
    return (json.loads(first) if first else None), (json.loads(last) if last else None)


def _first_line(fh) -> bytes | None:
    line = fh.readline()
    return line if line.endswith(b"\n") else None


def _last_line(fh) -> bytes | None:
    """The last complete line; a torn tail (crash mid-write) is ignored."""
    fh.seek(0, os.SEEK_END)
    end = fh.tell()
    size = _TAIL_CHUNK
    while True:
        start = max(0, end - size)
        fh.seek(start)
        buf = fh.read(end - start)
        cut = buf.rfind(b"\n")
        if cut < 0:
            return None
        body = buf[:cut]            # drops any torn tail after the last newline
        nl = body.rfind(b"\n")
        if nl >= 0:
            return body[nl + 1:] + b"\n"
        if start == 0:
            return body + b"\n" if body else None
        size *= 4


_FIELDS = {"seq": int, "ts_ns": int, "kind": str, "run": str, "data": dict, "prev": str,
           "hash": str}


def read_strict(path: Path) -> tuple[list[Record], tuple[int, str] | None]:
    """Records of a journal whose chain is sound, and (line, problem) of the first record
    missing a field or holding one of the wrong type (a re-chained forgery can hold
    anything): named, not a crash."""
    out = []
    with open(path, "rb") as fh:
        for lineno, line in enumerate(fh, 1):
            raw = json.loads(line)
            for name, kind in _FIELDS.items():
                if not isinstance(raw.get(name), kind) or isinstance(raw.get(name), bool):
                    return out, (lineno, f"field {name!r} missing or not {kind.__name__}")
            out.append(Record(raw["seq"], raw["ts_ns"], raw["kind"], raw["run"], raw["data"],
                              raw["prev"], raw["hash"], raw))
    return out, None
