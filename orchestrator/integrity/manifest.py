"""The ansible-runner artifacts' manifest, `ansible/manifest.json`: one file binding every
artifact a run's playbooks left, itself bound by run.end (docs/journal.md, "ansible-runner
artifacts"); `drill verify` checks it (orchestrator.integrity.verify)."""

from __future__ import annotations

import json
from pathlib import Path

from orchestrator.adapters.atomic import write_atomic
from orchestrator.journal.chain import canonical
from orchestrator.journal.runfolder import ANSIBLE_MANIFEST, sha256_file

_MANIFEST_FORMAT = "drill-ansible-manifest-v1"


def ansible_files(run_dir: Path) -> dict[str, str]:
    """Every file kept under ansible/ (but the manifest): {path in the run folder: sha256}."""
    root = Path(run_dir) / "ansible"
    if not root.is_dir():
        return {}
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(run_dir).as_posix()
        if rel != ANSIBLE_MANIFEST and p.is_file():
            out[rel] = sha256_file(p)
    return out


def manifest_bytes(run_id: str, files: dict[str, str]) -> bytes:
    return canonical({"format": _MANIFEST_FORMAT, "run": run_id, "files": files}) + b"\n"


def write_ansible_manifest(run_dir: Path) -> str | None:
    """Bind the redacted ansible-runner artifacts: one manifest of their hashes, itself
    bound by run.end (journal.md). Written once every playbook is over; returns its sha256,
    None when the run kept no artifacts."""
    run_dir = Path(run_dir)
    files = ansible_files(run_dir)
    if not files:
        return None
    data = manifest_bytes(run_dir.name, files)
    return write_atomic(run_dir / ANSIBLE_MANIFEST, data)


def read_ansible_manifest(run_dir: Path) -> dict[str, str]:
    """{path: sha256} of a manifest; ValueError when it is not one."""
    data = (Path(run_dir) / ANSIBLE_MANIFEST).read_bytes()
    raw = json.loads(data)
    if not isinstance(raw, dict) or raw.get("format") != _MANIFEST_FORMAT:
        raise ValueError("not a drill ansible manifest")
    files = raw.get("files")
    if not isinstance(files, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                              for k, v in files.items()):
        raise ValueError("files is not a {path: sha256} object")
    if raw.get("run") != Path(run_dir).name:
        raise ValueError(f"belongs to run {raw.get('run')!r}, not this folder")
    return files
