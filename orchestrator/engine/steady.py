"""Steady state (docs/steady-state.md): the gate before the fault and the after-check."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from orchestrator.journal.observations import SteadyCheck as Check  # gateway: or a line id, "*"
from orchestrator.model.hours import ALWAYS, FlowHours, flows_at
from orchestrator.model.inventory import SHENZHEN, Inventory
from orchestrator.model.run import NOT_APPLICABLE
from orchestrator.probes.monitor import fetch_many
from orchestrator.targets import EnvironmentView
from orchestrator.targets.host_read import HostRead

Observe = Callable[[], EnvironmentView | None]
Views = Callable[[], Mapping[str, Any]]  # gateway -> probes.monitor.GatewayView

MD_FRESH_S = 1.0
FLOW_CHECK = {"market_data": "md_flowing", "settlement": "settlement_ok"}
# A flow check failing where the inventory declares no service hours may be a drill at a
# time nothing flows: say how to tell drill so.
UNDECLARED_HINT = (" (if nothing flows at this hour, declare drill.service_hours: "
                   "docs/inventory.md)")
# Failures that no amount of waiting fixes (gateways reconnect by themselves; lines don't,
# and a gateway away from its home centre stays there until it is repointed).
WONT_HEAL = frozenset({"line_up", "centre_up", "config_unchanged", "config_order", "home_centre",
                       "shenzhen_centre"})


@dataclass(frozen=True)
class SteadyState:
    ok: bool
    checks: tuple[Check, ...]
    baseline: Mapping[str, str] = field(default_factory=dict)  # gateway -> config sha256

    @property
    def failures(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.ok)

    def describe_failures(self, limit: int = 10) -> str:
        bad = self.failures
        text = "; ".join(f"{c.gateway}: {c.check} ({c.detail})" for c in bad[:limit])
        return text + (f"; and {len(bad) - limit} more" if len(bad) > limit else "")


def flow_hours(inventory: Inventory, now: datetime | None = None, force: bool = False) -> FlowHours:
    """Which flows the gate and the measurements expect (docs/steady-state.md, service
    hours): decided once, at the gate, from the inventory's service hours and holidays."""
    return flows_at(inventory, now if now is not None else datetime.now(UTC), force)


def check(inventory: Inventory, baseline: Mapping[str, str] | None = None, *,
          observe: Observe | None = None,
          require_home: bool = False, at_gate: bool = False,
          views: Views | None = None, hours: FlowHours = ALWAYS) -> SteadyState:
    """One look at every gateway monitor, and at the environment's own view when the
    target has one (`observe`: `Target.environment_view`). `views`: what the run's
    observation knows of each `observe: host` gateway (from its log); those are judged
    from it, not from a monitor (docs/observers.md). A flow `hours` does not expect
    (outside service hours) is checked as not applicable: the gateway's live session
    to a Shenzhen centre is what steady means then."""
    hosted = views() if views is not None else {}
    endpoints = {g.id: (g.monitor.address, g.monitor.port) for g in inventory.gateways
                 if g.id not in hosted and g.monitor is not None}
    statuses = asyncio.run(fetch_many(endpoints))
    view = observe() if observe is not None else None
    sessions = view.sessions if view is not None else {}
    now_ns = time.time_ns()
    checks: list[Check] = []
    shas: dict[str, str] = {}
    hint = "" if hours.forced or inventory.service_hours is not None else UNDECLARED_HINT
    for gw in inventory.gateways:
        if gw.id in hosted:
            checks += _host_checks(inventory, gw, hosted[gw.id], require_home, hours)
            if view is not None and gw.id in sessions:
                n = sessions[gw.id]
                checks.append(Check(gw.id, "single_session", n == 1, f"{n} session(s) at the exchange"))
            continue
        st = statuses.get(gw.id)
        if isinstance(st, Exception) or not isinstance(st, Mapping):
            checks.append(Check(gw.id, "monitor", False, f"monitor {gw.monitor} does not answer: {st}"
                                if gw.monitor is not None else "no monitor, and its log is not followed"))
            continue
        state, centre = st.get("state"), st.get("centre")
        checks.append(Check(gw.id, "logged_in", state == "logged_in", f"state {state}"))
        if view is not None and gw.id in sessions:
            n = sessions[gw.id]
            checks.append(Check(gw.id, "single_session", n == 1, f"{n} session(s) at the exchange"))
        home = inventory.home_centre(gw)
        if require_home:
            checks.append(Check(gw.id, "home_centre", centre == home, f"on {centre}, home {home}"))
        else:
            checks.append(Check(gw.id, "shenzhen_centre", centre in SHENZHEN, f"on {centre}"))
        cfg = st.get("config") or {}
        sha = cfg.get("sha256")
        shas[gw.id] = sha
        if baseline is not None and gw.id in baseline:
            checks.append(Check(gw.id, "config_unchanged", sha == baseline[gw.id],
                                "as at the gate" if sha == baseline[gw.id] else
                                f"config sha256 {str(sha)[:12]} differs from the gate's {str(baseline[gw.id])[:12]}"))
        if at_gate:
            order = [s.get("centre") for s in cfg.get("servers") or []]
            want = [c for c, _ in inventory.server_order(gw)]
            checks.append(Check(gw.id, "config_order", order == want,
                                f"servers {order}, expected {want}"))
        if not hours.expects(gw.kind):
            checks.append(Check(gw.id, FLOW_CHECK[gw.kind], True,
                                f"not applicable: {hours.reason}", NOT_APPLICABLE))
        elif gw.kind == "market_data":
            md = st.get("md") or {}
            age = (now_ns - int(md.get("last_seq_time_ns") or 0)) / 1e9
            ok = md.get("source") == "tcp" and age <= MD_FRESH_S
            checks.append(Check(gw.id, "md_flowing", ok,
                                f"source {md.get('source')}, last tick {age:.2f}s ago"
                                + ("" if ok else hint)))
        elif gw.kind == "settlement":
            se = st.get("settlement") or {}
            ok = se.get("last_transfer_ok") is True
            checks.append(Check(gw.id, "settlement_ok", ok,
                                f"last transfer ok: {se.get('last_transfer_ok')}"
                                + ("" if ok else hint)))
    if view is not None:
        for line in inventory.lines:
            state = view.lines.get(line.id, "unknown")
            checks.append(Check(line.id, "line_up", state == "up", f"line {state}"))
        for cid, state in view.centres.items():
            checks.append(Check(cid, "centre_up", state == "up", f"centre {state}"))
    return SteadyState(all(c.ok for c in checks), tuple(checks), shas)


def _host_checks(inventory: Inventory, gw, v, require_home: bool,
                 hours: FlowHours = ALWAYS) -> list[Check]:
    """A host-observed gateway's steady state, from what its log said last: logged in, on
    which centre, market data flowing, the last file received. Its config is not read
    (no check is made of it, none is claimed)."""
    if not v.connected:
        return [Check(gw.id, "observer", False, "its log is not being followed")]
    out = [Check(gw.id, "logged_in", v.state == "logged_in", f"state {v.state} (gateway-log)")]
    home = inventory.home_centre(gw)
    if require_home:
        out.append(Check(gw.id, "home_centre", v.centre == home, f"on {v.centre}, home {home}"))
    else:
        out.append(Check(gw.id, "shenzhen_centre", v.centre in SHENZHEN, f"on {v.centre}"))
    if not hours.expects(gw.kind):
        out.append(Check(gw.id, FLOW_CHECK[gw.kind], True, f"not applicable: {hours.reason}",
                         NOT_APPLICABLE))
    elif gw.kind == "market_data":
        out.append(Check(gw.id, "md_flowing", v.md_flowing is True,
                         f"market data {'flowing' if v.md_flowing else 'not seen flowing'} (gateway-log)"))
    elif gw.kind == "settlement":
        last = [e for e in v.events if e.type == "transfer"]
        ok = bool(last) and bool(last[-1].data.get("ok"))
        out.append(Check(gw.id, "settlement_ok", ok, f"last file received ok: {ok if last else None}"))
    return out


def wait_steady(inventory: Inventory, baseline: Mapping[str, str] | None = None, *,
                observe: Observe | None = None, require_home: bool = False, at_gate: bool = False,
                timeout_s: float = 30.0, poll_s: float = 0.2,
                stop: Callable[[], bool] | None = None, views: Views | None = None,
                hours: FlowHours = ALWAYS) -> SteadyState:
    """Check until steady or the deadline; returns the last result either way."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = check(inventory, baseline, observe=observe, require_home=require_home,
                       at_gate=at_gate, views=views, hours=hours)
        if result.ok or time.monotonic() >= deadline or (stop is not None and stop()):
            return result
        if all(c.check in WONT_HEAL for c in result.failures):
            return result  # a line or centre that is down stays down: no point waiting
        time.sleep(poll_s)


def host_checks(reads: Mapping[str, HostRead], gate: Mapping[str, HostRead] | None = None) -> list[Check]:
    """What the hosts themselves say (issue 13): each gateway's config file read on its host
    (at the gate: readable; after restore: the same sha256 as at the gate, the file named)
    and its process. A gateway its host cannot be asked about (driver manual) has no check."""
    out: list[Check] = []
    for gid, r in reads.items():
        if r.sha256 is None and r.detail.startswith("not read: driver manual"):
            continue
        if r.sha256 is None:
            out.append(Check(gid, "config_on_host", False, f"{r.where} not read: {r.detail}"))
        elif gate is None:
            out.append(Check(gid, "config_on_host", True, f"{r.where} sha256 {r.sha256}"))
        else:
            before = gate.get(gid)
            was = before.sha256 if before is not None else None
            same = r.sha256 == was
            out.append(Check(gid, "config_on_host", same,
                             f"{r.where} sha256 {r.sha256} as at the gate" if same else
                             f"{r.where} sha256 {r.sha256} differs from the gate's {was}"))
        if r.process is not None:
            out.append(Check(gid, "process", r.process,
                             "running on its host" if r.process else "not running on its host"))
    return out


def with_host_checks(res: SteadyState, checks: list[Check]) -> SteadyState:
    return SteadyState(res.ok and all(c.ok for c in checks), (*res.checks, *checks), res.baseline)
