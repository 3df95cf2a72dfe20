"""The archive index: `reports/index.jsonl`, append-only and hash-chained across runs.

One entry per sealed run (a run may be sealed again after records were appended; the
last entry for a run is the one its journal must match). Because every entry carries the
previous entry's hash, deleting or replacing a run folder, or editing its entry, shows up
in `drill verify --all`. When a signing key is configured each entry is also signed, so
re-chaining the index needs the key too.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from orchestrator.errors import DrillError
from orchestrator.integrity.signing import (
    Signer,
    b64decode_strict,
    configured_key,
    index_message,
    load_signer,
    read_signature,
    sign_run,
)
from orchestrator.journal.chain import (
    GENESIS,
    canonical,
    first_bad_record,
    iso_ns,
    record_hash,
    scan_chain,
)
from orchestrator.journal.reader import Record, read_journal
from orchestrator.journal.records import RunEnd

INDEX_FILE = "index.jsonl"
_LOCK_FILE = ".index.lock"


@dataclass(frozen=True)
class IndexEntry:
    seq: int
    run: str
    year: str
    path: str  # run folder, relative to the archive
    journal_seq: int  # seq of the journal record sealed (the last one)
    journal_digest: str  # its hash: the journal's final digest
    run_end_sha256: str  # sha256 of the canonical run.end record
    status: str
    signed_by: str | None  # signing key fingerprint, None when unsigned
    appended: str
    prev: str
    hash: str
    sig: bytes | None  # signature of `hash` by `signed_by`

    @classmethod
    def from_raw(cls, raw: dict) -> IndexEntry:
        """ValueError on a missing field or a field of the wrong type."""
        for name, kind in _FIELDS.items():
            value = raw.get(name)
            if not isinstance(value, kind) or isinstance(value, bool):
                raise ValueError(f"field {name!r} missing or not {kind.__name__}")
        if raw.get("signed_by") is not None and not isinstance(raw["signed_by"], str):
            raise ValueError("field 'signed_by' is not a string")
        sig = raw.get("sig")
        return cls(seq=raw["seq"], run=raw["run"], year=raw["year"], path=raw["path"],
                   journal_seq=raw["journal_seq"], journal_digest=raw["journal_digest"],
                   run_end_sha256=raw["run_end_sha256"], status=raw["status"],
                   signed_by=raw.get("signed_by"), appended=raw["appended"], prev=raw["prev"],
                   hash=raw["hash"],
                   sig=b64decode_strict(sig) if sig is not None else None)


_FIELDS = {"seq": int, "run": str, "year": str, "path": str, "journal_seq": int,
           "journal_digest": str, "run_end_sha256": str, "status": str, "appended": str,
           "prev": str, "hash": str}


ENTRY_UNHASHED = ("hash", "sig")  # an entry's signature signs its hash


def entry_hash(raw: dict) -> str:
    return record_hash(raw, unhashed=ENTRY_UNHASHED)


@dataclass(frozen=True)
class SealPoint:
    """What a journal looks like at the moment it is sealed."""

    run: str
    seq: int
    digest: str
    run_end_sha256: str
    status: str


def seal_point(journal: Path) -> SealPoint:
    """The journal's last record and its run.end; DrillError if it cannot be sealed."""
    bad = first_bad_record(journal)
    if bad is not None:
        raise DrillError(f"{journal}:{bad[0]}: {bad[1]}; refusing to seal a broken journal")
    run = read_journal(journal)
    end = run.end_record
    if end is None:
        raise DrillError(f"{journal}: no run.end record; the run is unfinished (drill recover)")
    last = run.records[-1]
    return SealPoint(run=last.run, seq=last.seq, digest=last.hash,
                     run_end_sha256=run_end_sha256(end),
                     status=_text(RunEnd.from_record(end.data).status))


def _text(value: object) -> str:
    return "" if value is None else str(value)


def run_end_sha256(end: Record) -> str:
    """What the archive index binds of a run: the SHA-256 of its canonical run.end record."""
    return hashlib.sha256(canonical(dict(end.raw))).hexdigest()


def repair_torn_tail(fh) -> None:
    """A crash mid-append leaves a line without newline; it was never acknowledged."""
    fh.seek(0, os.SEEK_END)
    size = fh.tell()
    if size == 0:
        return
    fh.seek(size - 1)
    if fh.read(1) == b"\n":
        return
    fh.seek(0)
    data = fh.read()
    fh.truncate(data.rfind(b"\n") + 1)


def last_line(fh) -> bytes | None:
    fh.seek(0)
    last = None
    for line in fh:
        if line.strip():
            last = line
    return last


def previous_entry(fh) -> dict | None:
    """The chain's last entry (an open, locked chain file), after dropping a torn tail."""
    repair_torn_tail(fh)
    last = last_line(fh)
    return json.loads(last) if last else None


def append_entry(fh, raw: dict, signer: Signer | None, message: Callable[[str], bytes]) -> dict:
    """Hash `raw` into the chain, sign the hash when there is a key, append it durably."""
    raw["hash"] = entry_hash(raw)
    if signer is not None:
        raw["sig"] = base64.b64encode(signer.sign(message(raw["hash"]))).decode()
    fh.seek(0, os.SEEK_END)
    fh.write(canonical(raw) + b"\n")
    fh.flush()
    os.fsync(fh.fileno())
    return raw


def run_signer(journal: Path) -> tuple[Signer | None, DrillError | None]:
    """The key configured for a run (DRILL_SIGNING_KEY, else its inventory's), or why it
    cannot be used: the caller still records, unsigned, then says so."""
    try:
        key = configured_key(journal)
        return (load_signer(key) if key is not None else None), None
    except DrillError as e:
        return None, e


def append_run(reports_dir: Path, run_dir: Path, *, signer: Signer | None = None,
               sign: bool = True) -> IndexEntry:
    """Seal `run_dir` (call after run.end): sign its final digest when a key is configured,
    then append it to the archive index. Safe against concurrent runs finishing at once:
    appends are serialised by an flock on reports/.index.lock.

    Without `signer`, the key is looked up (`signing.configured_key`: DRILL_SIGNING_KEY,
    else `drill.signing.key` of the run's inventory). A key that cannot be used still
    leaves the run indexed (unsigned), then raises DrillError saying so."""
    point = seal_point(run_dir / "journal.jsonl")
    key_problem = None
    if signer is None and sign:
        signer, key_problem = run_signer(run_dir / "journal.jsonl")
    if signer is not None:
        current = read_signature(run_dir) if (run_dir / "journal.sig").exists() else None
        if current is None or (current.seq, current.digest) != (point.seq, point.digest):
            sign_run(run_dir, signer, reports_dir, run_id=point.run, seq=point.seq,
                     digest=point.digest)
    sig = read_signature(run_dir)
    signed_by = sig.key if sig is not None and sig.digest == point.digest else None
    rel = run_dir.resolve().relative_to(reports_dir.resolve())
    reports_dir.mkdir(parents=True, exist_ok=True)
    with open(reports_dir / _LOCK_FILE, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with open(reports_dir / INDEX_FILE, "a+b") as fh:
            prev_raw = previous_entry(fh)
            raw = {
                "seq": prev_raw["seq"] + 1 if prev_raw else 0,
                "run": point.run,
                "year": rel.parts[0] if len(rel.parts) > 1 else "",
                "path": rel.as_posix(),
                "journal_seq": point.seq,
                "journal_digest": point.digest,
                "run_end_sha256": point.run_end_sha256,
                "status": point.status,
                "signed_by": signed_by,
                "appended": iso_ns(time.time_ns()),
                "prev": prev_raw["hash"] if prev_raw else GENESIS,
            }
            append_entry(fh, raw, signer, index_message)
    if key_problem is not None:
        raise DrillError(f"{point.run} indexed UNSIGNED: {key_problem}")
    return IndexEntry.from_raw(raw)


@dataclass(frozen=True)
class ChainProblem:
    """The first bad line of a hash-chained file (the index, a run's renders.jsonl)."""

    line: int
    message: str


def read_index(reports_dir: Path) -> tuple[list[IndexEntry], ChainProblem | None]:
    """Every entry up to the first bad line, and that line's problem (None when sound)."""
    path = reports_dir / INDEX_FILE
    entries: list[IndexEntry] = []
    for lineno, raw, problem in _scan(path):
        if problem is not None:
            return entries, ChainProblem(lineno, problem)
        entries.append(IndexEntry.from_raw(raw))
    return entries, None


def _scan(path: Path) -> Iterator[tuple[int, dict, str | None]]:
    return scan_chain(path, GENESIS, IndexEntry.from_raw, noun="entry",
                      start_name="the previous entry's hash", unhashed=ENTRY_UNHASHED)
