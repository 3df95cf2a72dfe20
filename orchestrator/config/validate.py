"""`drill validate` as a library call: every drill file against the schema, the playbooks
and the inventory, every problem collected (the CLI only prints the outcome)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from orchestrator.config.project import Project, drill_files
from orchestrator.errors import InputError, Problem


@dataclass(frozen=True)
class ValidDrill:
    path: Path
    id: str


@dataclass(frozen=True)
class Validation:
    valid: tuple[ValidDrill, ...]  # in the order checked
    problems: tuple[Problem, ...]
    drills: int  # drill files that loaded, valid or not
    environment: str | None  # the inventory's, when it loaded
    language: str | None = None  # the inventory's environment.language (read once: P10)


def validate(project: Project, files: Sequence[Path], inventory: str | Path) -> Validation:
    """Check `files` (default: every drill of the project) against the inventory."""
    from orchestrator.config.inventory import load_inventory
    from orchestrator.config.resolve import resolve
    from orchestrator.config.scenario import load_drill, playbook_problems

    paths = list(files) or drill_files(project.drills_dir)
    problems: list[Problem] = []
    if not paths:
        problems.append(Problem(str(project.drills_dir), None, "", "no drill files found"))
    drills = []
    for path in paths:
        try:
            drills.append(load_drill(path))
        except InputError as e:
            problems += e.problems
    inv = None
    try:
        inv = load_inventory(project.inventory_path(inventory))
    except InputError as e:
        problems += e.problems
    seen: dict[str, Path] = {}
    valid: list[ValidDrill] = []
    for drill in drills:
        if drill.id in seen and seen[drill.id] != drill.path:
            problems.append(Problem(str(drill.path), drill.source.line(("id",)), "id",
                                    f"duplicate drill id; also in {seen[drill.id]}"))
        seen[drill.id] = drill.path
        found = playbook_problems(drill, playbooks_dir(drill.path, project.playbooks_dir))
        if inv is not None:
            try:
                resolve(drill, inv, {})
            except InputError as e:
                found += e.problems
        problems += found
        if not found:
            valid.append(ValidDrill(path=drill.path, id=drill.id))
    return Validation(valid=tuple(valid), problems=tuple(problems), drills=len(drills),
                      environment=inv.environment.name if inv is not None else None,
                      language=inv.environment.language if inv is not None else None)


def playbooks_dir(drill_path: Path, fallback: Path) -> Path:
    """The playbooks/ beside the drill's drills/ folder when it is in a project."""
    sibling = Path(drill_path).resolve().parent.parent / "playbooks"
    return sibling if sibling.is_dir() else fallback
