"""Choosing a target: once, by name (the inventory's environment kind decides the name)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType

from orchestrator.config.inventory import load_inventory
from orchestrator.model.inventory import Inventory
from orchestrator.targets import lab
from orchestrator.targets.base import Opened, Target
from orchestrator.targets.hosts import HostsTarget

Say = Callable[[str], None]


def _open_hosts(inventory_path: Path, inv: Inventory, drill_home: Path, start: bool,
                say: Say) -> Opened:
    return Opened(HostsTarget(), inv)


def _open_lab(inventory_path: Path, inv: Inventory, drill_home: Path, start: bool,
              say: Say) -> Opened:
    """The running lab (started first when `start`); a lab that is not running and may
    not be started is no lab to talk to: its monitors are all drill sees, as on hosts."""
    state = lab.state_dir(inv.environment.name, drill_home)
    started = False
    if not lab.is_running(state):
        if not start:
            return _open_hosts(inventory_path, inv, drill_home, start, say)
        from orchestrator.lab.control import lab_up

        say(f"Starting the lab {inv.environment.name!r} ({len(inv.gateways)} gateways) …")
        lab_up(inventory_path, drill_home=drill_home, wait=True)
        started = True
    return Opened(lab.LabTarget(state), lab.effective_inventory(state) or inv, started)


TARGETS: Mapping[str, Callable[[Path, Inventory, Path, bool, Say], Opened]] = MappingProxyType({
    "lab": _open_lab,
    "hosts": _open_hosts,
})


def target_name(inv: Inventory) -> str:
    return "lab" if inv.environment.is_lab else "hosts"


def open_target(inventory_path: Path, drill_home: Path, *, start: bool = False,
                say: Say = lambda _m: None, inventory: Inventory | None = None) -> Opened:
    """The target an inventory names, and the inventory it really runs."""
    inv = inventory if inventory is not None else load_inventory(inventory_path)
    return TARGETS[target_name(inv)](Path(inventory_path), inv, drill_home, start, say)


def target_for_run(state_dir: str | Path | None) -> Target:
    """The target a journaled run ran against (run.start's `lab_state_dir`)."""
    return lab.LabTarget(Path(state_dir)) if state_dir else HostsTarget()
