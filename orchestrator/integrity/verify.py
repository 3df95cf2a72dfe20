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

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from orchestrator.archive import index as archive_index
from orchestrator.integrity import renders, signing
from orchestrator.journal.chain import Record, canonical, first_bad_record
from orchestrator.journal.runfolder import ANSIBLE_MANIFEST, RENDERS, read_ansible_manifest, sha256_file

JOURNAL = "journal.jsonl"


@dataclass(frozen=True)
class Finding:
    """One integrity problem: `where` is a file relative to the archive or run folder."""

    where: str
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.where}:{self.line}: {self.message}" if self.line else f"{self.where}: {self.message}"


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


@dataclass(frozen=True)
class Trust:
    """Which public keys a signature may come from. Empty `keys`: any key kept in the
    archive's keys/ folder (an archive-only check; pin the firm's key with --key)."""

    keys: frozenset[str] = frozenset()  # fingerprints
    require_signature: bool = False


def _safe_rel(path: str) -> bool:
    p = PurePosixPath(path)
    return bool(p.parts) and not p.is_absolute() and ".." not in p.parts


def _top(path: str) -> str:
    """The first folder (or the file name) of a run-folder path."""
    parts = PurePosixPath(path).parts
    return parts[0] if parts else ""


@dataclass
class _Run:
    """Working state while one run is checked."""

    dir: Path
    label: str
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def bad(self, where: str, message: str, line: int | None = None) -> None:
        self.findings.append(Finding(f"{self.label}/{where}", line, message))


def verify_run(run_dir: Path, reports_dir: Path | None = None, trust: Trust = Trust(),
               index: list[archive_index.IndexEntry] | None = None) -> RunVerdict:
    """Check one run folder. `index`: entries already read (verify --all reads once)."""
    run_dir = Path(run_dir)
    st = _Run(run_dir, run_dir.name)
    journal = run_dir / JOURNAL
    if not journal.is_file():
        st.bad(JOURNAL, "missing")
        return RunVerdict(run_dir.name, run_dir, tuple(st.findings))
    bad = first_bad_record(journal)
    if bad is not None:
        st.bad(JOURNAL, f"record {bad[0]}: {bad[1]}", bad[0])
        return RunVerdict(run_dir.name, run_dir, tuple(st.findings))
    records, malformed = _load_records(journal)
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
            entries = _read_index_for_run(st, reports_dir)
        if entries is not None:
            _check_index_entries(st, records, entries, run_dir, reports_dir, signed_by, trust)
    else:
        st.notes.append("archive index not checked (no archive folder given)")
    return RunVerdict(run_dir.name, run_dir, tuple(st.findings), tuple(st.notes), signed_by,
                      final.hash)


_FIELDS = {"seq": int, "ts_ns": int, "kind": str, "run": str, "data": dict, "prev": str,
           "hash": str}


def _load_records(journal: Path) -> tuple[list[Record], tuple[int, str] | None]:
    """Records of a journal whose chain is sound; a record missing a field or holding one
    of the wrong type (a re-chained forgery can hold anything) is named, not a crash."""
    out = []
    with open(journal, "rb") as fh:
        for lineno, line in enumerate(fh, 1):
            raw = json.loads(line)
            for name, kind in _FIELDS.items():
                if not isinstance(raw.get(name), kind) or isinstance(raw.get(name), bool):
                    return out, (lineno, f"field {name!r} missing or not {kind.__name__}")
            out.append(Record(raw["seq"], raw["ts_ns"], raw["kind"], raw["run"], raw["data"],
                              raw["prev"], raw["hash"], raw))
    return out, None


def _check_shape(st: _Run, records: list[Record]) -> None:
    if records[0].kind != "run.start":
        st.bad(JOURNAL, f"first record is {records[0].kind!r}, expected run.start", 1)
    for r in records:
        if r.run != st.dir.name:
            st.bad(JOURNAL, f"record {r.seq + 1} belongs to run {r.run!r}, not this folder",
                   r.seq + 1)
            break
    if not any(r.kind == "run.end" for r in records):
        st.bad(JOURNAL, "no run.end record: the run is unfinished; run `drill recover`")


def _bindings(st: _Run, records: list[Record]) -> dict[str, tuple[str, int]]:
    """path -> (sha256, journal line) of the latest record binding it."""
    bound: dict[str, tuple[str, int]] = {}
    for r in records:
        pairs: Iterable[tuple[object, object]] = ()
        if r.kind == "run.end":
            arts = r.data.get("artifacts") or {}
            pairs = arts.items() if isinstance(arts, dict) else ()
        elif r.kind in ("report.file", "evidence.file"):
            pairs = [(r.data.get("path"), r.data.get("sha256"))]
        for path, digest in pairs:
            if not isinstance(path, str) or not _safe_rel(path) or not isinstance(digest, str):
                st.bad(JOURNAL, f"{r.kind} binds an unusable path {path!r}", r.seq + 1)
                continue
            bound[path] = (digest, r.seq + 1)
    return bound


def _check_files(st: _Run, records: list[Record]) -> set[str]:
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


def _check_manifest(st: _Run, line: int) -> set[str]:
    try:
        files = read_ansible_manifest(st.dir)
    except (OSError, ValueError) as e:
        st.bad(ANSIBLE_MANIFEST, f"unreadable: {e}")
        return set()
    for path, digest in sorted(files.items()):
        file = st.dir / path
        if not _safe_rel(path) or _top(path) != "ansible":
            st.bad(ANSIBLE_MANIFEST, f"lists a path outside ansible/: {path!r}")
        elif not file.is_file():
            st.bad(path, f"missing (listed in {ANSIBLE_MANIFEST}, bound by journal record {line})")
        elif sha256_file(file) != digest:
            st.bad(path, f"sha256 differs from {ANSIBLE_MANIFEST} (bound by journal record {line})")
    return set(files)


# Files a sealed run folder holds that no hash binds, by design: they carry their own proof.
UNBOUND_BY_DESIGN = (JOURNAL, signing.SIG_FILE, RENDERS)


def _check_unbound(st: _Run, covered: set[str]) -> None:
    """A file added after the run (forged evidence, a planted log) is bound by nothing."""
    for p in sorted(st.dir.rglob("*")):
        rel = p.relative_to(st.dir).as_posix()
        if (p.is_file() or p.is_symlink()) and rel not in covered \
                and rel not in UNBOUND_BY_DESIGN:
            st.bad(rel, "not bound by any journal record")


def _check_renders(st: _Run, final: Record, reports_dir: Path | None, trust: Trust,
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
        if path in sealed or path in UNBOUND_BY_DESIGN or _top(path) in ("evidence", "ansible"):
            st.bad(RENDERS, f"render record {e.seq + 1} claims a sealed file {path!r}", e.seq + 1)
        elif not file.is_file():
            st.bad(path, f"missing (a later render, {RENDERS} record {e.seq + 1})")
        elif sha256_file(file) != e.sha256:
            st.bad(path, f"sha256 differs from {RENDERS} record {e.seq + 1} (a later render)")
    return {p for p, e in latest.items() if not e.outside}


def _render_key(st: _Run, e: renders.RenderEntry, reports_dir: Path | None, trust: Trust,
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


def _trusted_key(st: _Run, sig: signing.RunSignature, reports_dir: Path | None,
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


def _check_signature(st: _Run, final: Record, reports_dir: Path | None,
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


def _read_index_for_run(st: _Run, reports_dir: Path) -> list[archive_index.IndexEntry] | None:
    path = reports_dir / archive_index.INDEX_FILE
    if not path.is_file():
        st.findings.append(Finding(archive_index.INDEX_FILE, None,
                                   f"archive index missing in {reports_dir}"))
        return None
    entries, problem = archive_index.read_index(reports_dir)
    if problem is not None:
        st.findings.append(Finding(archive_index.INDEX_FILE, problem.line, problem.message))
    return entries


def _check_index_entries(st: _Run, records: list[Record], entries: list[archive_index.IndexEntry],
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
    if ends and hashlib.sha256(canonical(dict(ends[-1].raw))).hexdigest() != last.run_end_sha256:
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
    if ends and last.status != ends[-1].data.get("status"):
        st.findings.append(Finding(archive_index.INDEX_FILE, last.seq + 1,
                                   f"run {last.run}: status {last.status!r} differs from run.end"))
    if rel is not None and last.year != rel.split("/", 1)[0]:
        st.findings.append(Finding(archive_index.INDEX_FILE, last.seq + 1,
                                   f"run {last.run}: year {last.year!r} differs from its folder"))


def _check_entry_sig(st: _Run, e: archive_index.IndexEntry, reports_dir: Path,
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


def run_folders(reports_dir: Path) -> list[Path]:
    """Run folders on disk: reports/<year>/<run id>/ holding a journal."""
    return sorted(p.parent for p in reports_dir.glob(f"*/*/{JOURNAL}"))


def verify_archive(reports_dir: Path, trust: Trust = Trust(),
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
        if not _safe_rel(e.path):
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
