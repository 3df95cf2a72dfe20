"""Closing a run folder (docs/run-folder.md, docs/journal.md): bind the evidence and the
ansible-runner artifacts, write the reports, then seal (sign + archive index). Called by
the engine at the end of every run and by `drill recover` closing a dead one."""

from __future__ import annotations

import hashlib
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from orchestrator.adapters.atomic import write_atomic
from orchestrator.integrity.manifest import ansible_files, manifest_bytes, write_ansible_manifest
from orchestrator.journal import records as jr
from orchestrator.journal.chain import read_records
from orchestrator.journal.runfolder import ANSIBLE_MANIFEST, fallback_manifest, sha256_file

if TYPE_CHECKING:
    from orchestrator.engine.runner import Engine


def collect_evidence(eng: Engine) -> None:
    eng.stop_observing()
    start_ns = next(read_records(eng.folder.journal)).ts_ns
    for note in eng.target.end_evidence(eng.folder, start_ns):
        eng.emit(jr.Note(note.message, dict(note.data)))
    for path in (eng.folder.probes, eng.folder.gateway_events, eng.folder.lab_truth):
        if path.exists():
            eng.emit(jr.EvidenceFile(eng.folder.relative(path), sha256_file(path),
                                     {"host": socket.gethostname(), "path": "drill"}))
    files = eng.folder.evidence_files
    if files.is_dir():
        for path in sorted(p for p in files.rglob("*") if p.is_file()):
            eng.emit(jr.EvidenceFile(eng.folder.relative(path), sha256_file(path),
                                     {"host": path.relative_to(files).parts[0],
                                      "path": "/" + "/".join(path.relative_to(files).parts[1:])}))


def write_reports(eng: Engine) -> dict[str, str]:
    artifacts: dict[str, str] = {}
    for path in sorted(p for p in eng.folder.evidence.rglob("*") if p.is_file()):
        artifacts[eng.folder.relative(path)] = sha256_file(path)
    if eng.journal.fallback is not None:
        # The run folder's disk failed: its journal lacks the tail, so a report rendered
        # now would be wrong. `drill recover` completes the journal; `drill report` renders.
        eng.emit(jr.Note("reports not written: the run folder could not be written",
                         {"journal_continues_in": str(eng.journal.fallback)}))
        # The manifest binding the artifacts already in the run folder waits beside the
        # journal's continuation; `drill recover` puts it in place (run.end binds it now).
        files = ansible_files(eng.folder.path)
        if files:
            data = manifest_bytes(eng.folder.run_id, files)
            write_atomic(fallback_manifest(eng.journal.fallback), data)
            artifacts[ANSIBLE_MANIFEST] = hashlib.sha256(data).hexdigest()
        return artifacts
    # Every playbook is over (recover ended the dead ones' process groups first).
    try:
        manifest = write_ansible_manifest(eng.folder.path)
    except OSError as e:
        manifest = None
        eng.emit(jr.Note("ansible manifest not written", {"error": f"{type(e).__name__}: {e}"}))
    if manifest is not None:
        artifacts[ANSIBLE_MANIFEST] = manifest
    try:
        from orchestrator.reports import write_run_reports

        written = write_run_reports(eng.folder.path, lang=eng.opt.lang,
                                    journal_digest=eng.journal.digest)
        digest = eng.journal.digest
        for rel, sha in written.items():
            eng.emit(jr.ReportFile(rel, sha, digest))
            artifacts[rel] = sha
    except Exception as e:  # a report failure is journaled, never fatal
        eng.emit(jr.Note("report not written", {"error": f"{type(e).__name__}: {e}"}))
    return artifacts


def index(eng: Engine) -> None:
    if eng.journal.fallback is not None:  # sealed by `drill recover` once the journal is whole
        return
    try:
        from orchestrator.integrity.index import append_run

        append_run(Path(eng.opt.reports_dir), eng.folder.path, signer=eng.opt.signer)
    except Exception as e:  # the run itself is sealed; say so and go on
        sys.stderr.write(f"warning: archive index not updated: {e}\n")
