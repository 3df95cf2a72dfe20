"""Measurement and objectives of one run, from the run state and the gateways' events.

The worst RTO (`run.end.rto_s`) is `orchestrator.model.results.worst_rto`, the one
definition every reader shares."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace

from orchestrator.engine.safety import service_loss
from orchestrator.engine.state import RunState
from orchestrator.engine.timing import measure_gateway, objectives
from orchestrator.journal.observations import Measure, Objective
from orchestrator.model.inventory import Inventory
from orchestrator.model.run import EXIT_CODES, FAILED, NOT_TESTED, PASSED, verdict_of


def measure_failover(inv: Inventory, drill, st: RunState, tracker, period_s: float) -> list[Measure]:
    if st.link_lost_ns is None:
        return []
    out = []
    for g in inv.gateways:
        lost_ns, source = st.lost_at.get(g.id, (st.link_lost_ns, st.fault_source))
        out.append(measure_gateway(
            gateway=g.id, kind=st.measured_kind(g.kind), service=g.service_name, affected=g.id in st.affected,
            link_lost_ns=lost_ns, window_end_ns=st.restore_started_ns,
            events=tracker.events(g.id), observed_ns=st.observed.get(g.id),
            probe_period_s=period_s, target_s=drill.targets.target_of(g.service_name),
            centre_before=st.centres_before.get(g.id), fault_source=source,
            restarted=g.id in st.restarted, blind_ns=tracker.lost_since(g.id)))
    return out


def after_restore(inv: Inventory, drill, st: RunState, tracker, measurements: list[Measure],
                  period_s: float) -> list[Measure]:
    """Once restore and the after-check ran: the failback, and every service the drill
    names no RTO for measured again through restore (it may only come back when the fault
    is undone: an interruption the drill causes is judged whole, never cut at restore)."""
    out = []
    for m in measurements:
        if (m.phase == "failover" and m.service not in drill.targets.rto_s
                and m.interrupted and m.restored is None and m.passed is not None):
            g = inv.gateway(m.gateway)
            lost_ns, source = st.lost_at.get(g.id, (st.link_lost_ns, st.fault_source))
            m = measure_gateway(
                gateway=g.id, kind=st.measured_kind(g.kind), service=g.service_name, affected=m.affected,
                link_lost_ns=lost_ns, window_end_ns=None, events=tracker.events(g.id),
                observed_ns=st.observed.get(g.id), probe_period_s=period_s,
                target_s=drill.targets.target_of(g.service_name),
                centre_before=st.centres_before.get(g.id), fault_source=source,
                restarted=g.id in st.restarted, blind_ns=tracker.lost_since(g.id))
        out.append(m)
    if st.failback_ns is not None:
        out += measure_failback(inv, drill, st, tracker)
    return out


SECOND_PHASE = "failover:host-socket"  # a second source's failover measure (never judged)
AGREE_MARGIN_MS = 100.0  # beyond both stamps' uncertainties, docs/observers.md "Two sources"


def with_second_source(inv: Inventory, drill, st: RunState, measurements: list[Measure],
                       socket_tracker) -> list[Measure]:
    """Each failover measure of a gateway the host-socket source watched, measured again
    from the socket events alone (phase `failover:host-socket`, never judged: `passed`
    None), after its primary, when its host's socket tables were read; where the two
    disagree on whether the gateway was interrupted, or on detection or restoration beyond
    their uncertainties plus AGREE_MARGIN_MS, both notes say so (the verdict is the
    primary's alone)."""
    if socket_tracker is None or st.link_lost_ns is None:
        return measurements
    watched = {gid for gid, v in socket_tracker.views().items() if v.connected}  # tables were read
    out = []
    for m in measurements:
        if m.phase != "failover" or m.gateway not in watched:
            out.append(m)
            continue
        g = inv.gateway(m.gateway)
        lost_ns, source = st.lost_at.get(g.id, (st.link_lost_ns, st.fault_source))
        sock = measure_gateway(
            gateway=g.id, kind=st.measured_kind(g.kind), service=g.service_name, affected=m.affected,
            link_lost_ns=lost_ns, window_end_ns=st.restore_started_ns, events=socket_tracker.events(g.id),
            observed_ns=None, probe_period_s=0.0,
            target_s=drill.targets.target_of(g.service_name), centre_before=m.centre_before,
            fault_source=source, restarted=g.id in st.restarted)
        gaps = [f"{what} {abs(a.ns - b.ns) / 1e6:.0f} ms apart (margin {margin:.0f} ms)"
                for what, a, b in (("detected", m.detected, sock.detected), ("restored", m.restored, sock.restored))
                if a is not None and b is not None
                and abs(a.ns - b.ns) / 1e6 > (margin := a.uncertainty_ms + b.uncertainty_ms + AGREE_MARGIN_MS)]
        if m.interrupted != sock.interrupted:  # shown beside the log's, never judged
            gaps.append("interrupted by one source only")
        if (m.restored is None) != (sock.restored is None):
            gaps.append("restored by one source only")
        flag = ("sources disagree: " + "; ".join(gaps)) if gaps else "sources agree"
        out.append(replace(m, note="; ".join(x for x in (m.note, f"host-socket: {flag}" if gaps else "") if x)))
        out.append(replace(sock, phase=SECOND_PHASE, passed=None,
                           note="; ".join(x for x in (f"second source (host-socket); {flag}", sock.note) if x)))
    return out


def measure_failback(inv: Inventory, drill, st: RunState, tracker) -> list[Measure]:
    out = []
    for gid in st.failback_gateways:
        g = inv.gateway(gid)
        out.append(measure_gateway(
            gateway=gid, kind=st.measured_kind(g.kind), service=g.service_name, affected=True,
            link_lost_ns=st.failback_at.get(gid, st.failback_ns), window_end_ns=None,
            events=tracker.events(gid) if tracker else [], observed_ns=None,
            probe_period_s=inv.timing.probe_period,
            target_s=drill.targets.target_of(g.service_name),
            centre_before=None, phase="failback", fault_source="fault-task", restarted=True,
            blind_ns=tracker.lost_since(gid) if tracker else None))
    return out


def run_objectives(drill, st: RunState, measurements: list[Measure], session_detail: str,
                   sessions_visible: bool = True) -> list[Objective]:
    """RTO per service, failback, no double login, cutover limits, and whether the drill
    exercised a failover at all; each objective in one of four states
    (orchestrator.model.run). `session_detail`: what the target can say when nobody logged
    in twice; `sessions_visible`: whether it can see the exchange's session table at all
    (if not, no double login is not tested, never passed)."""
    objs = objectives(measurements, drill.targets.rto_s, drill.targets.expected_s)
    fb = [m for m in measurements if m.phase == "failback"]
    if fb:
        bad = [m.gateway for m in fb if m.passed is False]
        blind = [m.gateway for m in fb if m.passed is None]
        worst = max((m.interruption_s or 0) for m in fb)
        if bad:
            objs.append(Objective("failback", "rto", worst, False,
                                  f"not back in time: {', '.join(bad)}", FAILED))
        elif blind:
            objs.append(Objective("failback", "rto", None, False,
                                  f"not measured (monitor stream lost): {', '.join(blind)}",
                                  NOT_TESTED))
        else:
            objs.append(Objective("failback", "rto", worst, True,
                                  f"{len(fb)} gateway(s) back on their home centre", PASSED))
    if drill.targets.no_double_login:
        objs.append(_no_double_login(st, session_detail, sessions_visible))
    # The firm's own cutover target is the verdict; SSCC's D+3 (cutover_limit_s) is context
    # the report shows beside it, never an objective (docs/drill-format.md).
    cut = st.cutover_s()
    firm = drill.targets.cutover_firm_s
    if firm is not None:
        if cut is None:
            objs.append(Objective("cutover.firm", firm, None, False,
                                  "not every gateway reached the DR centre", FAILED))
        else:
            ok = cut <= firm
            objs.append(Objective("cutover.firm", firm, cut, ok, "firm's own target",
                                  PASSED if ok else FAILED))
    objs.append(exercised(measurements))
    return objs


def _no_double_login(st: RunState, session_detail: str, sessions_visible: bool) -> Objective:
    doubles = sorted(g for g, n in st.max_sessions.items() if n > 1)
    if doubles:
        return Objective("no_double_login", 1, max(st.max_sessions.values()), False,
                         f"two sessions for: {', '.join(doubles)}", FAILED)
    if not sessions_visible or not st.max_sessions:
        why = session_detail if not sessions_visible else \
            "the exchange's session table was never read during the run"
        return Objective("no_double_login", 1, None, False, why, NOT_TESTED)
    return Objective("no_double_login", 1, max(st.max_sessions.values()), True, session_detail,
                     PASSED)


def exercised(measurements: list[Measure]) -> Objective:
    """`failover_exercised`: at least one gateway was on the failed path. A drill that put
    none there exercised no failover: not tested, so the run is inconclusive."""
    on_path = sorted({m.gateway for m in measurements if m.affected and m.phase == "failover"})
    if not on_path:
        return Objective("failover_exercised", 1, 0, False,
                         "no gateway was on the failed path: the drill exercised no failover",
                         NOT_TESTED)
    return Objective("failover_exercised", 1, len(on_path), True,
                     f"{len(on_path)} gateway(s) on the failed path", PASSED)


def verdict(st: RunState, objs: list[Objective], steady_after: bool | None) -> tuple[str, int]:
    """Status and exit code of a run that was neither refused nor aborted (an aborted run
    keeps its 3 whatever its objectives say): failed wins over inconclusive; not
    applicable objectives change nothing."""
    status = verdict_of(o.verdict for o in objs)
    if status == "failed" or st.restore_failures or steady_after is False:
        status = "failed"
    return status, EXIT_CODES[status]


def summary(st: RunState, status: str, objs: list[Objective], steady_after: bool | None,
            gate_refusal: str | None) -> str:
    if gate_refusal:
        return f"refused: {gate_refusal}"
    parts = [status]
    if st.abort_reason:
        parts.append(f"aborted: {st.abort_reason}")
    parts += st.step_failures
    failed = [o for o in objs if o.verdict == FAILED]
    untested = [o for o in objs if o.verdict == NOT_TESTED]
    if failed:
        parts.append("objectives failed: " + "; ".join(
            f"{o.name} measured {o.measured} vs target {o.target} ({o.detail})" for o in failed))
    if untested:
        parts.append("not tested: " + "; ".join(f"{o.name} ({o.detail})" for o in untested))
    if objs and not failed and not untested:
        met = sum(1 for o in objs if o.verdict == PASSED)
        parts.append(f"all {met} measured objectives met")
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
        m = measure_gateway(gateway=gid, kind=st.measured_kind(gw.kind), service=gw.service_name, affected=True,
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


def new_losses(inv: Inventory, tracker, since_ns: int, among: set[str],
               st: RunState | None = None) -> list[str]:
    kinds: Mapping[str, str] = {g.id: st.measured_kind(g.kind) if st else g.kind
                                for g in inv.gateways}
    return [gid for gid in sorted(among)
            if any(service_loss(kinds[gid], e) for e in tracker.events(gid, since_ns))]
