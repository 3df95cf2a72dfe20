"""Where a drill project lives: drills/, playbooks/, inventories/ and reports/."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from orchestrator.errors import InputError, Problem

_MARKERS = ("drills", "playbooks", "inventories")
_SHARE = Path("share") / "drill-orchestrator"


@dataclass(frozen=True)
class Project:
    root: Path
    bundled: bool = False

    @property
    def drills_dir(self) -> Path:
        return self.root / "drills"

    @property
    def playbooks_dir(self) -> Path:
        return self.root / "playbooks"

    @property
    def inventories_dir(self) -> Path:
        return self.root / "inventories"

    @property
    def reports_dir(self) -> Path:
        """The run archive: the project's reports/, the same from any folder. The shipped
        project may sit in read-only site data: then $DRILL_HOME/reports (never the
        current folder, which would make the archive depend on where one stands)."""
        if self.bundled and not os.access(self.root, os.W_OK):
            return drill_home() / "reports"
        return self.root / "reports"

    def inventory_path(self, name_or_path: str | Path) -> Path:
        """Resolve `lab` to inventories/lab, or accept a path as given."""
        candidate = Path(name_or_path)
        if candidate.exists():
            return candidate
        named = self.inventories_dir / str(name_or_path)
        if named.exists():
            return named
        known = sorted(p.name for p in self.inventories_dir.iterdir()) if self.inventories_dir.is_dir() else []
        raise InputError(
            Problem(str(name_or_path), None, "--inventory",
                    f"no such inventory; expected a path or one of: {', '.join(known) or 'none'}")
        )


def _is_project(path: Path) -> bool:
    return all((path / m).is_dir() for m in _MARKERS)


def bundled_root() -> Path | None:
    """The project shipped with drill: the source tree, or share/ of an installed wheel."""
    source = Path(__file__).resolve().parents[2]
    if _is_project(source):
        return source
    for prefix in (sys.prefix, sys.base_prefix):
        candidate = Path(prefix) / _SHARE
        if _is_project(candidate):
            return candidate
    return None


def find_project(explicit: Path | None = None, cwd: Path | None = None) -> Project:
    if explicit is not None:
        if not _is_project(explicit):
            raise InputError(Problem(str(explicit), None, "--project",
                                     "not a drill project; expected drills/, playbooks/ and inventories/"))
        return Project(explicit.resolve())
    here = (cwd or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if _is_project(folder):
            return Project(folder)
    shipped = bundled_root()
    if shipped is None:
        raise InputError("no drill project found and none shipped; run `drill init DIR`")
    return Project(shipped, bundled=True)


def drill_home() -> Path:
    """Per-user state: locks and lab state. DRILL_HOME overrides (tests use a temp dir)."""
    env = os.environ.get("DRILL_HOME")
    return Path(env) if env else Path.home() / ".local" / "state" / "drill"


def drill_files(folder: Path) -> list[Path]:
    """The drill files of a drills/ folder, by name: *.yaml and *.yml, hidden ones skipped."""
    return sorted(p for p in Path(folder).iterdir()
                  if p.suffix in (".yaml", ".yml") and p.is_file() and not p.name.startswith("."))


def init_project(dest: Path) -> Path:
    """Copy the shipped drills, playbooks and inventories into a new project folder.

    Refuses a folder that exists and is not empty, so nothing of the firm's is overwritten.
    """
    import shutil

    dest = Path(dest).expanduser()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise InputError(Problem(str(dest), None, "DIR",
                                 "not empty; expected a new or empty folder for the project"))
    shipped = bundled_root()
    if shipped is None:
        raise InputError("drill was installed without its shipped project (share/drill-orchestrator)")
    dest.parent.mkdir(parents=True, exist_ok=True)
    # Build beside DIR and move it in whole: a failed copy leaves no half project.
    staging = dest.parent / f".{dest.name}.init-{os.getpid()}"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")
    try:
        staging.mkdir()
        for name in _MARKERS:
            shutil.copytree(shipped / name, staging / name, ignore=ignore)
        (staging / ".gitignore").write_text("reports/\n", encoding="utf-8")
        os.replace(staging, dest)  # replaces an empty DIR too
    except OSError as e:
        shutil.rmtree(staging, ignore_errors=True)
        raise InputError(Problem(str(dest), None, "DIR", f"cannot create the project: {e}")) from None
    return dest.resolve()
