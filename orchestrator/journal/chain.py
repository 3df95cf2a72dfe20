"""Append-only, hash-chained, fsync'd JSON-lines journal (docs/journal.md)."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator.model.stamp import iso_ns, parse_iso_ns, stamp_record

__all__ = ["GENESIS", "Journal", "Record", "canonical", "first_bad_record", "iso_ns",
           "parse_iso_ns", "read_records", "record_hash", "stamp"]

GENESIS = "0" * 64


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


# A timestamp object: a time that names its source and uncertainty (model.stamp).
stamp = stamp_record


def record_hash(record: Mapping[str, Any]) -> str:
    body = {k: v for k, v in record.items() if k != "hash"}
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
    prev = GENESIS
    with open(path, "rb") as fh:
        for lineno, line in enumerate(fh, 1):
            try:
                raw = json.loads(line)
            except (ValueError, UnicodeDecodeError):
                return lineno, "not valid JSON"
            if not isinstance(raw, dict) or canonical(raw) + b"\n" != line:
                return lineno, "not in canonical form"
            if raw.get("seq") != lineno - 1:
                return lineno, "sequence number out of order"
            if raw.get("prev") != prev:
                return lineno, "prev does not match the previous record's hash"
            if raw.get("hash") != record_hash(raw):
                return lineno, "hash does not match the record"
            prev = raw["hash"]
    return None
