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
            say: Callable[[str], None] = lambda _m: None) -> Prepared:
    """Open the inventory's target (starting a lab that is down when `start_lab`), load
    the drill and resolve it against the inventory the target runs."""
    from orchestrator.config.resolve import resolve
    from orchestrator.config.scenario import find_drill

    opened = open_target(Path(inventory_path), drill_home, start=start_lab, say=say)
    drill = find_drill(Path(project_root) / "drills", drill_id)
    resolved = resolve(drill, opened.inventory, overrides)
    return Prepared(resolved, opened.inventory, opened.target, opened.started)


def run_drill(drill_id: str, inventory_path: Path, options: RunOptions, *,
              say: Callable[[str], None] = lambda _m: None, announce: bool = True) -> RunOutcome:
    """`drill run`: prepare, say what runs where (`announce`), run, return the outcome."""
    from orchestrator.engine.runner import Engine

    prepared = prepare(options.project_root, drill_id, inventory_path, options.overrides,
                       options.drill_home, say=say)
    if announce:
        say(f"drill {drill_id} on {prepared.inventory.environment.name} "
            f"({len(prepared.inventory.gateways)} gateways)")
    outcome = Engine(prepared.resolved, prepared.inventory, options, prepared.target).run()
    return dataclasses.replace(outcome, lab_started=prepared.started)
