"""Append-only, hash-chained, fsync'd JSON-lines journal (docs/journal.md)."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator.model.stamp import iso_ns, parse_iso_ns, stamp_record

__all__ = ["GENESIS", "Journal", "Record", "canonical", "first_bad_record", "iso_ns",
           "parse_iso_ns", "read_records", "record_hash", "scan_chain", "stamp"]

GENESIS = "0" * 64


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


# A timestamp object: a time that names its source and uncertainty (model.stamp).
stamp = stamp_record


def record_hash(record: Mapping[str, Any], unhashed: tuple[str, ...] = ("hash",)) -> str:
    """SHA-256 of the canonical record without the fields that cannot be in it (its own
    hash; an index entry's signature too: orchestrator.integrity.index)."""
    body = {k: v for k, v in record.items() if k not in unhashed}
    return hashlib.sha256(canonical(body)).hexdigest()


@dataclass(frozen=True)
class Record:
    seq: int
    ts_ns: int
    kind: str
    run: str
    data: Mapping[str, Any]
    prev: str
    hash: str
    raw: Mapping[str, Any]


class Journal:
    """Writer. Not thread-safe by itself: the engine appends from one thread."""

    def __init__(self, path: Path, run_id: str):
        self.path = path
        self.run_id = run_id
        existing = list(read_records(path)) if path.exists() else []
        self._seq = existing[-1].seq + 1 if existing else 0
        self._prev = existing[-1].hash if existing else GENESIS
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(path, "ab")  # noqa: SIM115 - lives as long as the run

    @property
    def digest(self) -> str:
        """Hash of the last record written (the final digest once the run ends)."""
        return self._prev

    def append(self, kind: str, data: Mapping[str, Any], *, sync: bool = True) -> str:
        record = {
            "seq": self._seq,
            "ts": iso_ns(now := time.time_ns()),
            "ts_ns": now,
            "mono_ns": time.monotonic_ns(),
            "kind": kind,
            "run": self.run_id,
            "data": data,
            "prev": self._prev,
        }
        record["hash"] = record_hash(record)
        self._fh.write(canonical(record) + b"\n")
        self._seq += 1
        self._prev = record["hash"]
        if sync:
            self.sync()
        return record["hash"]

    def sync(self) -> None:
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        if not self._fh.closed:
            self.sync()
            self._fh.close()


def read_records(path: Path) -> Iterator[Record]:
    """Every record, in order. A torn last line (crash mid-write) is skipped."""
    with open(path, "rb") as fh:
        for line in fh:
            if not line.endswith(b"\n"):
                break
            raw = json.loads(line)
            yield Record(raw["seq"], raw["ts_ns"], raw["kind"], raw["run"], raw["data"],
                         raw["prev"], raw["hash"], raw)


def first_bad_record(path: Path) -> tuple[int, str] | None:
    """(line number, reason) of the first record that breaks the chain, or None."""
    for lineno, _raw, problem in scan_chain(path, GENESIS, noun="record",
                                            start_name="the previous record's hash"):
        if problem is not None:
            return lineno, problem
    return None


def scan_chain(path: Path, start: str, from_raw: Callable[[dict], object] | None = None, *,
               noun: str, start_name: str, check: Callable[[dict], str | None] | None = None,
               unhashed: tuple[str, ...] = ("hash",)) -> Iterator[tuple[int, dict, str | None]]:
    """(line, record, problem) for each line of a hash-chained JSON-lines file whose first
    `prev` is `start`; stops after the first problem. The journal, the archive index and a
    run's renders are all such files (orchestrator.integrity.index, .renders)."""
    prev = start
    with open(path, "rb") as fh:
        for lineno, line in enumerate(fh, 1):
            try:
                raw = json.loads(line)
            except (ValueError, UnicodeDecodeError):
                yield lineno, {}, "not valid JSON"
                return
            if not isinstance(raw, dict) or canonical(raw) + b"\n" != line:
                yield lineno, {}, "not in canonical form"
                return
            if raw.get("seq") != lineno - 1:
                yield lineno, raw, "sequence number out of order"
                return
            if raw.get("prev") != prev:
                what = start_name if lineno == 1 else f"the previous {noun}'s hash"
                yield lineno, raw, f"prev does not match {what}"
                return
            if raw.get("hash") != record_hash(raw, unhashed):
                yield lineno, raw, f"hash does not match the {noun}"
                return
            problem = check(raw) if check is not None else None
            if problem is not None:
                yield lineno, raw, problem
                return
            try:
                if from_raw is not None:
                    from_raw(raw)
            except (KeyError, TypeError, ValueError) as e:
                yield lineno, raw, f"malformed {noun}: {e}"
                return
            prev = raw["hash"]
            yield lineno, raw, None
