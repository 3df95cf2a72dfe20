"""The live half of `drill check`: gateways' monitors, the lab's session table, BJ ports."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator.compliance.clauses import Arg, CheckRow, Msg, Raw, Status, msg, row, seq, service
from orchestrator.model.inventory import SHENZHEN, Gateway, Inventory
from orchestrator.probes.identity import reported_mismatch

TIMEOUT_S = 2.0


@dataclass(frozen=True)
class MonitorView:
    gateway: str
    ok: bool                   # the monitor answered
    state: str | None
    centre: str | None
    servers: tuple[tuple[str, str], ...]   # (centre, address:port) from the loaded config
    error: str | None = None
    identity: str | None = None  # why the monitor is not this gateway's (issue 13), else None


def lab_state_dir(inv: Inventory, home: Path) -> Path:
    from orchestrator.targets.lab import state_dir

    return state_dir(inv.environment.name, home)


def lab_running(state: Path) -> bool:
    from orchestrator.targets.lab import is_running

    return is_running(state)


def live_inventory(inv: Inventory, running_state: Path | None) -> Inventory:
    """What to probe: a running lab's effective inventory (it may have been started with
    --gateways N), else the inventory as given."""
    if running_state is None:
        return inv
    from orchestrator.targets.lab import effective_inventory

    return effective_inventory(running_state) or inv


def read_monitor(gw: Gateway, timeout: float = TIMEOUT_S) -> MonitorView:
    if gw.monitor is None:  # observe: host with no monitor (docs/observers.md)
        return MonitorView(gw.id, False, None, None, (), error="it has no monitor (observe: host)")
    url = f"http://{gw.monitor.address}:{gw.monitor.port}/status"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            body = json.loads(resp.read())
    except (OSError, urllib.error.URLError, ValueError) as e:
        return MonitorView(gw.id, False, None, None, (), error=str(e))
    servers = tuple((str(s.get("centre", "?")), f"{s.get('address')}:{s.get('port')}")
                    for s in ((body.get("config") or {}).get("servers") or ()))
    return MonitorView(gw.id, True, body.get("state"), body.get("centre"), servers,
                       identity=reported_mismatch(gw.id, gw.monitor, body))


def lab_sessions(state: Path, timeout: float = TIMEOUT_S) -> Counter[str] | None:
    """Sessions per gateway id from the lab's control `status`; None when it cannot say."""
    from orchestrator.errors import DrillError
    from orchestrator.lab.control import LabClient

    try:
        status = LabClient(state, timeout=timeout).status()
    except (DrillError, OSError, ValueError):
        return None
    return _count_sessions(status)


def _count_sessions(status: Any) -> Counter[str] | None:
    sessions = status.get("sessions") if isinstance(status, dict) else None
    counts: Counter[str] = Counter()
    if isinstance(sessions, list):
        for s in sessions:
            if isinstance(s, dict) and s.get("gateway"):
                counts[str(s["gateway"])] += 1
        return counts
    if isinstance(sessions, dict):
        # {"FT/NF": [...], "BJ": [...]} or {gateway: n}
        for key, val in sessions.items():
            if isinstance(val, list):
                for s in val:
                    if isinstance(s, dict) and s.get("gateway"):
                        counts[str(s["gateway"])] += 1
            elif isinstance(val, int):
                counts[str(key)] += val
        return counts
    return None


def tcp_answers(address: str, port: int, timeout: float = TIMEOUT_S) -> str | None:
    """None when a TCP connect succeeds, else the error."""
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return None
    except OSError as e:
        return str(e) or type(e).__name__


def check_live(inv: Inventory, lab_state: Path | None) -> list[CheckRow]:
    views = [read_monitor(gw) for gw in inv.gateways]
    sessions = lab_sessions(lab_state) if lab_state is not None else None
    return [_logged_in_once(inv, views, sessions), _configs(inv, views), _bj_ports(inv)]


def _row(clause: str, status: Status, message: Msg) -> CheckRow:
    return row(clause, "live", status, message)


def _logged_in_once(inv: Inventory, views: list[MonitorView],
                    sessions: Counter[str] | None) -> CheckRow:
    problems: list[Arg] = []
    for v in views:
        if not v.ok:
            problems.append(msg("cc_monitor_silent", gateway=v.gateway, error=Raw(str(v.error))))
        elif v.identity is not None:
            problems.append(msg("cc_identity", detail=Raw(v.identity)))
        elif v.state != "logged_in":
            problems.append(msg("cc_gw_state", gateway=v.gateway, state=str(v.state)))
    if sessions is not None:
        for gid, n in sorted(sessions.items()):
            if n > 1:
                problems.append(msg("cc_double_sessions", gateway=gid, n=str(n)))
        for gw in inv.gateways:
            if sessions.get(gw.id, 0) == 0 and not gw.satellite_only:
                problems.append(msg("cc_no_session", gateway=gw.id))
    else:
        # No exchange view: two monitors claiming the same id logged in is a double login.
        claimed = Counter(v.gateway for v in views if v.state == "logged_in")
        problems += [msg("cc_on_monitors", gateway=g, n=str(n)) for g, n in claimed.items() if n > 1]
    where = msg("cc_where_sessions" if sessions is not None else "cc_where_monitors")
    if problems:
        return _row("R-APP-5", Status.FAIL, msg("cc_text", text=seq(problems)))
    return _row("R-APP-5", Status.PASS,
                msg("cc_logged_in_once", n=str(len(views)), where=where,
                    gateways=seq((f"{v.gateway}@{v.centre}" for v in views), ", ")))


def _configs(inv: Inventory, views: list[MonitorView]) -> CheckRow:
    problems: list[Arg] = []
    seen: list[Arg] = []
    for v in views:
        if not v.ok:
            continue
        expected = inv.server_order(v.gateway)
        exp_eps = [str(ep) for _, ep in expected]
        got_eps = [ep for _, ep in v.servers]
        got = [c for c, _ in v.servers if c in SHENZHEN]
        if got_eps[: len(exp_eps)] != exp_eps:
            problems.append(msg("cc_loaded_lists", gateway=v.gateway,
                                got=seq(got_eps, "→", msg("cc_nothing")), centres="→".join(got),
                                expected="→".join(exp_eps)))
        else:
            seen.append(f"{v.gateway} {'→'.join(c for c, _ in expected)}")
    if problems:
        return _row("R-APP-3", Status.FAIL, msg("cc_text", text=seq(problems)))
    if not seen:
        return _row("R-APP-3", Status.WARN, msg("cc_no_monitor"))
    return _row("R-APP-3", Status.PASS, msg("cc_loaded_configs", configs=seq(seen)))


def _bj_ports(inv: Inventory) -> CheckRow:
    dr = [c for c in inv.centres if c.role == "dr"]
    if not dr:
        return _row("R-DR-2", Status.WARN, msg("cc_no_dr_centre"))
    services = sorted({gw.service_name for gw in inv.gateways if not gw.satellite_only})
    problems: list[Arg] = []
    ok: list[Arg] = []
    for centre in dr:
        for svc in services:
            ep = centre.services.get(svc)
            if ep is None:
                problems.append(msg("cc_no_service", centre=centre.id, service=service(svc)))
                continue
            err = tcp_answers(ep.address, ep.port)
            port = msg("cc_port", centre=centre.id, service=service(svc), endpoint=str(ep))
            (problems.append(msg("cc_port_error", port=port, error=Raw(err))) if err
             else ok.append(port))
    if problems:
        return _row("R-DR-2", Status.FAIL, msg("cc_bj_silent", problems=seq(problems)))
    return _row("R-DR-2", Status.PASS, msg("cc_answering", ports=seq(ok, ", ")))
