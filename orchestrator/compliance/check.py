"""`drill check`: the static clauses, then the live ones when asked or when the lab runs."""

from __future__ import annotations

from pathlib import Path

from orchestrator.compliance.clauses import CheckReport
from orchestrator.compliance.live import check_live, lab_running, lab_state_dir
from orchestrator.compliance.static import check_static, load_for_check
from orchestrator.config.inventory import load_inventory


def run_check(path: Path, home: Path, live: bool | None = None) -> CheckReport:
    """live=None: live checks only for a lab inventory whose lab is running."""
    ci = load_for_check(path)
    inv = ci.inventory
    state = lab_state_dir(inv, home) if inv.environment.is_lab else None
    running = state is not None and lab_running(state)
    rows = check_static(ci, lab_state=state)
    if live is None:
        live = running
    if live:
        # A running lab may have been started with --gateways N: probe what actually runs.
        effective = state / "inventory.yml" if running and state is not None else None
        live_inv = load_inventory(effective) if effective and effective.is_file() else inv
        rows += check_live(live_inv, state if running else None)
    return CheckReport(environment=inv.environment.name, inventory=str(path), rows=tuple(rows))
