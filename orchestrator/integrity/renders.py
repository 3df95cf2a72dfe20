"""Reports rendered after a run was sealed: `renders.jsonl`, a signed addendum.

The journal is append-closed after `run.end` (its final digest is signed and indexed), so
a PDF, Markdown, CSV or JUnit file rendered later by `drill report` cannot be bound by it.
Each later render instead appends one record to the run folder's `renders.jsonl`: a hash
chain whose first `prev` is the journal's final digest, each record signed with the firm's
key when one is available. `drill verify` checks it (docs/journal.md, "Later renders").
"""

from __future__ import annotations

import fcntl
import getpass
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from orchestrator.errors import DrillError
from orchestrator.integrity.checks import safe_rel
from orchestrator.integrity.index import (
    ENTRY_UNHASHED,
    ChainProblem,
    append_entry,
    previous_entry,
    run_signer,
    seal_point,
)
from orchestrator.integrity.signing import Signer, b64decode_strict, render_message
from orchestrator.journal.chain import iso_ns, scan_chain
from orchestrator.journal.reviews import REVIEW_DIR, REVIEW_FORMAT
from orchestrator.journal.runfolder import RENDERS, sha256_file
from orchestrator.model.review import Review


@dataclass(frozen=True)
class RenderEntry:
    seq: int
    run: str
    path: str  # in the run folder; absolute when rendered elsewhere (`outside`)
    outside: bool
    sha256: str
    format: str
    lang: str
    at: str
    by: str
    key: str | None  # signing key fingerprint, None when unsigned
    prev: str
    hash: str
    sig: bytes | None

    @classmethod
    def from_raw(cls, raw: dict) -> RenderEntry:
        """ValueError on a missing field or one of the wrong type."""
        for name, kind in _FIELDS.items():
            value = raw.get(name)
            if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
                raise ValueError(f"field {name!r} missing or not {kind.__name__}")
        if raw.get("key") is not None and not isinstance(raw["key"], str):
            raise ValueError("field 'key' is not a string")
        if (raw.get("key") is None) != (raw.get("sig") is None):
            raise ValueError("a signature needs its key, and a key its signature")
        if not raw["outside"] and not safe_rel(raw["path"]):
            raise ValueError(f"unusable path {raw['path']!r}")
        sig = raw.get("sig")
        return cls(seq=raw["seq"], run=raw["run"], path=raw["path"], outside=raw["outside"],
                   sha256=raw["sha256"], format=raw["format"], lang=raw["lang"], at=raw["at"],
                   by=raw["by"], key=raw.get("key"), prev=raw["prev"], hash=raw["hash"],
                   sig=b64decode_strict(sig) if sig is not None else None)


_FIELDS = {"seq": int, "run": str, "path": str, "outside": bool, "sha256": str, "format": str,
           "lang": str, "at": str, "by": str, "prev": str, "hash": str}


def record_render(run_dir: Path, file: Path, fmt: str, lang: str, *,
                  signer: Signer | None = None) -> RenderEntry:
    """Append the render `file` to the run's renders.jsonl (call after writing it).

    Without `signer` the key is looked up like at seal time (DRILL_SIGNING_KEY, else the
    run's inventory). A key that cannot be used still records the render, unsigned, then
    raises DrillError saying so. An unfinished run (no run.end) cannot take a render
    record: DrillError."""
    run_dir = Path(run_dir)
    point = seal_point(run_dir / "journal.jsonl")
    key_problem = None
    if signer is None:
        signer, key_problem = run_signer(run_dir / "journal.jsonl")
    file = Path(file)
    try:
        path, outside = file.resolve().relative_to(run_dir.resolve()).as_posix(), False
    except ValueError:
        path, outside = str(file.resolve()), True
    digest = sha256_file(file)
    with open(run_dir / RENDERS, "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # two `drill report` at once keep one chain
        prev_raw = previous_entry(fh)
        raw = {"seq": prev_raw["seq"] + 1 if prev_raw else 0, "run": point.run, "path": path,
               "outside": outside, "sha256": digest, "format": fmt, "lang": lang,
               "at": iso_ns(time.time_ns()), "by": getpass.getuser(),
               "key": signer.public.fingerprint if signer is not None else None,
               "prev": prev_raw["hash"] if prev_raw else point.digest}
        append_entry(fh, raw, signer, render_message)
    if key_problem is not None:
        raise DrillError(f"render {path} recorded UNSIGNED: {key_problem}")
    return RenderEntry.from_raw(raw)


def read_renders(run_dir: Path, run_id: str,
                 start: str) -> tuple[list[RenderEntry], ChainProblem | None]:
    """Every record up to the first bad line, and that line's problem. `start`: the
    journal's final digest, the first record's `prev`."""
    entries: list[RenderEntry] = []
    for lineno, raw, problem in _scan(Path(run_dir) / RENDERS, run_id, start):
        if problem is not None:
            return entries, ChainProblem(lineno, problem)
        entries.append(RenderEntry.from_raw(raw))
    return entries, None


def _scan(path: Path, run_id: str, start: str) -> Iterator[tuple[int, dict, str | None]]:
    def same_run(raw: dict) -> str | None:
        return None if raw.get("run") == run_id else f"belongs to run {raw.get('run')!r}, not this folder"

    return scan_chain(path, start, RenderEntry.from_raw, noun="record",
                      start_name="the journal's final digest", check=same_run,
                      unhashed=ENTRY_UNHASHED)


def record_review(run_dir: Path, review: Review, *, signer: Signer | None = None) -> RenderEntry:
    """Write `review` as reviews/review-<n>.json in the run folder and bind it to the run's
    renders chain (format `review`), signed like any later render. The journal is never
    touched; `drill verify` checks the file's bytes against its record.

    A run that is not finished (no run.end) takes no review: DrillError."""
    run_dir = Path(run_dir)
    seal_point(run_dir / "journal.jsonl")  # DrillError when the run never finished
    folder = run_dir / REVIEW_DIR
    folder.mkdir(exist_ok=True)
    n = 1 + sum(1 for p in folder.glob("review-*.json"))
    path = folder / f"review-{n:03d}.json"
    while path.exists():
        n += 1
        path = folder / f"review-{n:03d}.json"
    data = json.dumps(review.to_record(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    with open(path, "x", encoding="utf-8") as fh:
        fh.write(data)
    return record_render(run_dir, path, REVIEW_FORMAT, "-", signer=signer)
