"""Append-only, hash-chained, fsync'd JSON-lines journal (docs/journal.md)."""

from __future__ import annotations

import contextlib
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
    """Writer. Not thread-safe by itself: the engine appends from one thread.

    A write or fsync that fails (the run folder's disk full, a read-only remount, an I/O
    error) never leaves a torn record: the file is cut back to its last fsync'd record and
    that record and every later one go to a continuation file, `<run id>.journal.jsonl`, in
    the first of `fallback_dirs` on another filesystem (docs/journal.md, "Disk full").
    `on_fallback(message)` is told once, with a message naming the disk and the fallback
    file; `drill recover` later appends the continuation to the run folder's journal."""

    def __init__(self, path: Path, run_id: str, *, fallback_dirs: tuple[Path, ...] = (),
                 on_fallback: Callable[[str], None] | None = None):
        self.path = path
        self.run_id = run_id
        existing = list(read_records(path)) if path.exists() else []
        self._seq = existing[-1].seq + 1 if existing else 0
        self._prev = existing[-1].hash if existing else GENESIS
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd: int | None = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._synced = os.fstat(self._fd).st_size  # bytes up to the last fsync'd record
        if existing and self._synced != _valid_length(path):
            os.ftruncate(self._fd, _valid_length(path))  # a torn last line from a crash
            self._synced = os.fstat(self._fd).st_size
        self._pending: list[bytes] = []  # written since the last fsync
        self.fallback_dirs = tuple(Path(d) for d in fallback_dirs)
        self.on_fallback = on_fallback
        self.fallback: Path | None = None  # the continuation file, once in use
        self._fb_fd: int | None = None

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
        line = canonical(record) + b"\n"
        if self._fb_fd is not None:
            _write_all(self._fb_fd, line)
        else:
            self._pending.append(line)
            try:
                _write_all(self._fd, line)
            except OSError as e:
                self._to_fallback(e)
        self._seq += 1
        self._prev = record["hash"]
        if sync:
            self.sync()
        return record["hash"]

    def sync(self) -> None:
        if self._fb_fd is not None:
            os.fsync(self._fb_fd)
            return
        if self._fd is None:
            return
        try:
            os.fsync(self._fd)
        except OSError as e:
            self._to_fallback(e)
            os.fsync(self._fb_fd)
            return
        self._synced += sum(len(b) for b in self._pending)
        self._pending.clear()

    def _to_fallback(self, error: OSError) -> None:
        """Cut the journal back to its last fsync'd record; carry on in the fallback."""
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, self._synced)
        tried = []
        for folder in self.fallback_dirs:
            if _same_device(folder, self.path.parent):
                tried.append(f"{folder} (same disk)")
                continue
            target = folder / f"{self.run_id}.journal.jsonl"
            try:
                folder.mkdir(parents=True, exist_ok=True)
                fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_TRUNC, 0o600)
                for line in self._pending:
                    _write_all(fd, line)
                os.fsync(fd)
            except OSError as e:
                tried.append(f"{folder} ({e.strerror or e})")
                continue
            self._fb_fd, self.fallback = fd, target
            break
        disk = disk_of(self.path.parent)
        if self._fb_fd is None:
            raise OSError(error.errno, f"journal {self.path}: {error.strerror or error} on {disk}; "
                                       f"no fallback could be written: {', '.join(tried) or 'none'}"
                          ) from error
        self._pending.clear()
        with contextlib.suppress(OSError):
            os.close(self._fd)
        self._fd = None
        message = (f"{error.strerror or error} on {disk}: the journal {self.path} stays valid up "
                   f"to its last fsync'd record; the rest goes to {self.fallback}; run "
                   f"`drill recover` once the disk has room to complete the run folder")
        if self.on_fallback is not None:
            self.on_fallback(message)

    def close(self) -> None:
        if self._fb_fd is not None:
            with contextlib.suppress(OSError):
                os.fsync(self._fb_fd)
            os.close(self._fb_fd)
            self._fb_fd = None
        if self._fd is not None:
            try:
                self.sync()
            finally:
                if self._fd is not None:
                    os.close(self._fd)
                    self._fd = None
                if self._fb_fd is not None:
                    os.close(self._fb_fd)
                    self._fb_fd = None


def complete_from(path: Path, continuation: Path) -> int:
    """Append a journal's continuation (written by `Journal` to its fallback when the run
    folder's disk failed) to the journal, fsync'd, and remove it; the records appended.
    The continuation must carry on the chain where the journal stops (records the journal
    already holds are skipped); on a failed write the journal is cut back as it was and
    the error raised, naming the disk."""
    have = list(read_records(path))
    last_seq, prev = (have[-1].seq, have[-1].hash) if have else (-1, GENESIS)
    lines = []
    for rec in read_records(continuation):
        if rec.seq <= last_seq:
            continue
        if rec.seq != last_seq + 1 + len(lines) or (not lines and rec.prev != prev):
            raise ValueError(f"{continuation}: record {rec.seq} does not carry on {path} "
                             f"(its last record is {last_seq})")
        lines.append(canonical(rec.raw) + b"\n")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    size = _valid_length(path)
    try:
        os.ftruncate(fd, size)
        for line in lines:
            _write_all(fd, line)
        os.fsync(fd)
    except OSError as e:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, size)
        raise OSError(e.errno, f"{e.strerror or e} on {disk_of(path.parent)}: {path} not "
                               f"completed from {continuation}") from e
    finally:
        os.close(fd)
    continuation.unlink()
    return len(lines)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _valid_length(path: Path) -> int:
    """Bytes of whole lines at the start of a file (a torn last line excluded)."""
    data = path.read_bytes()
    return data.rfind(b"\n") + 1


def _same_device(a: Path, b: Path) -> bool:
    def dev(p: Path) -> int | None:
        for q in (p, *p.absolute().parents):
            with contextlib.suppress(OSError):
                return q.stat().st_dev
        return None

    return dev(Path(a)) == dev(Path(b))


def disk_of(path: Path) -> str:
    """The filesystem holding `path`, as an operator finds it: mount point, device, type."""
    path = Path(path).absolute()
    best = ("/", "?", "?")
    with contextlib.suppress(OSError), open("/proc/self/mounts", encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) < 3:
                continue
            mount = parts[1].replace("\\040", " ")
            if (path == Path(mount) or Path(mount) in path.parents) and len(mount) >= len(best[0]):
                best = (mount, parts[0], parts[2])
    return f"the disk mounted at {best[0]} ({best[1]}, {best[2]})"


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
