"""From a drill id and an inventory to a running engine: open the target (a lab inventory
means the running lab and its effective inventory), resolve the drill, run it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator.engine.options import RunOptions, RunOutcome
from orchestrator.model.inventory import Inventory
from orchestrator.targets import Target, open_target


@dataclass(frozen=True)
class Prepared:
    resolved: Any  # orchestrator.config.scenario.ResolvedDrill
    inventory: Inventory  # the one the target really runs
    target: Target
    started: bool  # opening the target started the lab

    @property
    def inventory_path(self) -> Path:
        return Path(self.inventory.path)


def prepare(project_root: Path, drill_id: str, inventory_path: Path,
            overrides: Mapping[str, str], drill_home: Path, *, start_lab: bool = True,
            check_lock: bool = False, options: RunOptions | None = None,
            say: Callable[[str], None] = lambda _m: None) -> Prepared:
    """Check everything first (the inventory, the drill, its playbooks, its parameters and,
    with `check_lock`, the environment's lock and unfinished runs; with `options`, on a lab,
    the run's own refusals), every input problem at once; only then open the inventory's
    target (starting a lab that is down when `start_lab`) and resolve the drill against
    the inventory the target runs."""
    from orchestrator.config.resolve import resolve

    inv, drill, first = checked(project_root, drill_id, inventory_path, overrides)
    if options is not None and inv.environment.is_lab:
        from orchestrator.engine.safety import preflight

        # The lab asks nothing here; a production preflight (which may ask for the
        # environment's name) runs once, in the engine, and starts nothing before it.
        preflight(first, inv, options)
    if check_lock:
        lock_free(drill_home, inv.environment.name)
        if options is not None:
            from orchestrator.engine.lock import writable_or_refuse

            writable_or_refuse(options.reports_dir, "the reports folder", "the run folder")
    opened = open_target(Path(inventory_path), drill_home, start=start_lab, say=say,
                         inventory=inv)
    resolved = resolve(drill, opened.inventory, overrides)
    return Prepared(resolved, opened.inventory, opened.target, opened.started)


def checked(project_root: Path, drill_id: str, inventory_path: Path,
            overrides: Mapping[str, str]) -> tuple[Inventory, Any, Any]:
    """The inventory, the drill and the drill resolved against that inventory, all valid,
    the drill's playbooks under the project's `playbooks/`; `InputError` lists every
    problem. No side effect."""
    from orchestrator.config.inventory import load_inventory
    from orchestrator.config.resolve import resolve
    from orchestrator.config.scenario import find_drill, playbook_problems
    from orchestrator.errors import InputError

    problems = []
    inv = drill = resolved = None
    try:
        inv = load_inventory(Path(inventory_path))
    except InputError as e:
        problems += e.problems
    try:
        drill = find_drill(Path(project_root) / "drills", drill_id)
    except InputError as e:
        problems += e.problems
    if drill is not None:
        problems += playbook_problems(drill, Path(project_root) / "playbooks")
        if inv is not None:
            try:
                resolved = resolve(drill, inv, overrides)
            except InputError as e:
                problems += e.problems
    if problems or inv is None or drill is None or resolved is None:
        raise InputError(problems)
    return inv, drill, resolved


def lock_free(drill_home: Path, environment: str) -> None:
    """Refuse (exit 4) before any side effect when the environment is locked by another
    run (live or stale) or has an unfinished run; the engine takes the lock itself."""
    from orchestrator.engine.lock import EnvironmentLock, writable_or_refuse
    from orchestrator.errors import RefusedError
    from orchestrator.journal.runfolder import unfinished_runs

    writable_or_refuse(drill_home, "DRILL_HOME",
                       "the environment lock, the lab's state and the unfinished-run registry")
    lock = EnvironmentLock(drill_home, environment)
    if lock.path.exists():
        raise lock.refusal()
    pending = unfinished_runs(drill_home, environment)
    if pending:
        raise RefusedError(f"environment {environment!r} has an unfinished run "
                           f"({pending[0].name}, {pending[0]}): run `drill recover` first")


def run_drill(drill_id: str, inventory_path: Path, options: RunOptions, *,
              say: Callable[[str], None] = lambda _m: None, announce: bool = True,
              handlers: tuple = ()) -> RunOutcome:
    """`drill run`: prepare, say what runs where (`announce`), run, return the outcome.
    `handlers`: more observers of the run's events (the CLI's console)."""
    from orchestrator.engine.progress import say as words
    from orchestrator.engine.runner import Engine

    prepared = prepare(options.project_root, drill_id, inventory_path, options.overrides,
                       options.drill_home, check_lock=True, options=options, say=say)
    if announce:
        say(words(options.lang, "console_announce", drill=drill_id,
                  environment=prepared.inventory.environment.name,
                  gateways=len(prepared.inventory.gateways)))
    outcome = Engine(prepared.resolved, prepared.inventory, options, prepared.target,
                     handlers=handlers).run()
    return dataclasses.replace(outcome, lab_started=prepared.started)
