"""`drill check`: the static clauses, then the live ones when asked or when the lab runs."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from orchestrator.compliance.clauses import CheckReport, CheckRow, Status, msg, row
from orchestrator.compliance.live import check_live, lab_running, lab_state_dir, live_inventory
from orchestrator.compliance.router_live import check_router_ports
from orchestrator.compliance.static import check_static, load_for_check
from orchestrator.model.hours import CALENDAR_AHEAD, calendar_gaps
from orchestrator.model.inventory import Inventory


def run_check(path: Path, home: Path, live: bool | None = None, today: date | None = None) -> CheckReport:
    """live=None: live checks only for a lab inventory whose lab is running. Warns of each
    year from `today` (the environment's) to `CALENDAR_AHEAD` later that no holiday calendar covers."""
    ci = load_for_check(path)
    inv = ci.inventory
    state = lab_state_dir(inv, home) if inv.environment.is_lab else None
    running = state is not None and lab_running(state)
    rows = check_static(ci, lab_state=state)
    if live is None:
        live = running
    if live:
        live_state = state if running else None
        rows += check_live(live_inventory(inv, live_state), live_state)
        rows += check_router_ports(path, inv)  # the line routers' real ports (R-NET-2a/2b)
    rows += log_retention(inv, bool(live))
    if today is None:
        today = datetime.now(ZoneInfo(inv.environment.timezone)).date()
    return CheckReport(environment=inv.environment.name, inventory=str(path), rows=tuple(rows),
                       language=inv.environment.language,
                       warnings=calendar_gaps(inv, today, today + CALENDAR_AHEAD))


def log_retention(inv: Inventory, live: bool) -> list[CheckRow]:
    """R-SEC-2: each gateway host's and the log server's settings, read over SSH when live;
    otherwise one "not tested" row saying why (it is never judged from the inventory)."""
    if inv.environment.is_lab:
        why = msg("cc_why_lab")
    elif not live:
        why = msg("cc_why_needs_live")
    else:
        from orchestrator.compliance.log_hosts import check_log_retention

        return check_log_retention(inv)
    return [row("R-SEC-2", "static", Status.NOT_TESTED, msg("cc_not_tested", why=why))]
