"""`drill verify`: a run against the archive index (reports/index.jsonl, docs/integrity.md)."""

from __future__ import annotations

from pathlib import Path

from orchestrator.integrity import index as archive_index
from orchestrator.integrity import signing
from orchestrator.integrity.checks import JOURNAL, Finding, RunCheck, Trust
from orchestrator.journal.reader import Record
from orchestrator.journal.records import RunEnd


def read_index_for_run(st: RunCheck, reports_dir: Path) -> list[archive_index.IndexEntry] | None:
    path = reports_dir / archive_index.INDEX_FILE
    if not path.is_file():
        st.findings.append(Finding(archive_index.INDEX_FILE, None,
                                   f"archive index missing in {reports_dir}"))
        return None
    entries, problem = archive_index.read_index(reports_dir)
    if problem is not None:
        st.findings.append(Finding(archive_index.INDEX_FILE, problem.line, problem.message))
    return entries


def check_index_entries(st: RunCheck, records: list[Record], entries: list[archive_index.IndexEntry],
                        run_dir: Path, reports_dir: Path, signed_by: str | None,
                        trust: Trust) -> None:
    mine = [e for e in entries if e.run == st.dir.name]
    if not mine:
        st.bad(JOURNAL, "run is not in the archive index")
        return
    by_seq = {r.seq: r for r in records}
    ends = [r for r in records if r.kind == "run.end"]
    for e in mine:
        where = Finding(archive_index.INDEX_FILE, e.seq + 1, "")
        rec = by_seq.get(e.journal_seq)
        if rec is None or rec.hash != e.journal_digest:
            st.findings.append(Finding(where.where, where.line,
                                       f"run {e.run}: journal record {e.journal_seq + 1} does "
                                       "not match the indexed digest"))
        if e.signed_by is not None:
            _check_entry_sig(st, e, reports_dir, trust)
        elif e.sig is not None:
            st.findings.append(Finding(where.where, where.line,
                                       f"run {e.run}: entry carries a signature but no signer"))
    last = mine[-1]
    final = records[-1]
    if (last.journal_seq, last.journal_digest) != (final.seq, final.hash):
        st.bad(JOURNAL, f"records after the last indexed record {last.journal_seq + 1} "
                        "(appended after the run was sealed)", last.journal_seq + 2)
    if ends and archive_index.run_end_sha256(ends[-1]) != last.run_end_sha256:
        st.bad(JOURNAL, "run.end differs from the one in the archive index", ends[-1].seq + 1)
    try:
        rel = run_dir.resolve().relative_to(reports_dir.resolve()).as_posix()
    except ValueError:
        rel = None
    if rel is not None and rel != last.path:
        st.bad(JOURNAL, f"run folder is at {rel}, the archive index says {last.path}")
    if last.signed_by is not None and signed_by != last.signed_by:
        st.bad(signing.SIG_FILE, f"the archive index says the run was signed by key "
                                 f"{last.signed_by[:16]}…; no valid signature by it")
    elif last.signed_by is None and signed_by is not None:
        st.findings.append(Finding(archive_index.INDEX_FILE, last.seq + 1,
                                   f"run {last.run}: entry says unsigned, but journal.sig is "
                                   f"signed by key {signed_by[:16]}…"))
    if ends and last.status != RunEnd.from_record(ends[-1].data).status:
        st.findings.append(Finding(archive_index.INDEX_FILE, last.seq + 1,
                                   f"run {last.run}: status {last.status!r} differs from run.end"))
    if rel is not None and last.year != rel.split("/", 1)[0]:
        st.findings.append(Finding(archive_index.INDEX_FILE, last.seq + 1,
                                   f"run {last.run}: year {last.year!r} differs from its folder"))


def _check_entry_sig(st: RunCheck, e: archive_index.IndexEntry, reports_dir: Path,
                     trust: Trust) -> None:
    kept = reports_dir / signing.KEYS_DIR / f"{e.signed_by}.pub"
    ok = False
    if e.sig is not None and kept.is_file() and (not trust.keys or e.signed_by in trust.keys):
        try:
            public = signing.public_from_text(kept.read_text(encoding="utf-8", errors="replace"))
            ok = public.fingerprint == e.signed_by and public.verify(
                signing.index_message(e.hash), e.sig)
        except ValueError:
            ok = False
    if not ok:
        st.findings.append(Finding(archive_index.INDEX_FILE, e.seq + 1,
                                   f"run {e.run}: entry signature does not verify"))
