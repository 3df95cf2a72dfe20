"""Reading a run's reviews (`drill review`, orchestrator.model.review): the review files
its renders chain binds (renders.jsonl records of format `review`, docs/journal.md "Later
renders"). The chain is followed from the journal's final digest up to its first bad line,
and a file whose bytes differ from its record is left out; `drill verify` reports both."""

from __future__ import annotations

import json
from pathlib import Path

from orchestrator.journal.chain import scan_chain
from orchestrator.journal.reader import JOURNAL, read_ends
from orchestrator.journal.runfolder import RENDERS, sha256_file
from orchestrator.model.review import Closure, Review

REVIEW_FORMAT = "review"
REVIEW_DIR = "reviews"
_UNHASHED = ("hash", "sig")


def read_reviews(run_dir: Path, final_digest: str | None = None) -> tuple[Review, ...]:
    """The run's reviews, oldest first. `final_digest`: the journal's last record hash
    (read from the journal when not given)."""
    run_dir = Path(run_dir)
    chain = run_dir / RENDERS
    if not chain.is_file():
        return ()
    if final_digest is None:
        try:
            _, last = read_ends(run_dir / JOURNAL)
        except (OSError, ValueError):
            return ()
        if not last or last.get("kind") != "run.end":
            return ()
        final_digest = str(last.get("hash"))
    out: list[Review] = []
    for _, raw, problem in scan_chain(chain, final_digest, noun="record",
                                      start_name="the journal's final digest", unhashed=_UNHASHED):
        if problem is not None:
            break
        if raw.get("format") != REVIEW_FORMAT or raw.get("outside"):
            continue
        path = run_dir / str(raw.get("path"))
        try:
            if sha256_file(path) != raw.get("sha256"):
                continue
            out.append(Review.from_record(json.loads(path.read_bytes()), str(raw.get("path"))))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return tuple(out)


def archive_reviews(archive: Path) -> list[Review]:
    """Every review of every run in an archive (reports/<YYYY>/<run-id>/), oldest first."""
    archive = Path(archive)
    if not archive.is_dir():
        return []
    out: list[Review] = []
    for chain in sorted(archive.glob(f"*/*/{RENDERS}")):
        out.extend(read_reviews(chain.parent))
    return sorted(out, key=lambda r: r.at)


def closures_elsewhere(run_dir: Path, reviews: tuple[Review, ...]) -> tuple[Closure, ...]:
    """Closures of this run's follow-ups recorded in reviews of other runs of the same
    archive (reports/<YYYY>/<run-id>), oldest first."""
    ids = {f.id for r in reviews for f in r.followups}
    if not ids:
        return ()
    run_dir = Path(run_dir)
    out = [c for r in archive_reviews(run_dir.parent.parent) if r.run != run_dir.name
           for c in r.closes if c.id in ids]
    return tuple(sorted(out, key=lambda c: c.at))
