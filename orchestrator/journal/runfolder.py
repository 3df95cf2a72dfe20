"""Run folders, run ids and the registry of unfinished runs (docs/run-folder.md)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from orchestrator.journal.reader import read_journal

RUN_ID = re.compile(r"^(\d{8}T\d{6}Z)-([a-z0-9-]+)-([0-9a-f]{6})$")


def new_run_id(drill_id: str, now_ns: int | None = None) -> str:
    now_ns = time.time_ns() if now_ns is None else now_ns
    stamp = datetime.fromtimestamp(now_ns / 1e9, UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{drill_id}-{secrets.token_hex(3)}"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


ANSIBLE_MANIFEST = "ansible/manifest.json"
RENDERS = "renders.jsonl"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "step"


@dataclass(frozen=True)
class RunFolder:
    """Every path of one run; nothing else builds them by hand."""

    path: Path
    run_id: str

    @classmethod
    def create(cls, reports_dir: Path, drill_id: str, timezone: str = "Asia/Shanghai",
               now_ns: int | None = None, run_id: str | None = None) -> RunFolder:
        now_ns = time.time_ns() if now_ns is None else now_ns
        run_id = run_id or new_run_id(drill_id, now_ns)
        year = datetime.fromtimestamp(now_ns / 1e9, ZoneInfo(timezone)).year
        folder = cls(Path(reports_dir) / str(year) / run_id, run_id)
        folder.path.mkdir(parents=True, exist_ok=False)
        folder.evidence.mkdir()
        return folder

    @classmethod
    def open(cls, path: Path) -> RunFolder:
        return cls(Path(path), Path(path).name)

    @property
    def journal(self) -> Path:
        return self.path / "journal.jsonl"

    @property
    def signature(self) -> Path:
        return self.path / "journal.sig"

    @property
    def ansible_manifest(self) -> Path:
        return self.path / ANSIBLE_MANIFEST

    @property
    def renders(self) -> Path:
        return self.path / RENDERS

    @property
    def evidence(self) -> Path:
        return self.path / "evidence"

    @property
    def probes(self) -> Path:
        return self.evidence / "probes.jsonl.gz"

    @property
    def gateway_events(self) -> Path:
        return self.evidence / "gateway-events.jsonl.gz"

    @property
    def lab_truth(self) -> Path:
        return self.evidence / "lab-truth.jsonl.gz"

    @property
    def evidence_files(self) -> Path:
        return self.evidence / "files"

    def ansible_dir(self, index: int, name: str) -> Path:
        return self.path / "ansible" / f"{index:02d}-{_slug(name)}"

    @property
    def report_html(self) -> Path:
        return self.path / "report.html"

    @property
    def report_json(self) -> Path:
        return self.path / "report.json"

    def relative(self, path: Path) -> str:
        return str(Path(path).relative_to(self.path))


def index_path(reports_dir: Path) -> Path:
    return Path(reports_dir) / "index.jsonl"


def iter_run_dirs(reports_dir: Path) -> Iterator[Path]:
    reports_dir = Path(reports_dir)
    if not reports_dir.is_dir():
        return
    for year in sorted(p for p in reports_dir.iterdir() if p.is_dir() and p.name.isdigit()):
        for run in sorted(year.iterdir()):
            if RUN_ID.match(run.name) and (run / "journal.jsonl").is_file():
                yield run


# Unfinished runs are registered under DRILL_HOME so that `drill run` finds them whichever
# project or --reports folder they were written to.


def _registry(home: Path, environment: str) -> Path:
    return Path(home) / "runs" / environment


def register_active(home: Path, environment: str, folder: RunFolder) -> Path:
    reg = _registry(home, environment)
    reg.mkdir(parents=True, exist_ok=True)
    entry = reg / f"{folder.run_id}.json"
    tmp = entry.with_suffix(".tmp")
    tmp.write_text(json.dumps({"run_id": folder.run_id, "path": str(folder.path.resolve())}))
    os.replace(tmp, entry)
    return entry


def unregister_active(home: Path, environment: str, run_id: str) -> None:
    (_registry(home, environment) / f"{run_id}.json").unlink(missing_ok=True)


def unfinished_runs(home: Path, environment: str, reports_dirs: tuple[Path, ...] = ()) -> list[Path]:
    """Run folders of `environment` whose journal has no run.end."""
    found: dict[str, Path] = {}
    reg = _registry(home, environment)
    if reg.is_dir():
        for entry in sorted(reg.glob("*.json")):
            try:
                path = Path(json.loads(entry.read_text())["path"])
            except (ValueError, KeyError, OSError):
                continue
            if not (path / "journal.jsonl").is_file():
                entry.unlink(missing_ok=True)  # folder gone: nothing left to recover
                continue
            found[path.name] = path
    for reports in reports_dirs:
        for run in iter_run_dirs(reports):
            found.setdefault(run.name, run)
    result = []
    for name in sorted(found):
        try:
            journal = read_journal(found[name] / "journal.jsonl")
        except (OSError, ValueError):
            continue
        start = journal.start
        if not journal.finished and (start.environment if start else None) in (environment, None):
            result.append(found[name])
        elif journal.finished:
            unregister_active(home, environment, name)
    return result


# When the run folder's disk fills up (or turns read-only) the journal carries on in a
# continuation file on another filesystem, and the playbooks' artifacts beside it
# (docs/journal.md, "Disk full"): `$DRILL_HOME/fallback/`, else `/dev/shm/drill-<uid>/`,
# else the system's temporary folder; the first that is not on the run folder's disk.


def fallback_dirs(home: Path) -> tuple[Path, ...]:
    import tempfile

    uid = os.getuid()
    return (Path(home) / "fallback", Path("/dev/shm") / f"drill-{uid}",
            Path(tempfile.gettempdir()) / f"drill-{uid}-fallback")


def _device(path: Path) -> int | None:
    for p in (Path(path), *Path(path).absolute().parents):
        try:
            return p.stat().st_dev
        except OSError:
            continue
    return None


def fallback_dir(home: Path, near: Path) -> Path | None:
    """The first fallback folder not on the disk of `near` that can be created, or None."""
    for folder in fallback_dirs(home):
        if _device(folder) == _device(near):
            continue
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        return folder
    return None


def fallback_journal(home: Path, run_id: str) -> Path | None:
    """A run's journal continuation, if the run wrote one (see fallback_dirs)."""
    for folder in fallback_dirs(home):
        path = folder / f"{run_id}.journal.jsonl"
        if path.is_file():
            return path
    return None


def fallback_manifest(continuation: Path) -> Path:
    """Where the Ansible manifest of a run in fallback waits: beside its continuation."""
    return Path(str(continuation).removesuffix(".journal.jsonl") + ".ansible-manifest.json")
