"""Verify a run folder and the archive (docs/integrity.md): `drill verify`.

Checks, in order, and reports every problem found (the first one is the headline):
1. the journal's hash chain (`orchestrator.journal.first_bad_record`), one run id, and a
   `run.end` record;
2. every file bound by `run.end.artifacts`, `report.file` and `evidence.file` records,
   and every ansible-runner artifact listed in the bound `ansible/manifest.json`;
3. the signature (`journal.sig`) of the final digest, with a trusted key;
4. later renders (`renders.jsonl`, orchestrator.renders): the chain from the final
   digest, their signatures and their files;
5. no file in the run folder that nothing binds (docs/run-folder.md lists the exceptions);
6. the archive index (`reports/index.jsonl`): its chain, and an entry matching the run.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from orchestrator.integrity import index as archive_index
from orchestrator.integrity import renders, signing
from orchestrator.integrity.checks import DEFAULT_TRUST, JOURNAL, Finding, RunCheck, Trust, safe_rel, top
from orchestrator.integrity.manifest import read_ansible_manifest
from orchestrator.integrity.verify_index import check_index_entries, read_index_for_run
from orchestrator.journal.chain import first_bad_record
from orchestrator.journal.reader import Record, read_strict, typed
from orchestrator.journal.records import EvidenceFile, ReportFile, RunEnd
from orchestrator.journal.runfolder import ANSIBLE_MANIFEST, RENDERS, sha256_file

__all__ = ["ArchiveVerdict", "Finding", "RunVerdict", "Trust", "run_folders", "seal",
           "summary_json", "verify_archive", "verify_run"]


@dataclass(frozen=True)
class RunVerdict:
    run: str
    path: Path
    findings: tuple[Finding, ...]
    notes: tuple[str, ...] = ()
    signed_by: str | None = None
    final_digest: str | None = None

    @property
    def ok(self) -> bool:
        return not self.findings


@dataclass(frozen=True)
class ArchiveVerdict:
    reports_dir: Path
    findings: tuple[Finding, ...]  # archive-level: index chain, deleted or unindexed runs
    runs: tuple[RunVerdict, ...]
    head: str | None  # hash of the last index entry: keep it outside the archive

    @property
    def ok(self) -> bool:
        return not self.findings and all(r.ok for r in self.runs)


def verify_run(run_dir: Path, reports_dir: Path | None = None, trust: Trust = DEFAULT_TRUST,
               index: list[archive_index.IndexEntry] | None = None) -> RunVerdict:
    """Check one run folder. `index`: entries already read (verify --all reads once)."""
    run_dir = Path(run_dir)
    st = RunCheck(run_dir, run_dir.name)
    journal = run_dir / JOURNAL
    if not journal.is_file():
        st.bad(JOURNAL, "missing")
        return RunVerdict(run_dir.name, run_dir, tuple(st.findings))
    bad = first_bad_record(journal)
    if bad is not None:
        st.bad(JOURNAL, f"record {bad[0]}: {bad[1]}", bad[0])
        return RunVerdict(run_dir.name, run_dir, tuple(st.findings))
    records, malformed = read_strict(journal)
    if malformed is not None:
        st.bad(JOURNAL, f"record {malformed[0]}: {malformed[1]}", malformed[0])
        return RunVerdict(run_dir.name, run_dir, tuple(st.findings))
    if not records:
        st.bad(JOURNAL, "empty")
        return RunVerdict(run_dir.name, run_dir, tuple(st.findings))
    _check_shape(st, records)
    covered = _check_files(st, records)
    final = records[-1]
    signed_by = _check_signature(st, final, reports_dir, trust)
    covered |= _check_renders(st, final, reports_dir, trust, signed_by, covered)
    _check_unbound(st, covered)
    if reports_dir is not None:
        entries = index
        if entries is None:
            entries = read_index_for_run(st, reports_dir)
        if entries is not None:
            check_index_entries(st, records, entries, run_dir, reports_dir, signed_by, trust)
    else:
        st.notes.append("archive index not checked (no archive folder given)")
    return RunVerdict(run_dir.name, run_dir, tuple(st.findings), tuple(st.notes), signed_by,
                      final.hash)


def _check_shape(st: RunCheck, records: list[Record]) -> None:
    if records[0].kind != "run.start":
        st.bad(JOURNAL, f"first record is {records[0].kind!r}, expected run.start", 1)
    for r in records:
        if r.run != st.dir.name:
            st.bad(JOURNAL, f"record {r.seq + 1} belongs to run {r.run!r}, not this folder",
                   r.seq + 1)
            break
    if not any(r.kind == "run.end" for r in records):
        st.bad(JOURNAL, "no run.end record: the run is unfinished; run `drill recover`")


def _bindings(st: RunCheck, records: list[Record]) -> dict[str, tuple[str, int]]:
    """path -> (sha256, journal line) of the latest record binding it."""
    bound: dict[str, tuple[str, int]] = {}
    for r in records:
        pairs: Iterable[tuple[object, object]] = ()
        if r.kind == "run.end":
            arts = RunEnd.from_record(r.data).artifacts
            pairs = arts.items() if isinstance(arts, dict) else ()
        elif r.kind in ("report.file", "evidence.file"):
            file = typed(r)
            assert isinstance(file, ReportFile | EvidenceFile)
            pairs = [(file.path, file.sha256)]
        for path, digest in pairs:
            if not isinstance(path, str) or not safe_rel(path) or not isinstance(digest, str):
                st.bad(JOURNAL, f"{r.kind} binds an unusable path {path!r}", r.seq + 1)
                continue
            bound[path] = (digest, r.seq + 1)
    return bound


def _check_files(st: RunCheck, records: list[Record]) -> set[str]:
    """Check every file the journal binds (and the ansible manifest's files); the paths
    covered, so that the sweep names only files nothing binds."""
    bound = _bindings(st, records)
    covered = set(bound)
    for path, (digest, line) in sorted(bound.items()):
        file = st.dir / path
        if not file.is_file():
            st.bad(path, f"missing (bound by journal record {line})")
        elif sha256_file(file) != digest:
            st.bad(path, f"sha256 differs from journal record {line}")
        elif path == ANSIBLE_MANIFEST:
            covered |= _check_manifest(st, line)
            continue
        else:
            continue
        if path == ANSIBLE_MANIFEST:
            # A bad manifest is the headline; its hundreds of files would only repeat it.
            covered |= {p.relative_to(st.dir).as_posix()
                        for p in (st.dir / "ansible").rglob("*") if p.is_file()}
    return covered


def _check_manifest(st: RunCheck, line: int) -> set[str]:
    try:
        files = read_ansible_manifest(st.dir)
    except (OSError, ValueError) as e:
        st.bad(ANSIBLE_MANIFEST, f"unreadable: {e}")
        return set()
    for path, digest in sorted(files.items()):
        file = st.dir / path
        if not safe_rel(path) or top(path) != "ansible":
            st.bad(ANSIBLE_MANIFEST, f"lists a path outside ansible/: {path!r}")
        elif not file.is_file():
            st.bad(path, f"missing (listed in {ANSIBLE_MANIFEST}, bound by journal record {line})")
        elif sha256_file(file) != digest:
            st.bad(path, f"sha256 differs from {ANSIBLE_MANIFEST} (bound by journal record {line})")
    return set(files)


# Files a sealed run folder holds that no hash binds, by design: they carry their own proof.
UNBOUND_BY_DESIGN = (JOURNAL, signing.SIG_FILE, RENDERS)


def _check_unbound(st: RunCheck, covered: set[str]) -> None:
    """A file added after the run (forged evidence, a planted log) is bound by nothing."""
    for p in sorted(st.dir.rglob("*")):
        rel = p.relative_to(st.dir).as_posix()
        if (p.is_file() or p.is_symlink()) and rel not in covered \
                and rel not in UNBOUND_BY_DESIGN:
            st.bad(rel, "not bound by any journal record")


def _check_renders(st: RunCheck, final: Record, reports_dir: Path | None, trust: Trust,
                   signed_by: str | None, sealed: set[str]) -> set[str]:
    """renders.jsonl: its chain from the final digest, its signatures, and each file."""
    if not (st.dir / RENDERS).is_file():
        return set()
    try:
        entries, problem = renders.read_renders(st.dir, st.dir.name, final.hash)
    except OSError as e:
        st.bad(RENDERS, f"unreadable: {e}")
        return set()
    if problem is not None:
        st.bad(RENDERS, problem.message, problem.line)
    keys: dict[str, signing.PublicKey | None] = {}
    latest: dict[str, renders.RenderEntry] = {}
    for e in entries:
        if e.key is None:
            if trust.require_signature:
                st.bad(RENDERS, f"render {e.path} is unsigned; a signature is required", e.seq + 1)
        else:
            if e.key not in keys:
                keys[e.key] = _render_key(st, e, reports_dir, trust, signed_by)
            public = keys[e.key]
            if public is None or e.sig is None \
                    or not public.verify(signing.render_message(e.hash), e.sig):
                st.bad(RENDERS, f"render {e.path}: signature does not verify", e.seq + 1)
        latest[e.path] = e
    if any(e.key is None for e in entries) and not trust.require_signature:
        st.notes.append("later renders unsigned: renders.jsonl is hash-chained from the "
                        "final digest only")
    for path, e in sorted(latest.items()):
        if e.outside:
            st.notes.append(f"render {path} is outside the run folder: not checked "
                            f"(sha256 {e.sha256})")
            continue
        file = st.dir / path
        if path in sealed or path in UNBOUND_BY_DESIGN or top(path) in ("evidence", "ansible"):
            st.bad(RENDERS, f"render record {e.seq + 1} claims a sealed file {path!r}", e.seq + 1)
        elif not file.is_file():
            st.bad(path, f"missing (a later render, {RENDERS} record {e.seq + 1})")
        elif sha256_file(file) != e.sha256:
            st.bad(path, f"sha256 differs from {RENDERS} record {e.seq + 1} (a later render)")
    return {p for p, e in latest.items() if not e.outside}


def _render_key(st: RunCheck, e: renders.RenderEntry, reports_dir: Path | None, trust: Trust,
                signed_by: str | None) -> signing.PublicKey | None:
    """The public key a render record may be signed with: the run's own signing key."""
    assert e.key is not None
    if signed_by is not None and e.key != signed_by:
        st.bad(RENDERS, f"render {e.path} signed by key {e.key[:16]}…, not the run's key",
               e.seq + 1)
        return None
    if trust.keys and e.key not in trust.keys:
        st.bad(RENDERS, f"render {e.path} signed by key {e.key[:16]}…, not a trusted key",
               e.seq + 1)
        return None
    kept = reports_dir / signing.KEYS_DIR / f"{e.key}.pub" if reports_dir else None
    try:
        if signed_by is not None:
            sig = signing.read_signature(st.dir)
            public = signing.public_from_text(sig.public_key) if sig is not None else None
        elif kept is not None and kept.is_file():
            public = signing.public_from_text(kept.read_text(encoding="utf-8", errors="replace"))
        else:
            public = None
    except (ValueError, KeyError, TypeError):
        public = None
    if public is None or public.fingerprint != e.key:
        st.bad(RENDERS, f"render {e.path}: signing key {e.key[:16]}… is not kept with the archive",
               e.seq + 1)
        return None
    return public


def _trusted_key(st: RunCheck, sig: signing.RunSignature, reports_dir: Path | None,
                 trust: Trust) -> signing.PublicKey | None:
    try:
        public = signing.public_from_text(sig.public_key)
    except ValueError as e:
        st.bad(signing.SIG_FILE, f"unreadable public key: {e}")
        return None
    if public.fingerprint != sig.key:
        st.bad(signing.SIG_FILE, "public key does not match its fingerprint")
        return None
    if trust.keys:
        if public.fingerprint not in trust.keys:
            st.bad(signing.SIG_FILE, f"signed by key {public.fingerprint[:16]}…, not a trusted key")
            return None
        return public
    kept = reports_dir / signing.KEYS_DIR / f"{public.fingerprint}.pub" if reports_dir else None
    if kept is None or not kept.is_file():
        st.bad(signing.SIG_FILE, f"signing key {public.fingerprint[:16]}… is not kept in the "
                                 "archive's keys/ folder")
        return None
    try:
        archived = signing.public_from_text(kept.read_text(encoding="utf-8", errors="replace"))
    except ValueError:
        archived = None
    if archived != public:
        st.bad(signing.SIG_FILE, f"keys/{kept.name} does not hold the signing key")
        return None
    return public


def _check_signature(st: RunCheck, final: Record, reports_dir: Path | None,
                     trust: Trust) -> str | None:
    try:
        sig = signing.read_signature(st.dir)
    except (ValueError, KeyError, TypeError) as e:
        st.bad(signing.SIG_FILE, f"unreadable: {e}")
        return None
    if sig is None:
        if trust.require_signature:
            st.bad(signing.SIG_FILE, "missing; a signature is required")
        else:
            st.notes.append("unsigned: the hash chain alone can be recomputed by an editor")
        return None
    public = _trusted_key(st, sig, reports_dir, trust)
    if public is None:
        return None
    if not public.verify(signing.run_message(sig.run, sig.seq, sig.digest), sig.signature):
        st.bad(signing.SIG_FILE, "signature does not verify")
        return None
    if sig.run != st.dir.name:
        st.bad(signing.SIG_FILE, f"signs run {sig.run!r}, not this folder")
    elif (sig.seq, sig.digest) != (final.seq, final.hash):
        st.bad(JOURNAL, f"final digest (record {final.seq + 1}) is not the signed digest "
                        f"(record {sig.seq + 1})", min(sig.seq, final.seq) + 1)
    return sig.key


def run_folders(reports_dir: Path) -> list[Path]:
    """Run folders on disk: reports/<year>/<run id>/ holding a journal."""
    return sorted(p.parent for p in reports_dir.glob(f"*/*/{JOURNAL}"))


def verify_archive(reports_dir: Path, trust: Trust = DEFAULT_TRUST,
                   head: str | None = None) -> ArchiveVerdict:
    """`drill verify --all`: the index chain, every indexed run, every run on disk.

    `head`: an index entry hash kept outside the archive (printed by an earlier verify);
    it must still be in the index, which catches the last runs being cut off."""
    findings: list[Finding] = []
    index_path = reports_dir / archive_index.INDEX_FILE
    entries: list[archive_index.IndexEntry] = []
    if not index_path.is_file():
        findings.append(Finding(archive_index.INDEX_FILE, None, f"missing in {reports_dir}"))
    else:
        entries, problem = archive_index.read_index(reports_dir)
        if problem is not None:
            findings.append(Finding(archive_index.INDEX_FILE, problem.line, problem.message))
    if head is not None and all(e.hash != head for e in entries):
        findings.append(Finding(archive_index.INDEX_FILE, None,
                                f"the pinned head {head[:16]}… is no longer in the index "
                                "(entries were removed or rewritten)"))
    on_disk = {p.resolve(): p for p in run_folders(reports_dir)}
    indexed: dict[Path, archive_index.IndexEntry] = {}
    for e in entries:
        if not safe_rel(e.path):
            findings.append(Finding(archive_index.INDEX_FILE, e.seq + 1,
                                    f"run {e.run}: unusable path {e.path!r}"))
            continue
        indexed[(reports_dir / e.path).resolve()] = e
    for path, e in indexed.items():
        if path not in on_disk:
            findings.append(Finding(e.path, None, f"run {e.run} is in the archive index but its "
                                                  "folder or journal is gone (deleted run)"))
    runs = [verify_run(p, reports_dir, trust, index=entries) for _, p in sorted(on_disk.items())]
    return ArchiveVerdict(reports_dir, tuple(findings), tuple(runs),
                          entries[-1].hash if entries else None)


def summary_json(verdict: RunVerdict) -> str:
    return json.dumps({"run": verdict.run, "ok": verdict.ok,
                       "findings": [str(f) for f in verdict.findings],
                       "notes": list(verdict.notes), "signed_by": verdict.signed_by,
                       "final_digest": verdict.final_digest}, ensure_ascii=False)


def seal(reports_dir: Path, run_dir: Path, key_path: Path | None) -> archive_index.IndexEntry:
    """Seal with an explicit key (None: unsigned); `archive_index.append_run` looks the
    key up itself."""
    signer = signing.load_signer(key_path) if key_path is not None else None
    return archive_index.append_run(reports_dir, run_dir, signer=signer, sign=signer is not None)
