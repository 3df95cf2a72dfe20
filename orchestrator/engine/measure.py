"""Measurement and objectives of one run, from the run state and the gateways' events.

The worst RTO (`run.end.rto_s`) is `orchestrator.model.results.worst_rto`, the one
definition every reader shares."""

from __future__ import annotations

import time
from collections.abc import Mapping

from orchestrator.engine.safety import service_loss
from orchestrator.engine.state import RunState
from orchestrator.engine.timing import measure_gateway, objectives
from orchestrator.journal.observations import Measure, Objective
from orchestrator.model.inventory import Inventory


def measure_failover(inv: Inventory, drill, st: RunState, tracker, period_s: float) -> list[Measure]:
    if st.link_lost_ns is None:
        return []
    out = []
    for g in inv.gateways:
        lost_ns, source = st.lost_at.get(g.id, (st.link_lost_ns, st.fault_source))
        out.append(measure_gateway(
            gateway=g.id, kind=g.kind, service=g.service_name, affected=g.id in st.affected,
            link_lost_ns=lost_ns, window_end_ns=st.restore_started_ns,
            events=tracker.events(g.id), observed_ns=st.observed.get(g.id),
            probe_period_s=period_s, target_s=drill.targets.rto_s.get(g.service_name),
            centre_before=st.centres_before.get(g.id), fault_source=source,
            restarted=g.id in st.restarted))
    return out


def measure_failback(inv: Inventory, drill, st: RunState, tracker) -> list[Measure]:
    out = []
    for gid in st.failback_gateways:
        g = inv.gateway(gid)
        out.append(measure_gateway(
            gateway=gid, kind=g.kind, service=g.service_name, affected=True,
            link_lost_ns=st.failback_at.get(gid, st.failback_ns), window_end_ns=None,
            events=tracker.events(gid) if tracker else [], observed_ns=None,
            probe_period_s=inv.timing.probe_period,
            target_s=drill.targets.rto_s.get(g.service_name),
            centre_before=None, phase="failback", fault_source="fault-task", restarted=True))
    return out


def run_objectives(drill, st: RunState, measurements: list[Measure],
                   session_detail: str) -> list[Objective]:
    """RTO per service, failback, no double login (`session_detail`: what the target can
    say when nobody logged in twice), cutover limits."""
    objs = objectives(measurements, drill.targets.rto_s)
    fb = [m for m in measurements if m.phase == "failback"]
    if fb:
        bad = [m.gateway for m in fb if not m.passed]
        worst = max((m.interruption_s or 0) for m in fb)
        objs.append(Objective("failback", "rto", worst, not bad,
                              f"not back in time: {', '.join(bad)}" if bad
                              else f"{len(fb)} gateway(s) back on their home centre"))
    if drill.targets.no_double_login:
        doubles = sorted(g for g, n in st.max_sessions.items() if n > 1)
        detail = f"two sessions for: {', '.join(doubles)}" if doubles else session_detail
        objs.append(Objective("no_double_login", 1, max(st.max_sessions.values(), default=1),
                              not doubles, detail))
    cut = st.cutover_s()
    t = drill.targets
    if cut is not None or t.cutover_limit_s is not None:
        if cut is None:
            objs.append(Objective("cutover", t.cutover_limit_s, None, False,
                                  "every gateway never reached the DR centre"))
        else:
            if t.cutover_limit_s is not None:
                objs.append(Objective("cutover.limit", t.cutover_limit_s, cut,
                                      cut <= t.cutover_limit_s, "D+3 limit"))
            if t.cutover_firm_s is not None:
                objs.append(Objective("cutover.firm", t.cutover_firm_s, cut,
                                      cut <= t.cutover_firm_s, "firm's own target"))
    return objs


def summary(st: RunState, status: str, objs: list[Objective], steady_after: bool | None,
            gate_refusal: str | None) -> str:
    if gate_refusal:
        return f"refused: steady-state gate failed: {gate_refusal}"
    parts = [status]
    if st.abort_reason:
        parts.append(f"aborted: {st.abort_reason}")
    parts += st.step_failures
    failed = [o for o in objs if not o.passed]
    if failed:
        parts.append("objectives failed: " + "; ".join(
            f"{o.name} measured {o.measured} vs target {o.target} ({o.detail})" for o in failed))
    elif objs:
        parts.append(f"all {len(objs)} objectives met")
    if st.restore_failures:
        parts.append("restore steps failed: " + ", ".join(st.restore_failures))
    if steady_after is False:
        parts.append("after-check failed: " + st.after_failures)
    return "; ".join(parts)


def all_restored(inv: Inventory, st: RunState, tracker) -> tuple[bool, list[str]]:
    """Every gateway on the failed path has its service back (or never lost it within
    the grace a reconnect takes)."""
    if st.link_lost_ns is None:
        return True, []
    t = inv.timing
    grace_ns = int((t.heartbeat_timeout + t.reconnect_interval + 1.0) * 1e9)
    pending = []
    now = time.time_ns()
    for gid in st.affected:
        gw = inv.gateway(gid)
        lost_ns = st.lost_at.get(gid, (st.link_lost_ns, ""))[0]
        m = measure_gateway(gateway=gid, kind=gw.kind, service=gw.service_name, affected=True,
                            link_lost_ns=lost_ns, window_end_ns=None,
                            events=tracker.events(gid), observed_ns=None,
                            probe_period_s=t.probe_period, target_s=None,
                            centre_before=None, restarted=gid in st.restarted)
        if m.restored is not None:
            continue
        if not m.interrupted and now - lost_ns > grace_ns:
            continue
        pending.append(gid)
    return not pending, pending


def new_losses(inv: Inventory, tracker, since_ns: int, among: set[str]) -> list[str]:
    kinds: Mapping[str, str] = {g.id: g.kind for g in inv.gateways}
    return [gid for gid in sorted(among)
            if any(service_loss(kinds[gid], e) for e in tracker.events(gid, since_ns))]
