"""Per gateway and service: link lost, detected, observed, restored; interruption vs target.

Sources (every time is a `Stamp` naming its source and uncertainty):
- link lost: the fault task's own `effective_ns` (`fault-task`);
- detected: the gateway's own `link_down` event (`gateway-monitor`, or `gateway-log` when
  read from the gateway's own log by the `host` observer, ± its clock offset's uncertainty);
- observed: drill's first failing `/status` sample (`probe-sample`, ± the probe period);
- restored: trading a new `login`; settlement the first successful `transfer` after the
  new login; market data the first `md_flow flowing` after the stall, whatever the source.
  When that event carries the exchange's own send time (`server_time_ns`, monitor-api.md)
  restored is that time (`exchange`), less the exchange's clock offset if drill knows one;
  else the gateway's own stamp (`gateway-monitor`). The gateway's stamp is when it *read*
  the answer, late by its scheduling delay on a loaded host; the exchange's is when the
  service was back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from orchestrator.journal.observations import Measure, Objective
from orchestrator.model.inventory import Inventory, route
from orchestrator.model.run import FAILED, NOT_APPLICABLE, NOT_TESTED, PASSED
from orchestrator.model.stamp import Stamp
from orchestrator.probes.monitor import Received

GATEWAY_CLOCK_MS = 1.0  # gateway and drill share the host clock in the lab
EXCHANGE_CLOCK_MS = 1.0  # so does the lab exchange; a real one is corrected by its offset
FAULT_TASK_MS = 1.0


def predict_affected(inv: Inventory, effect, centres_now: Mapping[str, str | None],
                     down_lines: Iterable[str] = (), down_centres: Iterable[str] = ()
                     ) -> dict[str, list[str]]:
    """Which gateways (and services) the step's effect takes off the air.

    A flow is lost when the line it runs on goes down (routing rule, inventory.md), when
    its centre goes down, when its service is made unreachable at its centre
    (`services_down`), or when the gateway is repointed (restarted).
    """
    before = set(down_lines)
    after = before | set(effect.lines_down)
    dead_centres = set(effect.centres_down) - set(down_centres)
    repointed = set(effect.repoint_gateways)
    cut_services = set(effect.services_at())
    affected: dict[str, list[str]] = {}
    for gw in inv.gateways:
        centre = centres_now.get(gw.id) or inv.home_centre(gw)
        lost = gw.id in repointed or centre in dead_centres or (
            not gw.satellite_only and (centre, gw.service_name) in cut_services)
        if not lost and effect.lines_down and not gw.satellite_only:
            line = route(inv, centre, before)
            lost = line is not None and line.id in after and line.id not in before
        if lost:
            affected[gw.id] = [gw.service_name]
    return affected


def loss_causes(inv: Inventory, effect, centres_now: Mapping[str, str | None],
                down_lines: Iterable[str] = (), down_centres: Iterable[str] = ()) -> dict[str, str]:
    """For each gateway on the failed path, what takes it off the air: the line its flow
    runs on, its centre, or itself (repoint). Its link-lost time is that target's own
    effective time when the fault task reports one per target."""
    before = set(down_lines)
    causes: dict[str, str] = {}
    for gid in predict_affected(inv, effect, centres_now, down_lines, down_centres):
        gw = inv.gateway(gid)
        centre = centres_now.get(gid) or inv.home_centre(gw)
        if gid in set(effect.repoint_gateways):
            causes[gid] = gid
        elif (centre in set(effect.centres_down)
              or (centre, gw.service_name) in set(effect.services_at())):
            causes[gid] = centre
        else:
            line = route(inv, centre, before)
            causes[gid] = line.id if line is not None else ""
    return causes


def _first(events: Sequence[Received], after_ns: int, pred) -> Received | None:
    for e in events:
        if e.ts_ns >= after_ns and pred(e):
            return e
    return None


def own_stamp(event: Received) -> Stamp:
    """The gateway's own time of an event, named by where drill read it: its monitor
    stream (`gateway-monitor`) or its log (`gateway-log`, with the uncertainty of the
    host's clock offset and the line's resolution)."""
    source = str(event.event.get("source") or "gateway-monitor")
    unc = event.event.get("uncertainty_ms")
    return Stamp(event.ts_ns, source, float(unc) if isinstance(unc, int | float) else GATEWAY_CLOCK_MS)


def restored_stamp(event: Received, link_lost_ns: int, exchange_offset_ns: int = 0) -> Stamp:
    """When the service came back, by the event that shows it: the exchange's send time
    carried in the event when it has one, else the gateway's own stamp.

    `exchange_offset_ns` is the exchange's clock minus drill's (0 in the lab, which shares
    one clock). An exchange time that breaks causality once corrected (before the link was
    lost, or after the gateway received the answer, beyond the clocks' uncertainty) says
    the clocks disagree: the gateway's stamp is used instead.
    """
    server = event.data.get("server_time_ns")
    if isinstance(server, int) and not isinstance(server, bool):
        ns = server - exchange_offset_ns
        slack = int((EXCHANGE_CLOCK_MS + GATEWAY_CLOCK_MS) * 1e6)
        if link_lost_ns <= ns <= event.ts_ns + slack:
            return Stamp(ns, "exchange", EXCHANGE_CLOCK_MS)
    return own_stamp(event)


def measure_gateway(*, gateway: str, kind: str, service: str, affected: bool,
                    link_lost_ns: int, window_end_ns: int | None, events: Sequence[Received],
                    observed_ns: int | None, probe_period_s: float, target_s: float | None,
                    centre_before: str | None, phase: str = "failover",
                    fault_source: str = "fault-task", restarted: bool = False,
                    exchange_offset_ns: int = 0, blind_ns: int | None = None) -> Measure:
    """Measure one gateway's interruption from its own event stream.

    `blind_ns`: when drill lost the gateway's monitor stream after the loss (None: it
    never did). A service not seen restored by a monitor drill could not hear is not
    measured (`passed` None), never failed nor passed on silence."""
    evs = [e for e in events if window_end_ns is None or e.ts_ns <= window_end_ns]
    link_lost = Stamp(link_lost_ns, fault_source, FAULT_TASK_MS)
    down = _first(evs, link_lost_ns, lambda e: e.type == "link_down")
    detected = own_stamp(down) if down else None
    observed = (Stamp(observed_ns, "probe-sample", probe_period_s * 1000)
                if observed_ns is not None else None)
    restored_ev: Received | None = None
    interrupted = False
    centre_after = centre_before
    logins = [e for e in evs if e.ts_ns >= link_lost_ns and e.type == "login"]
    if logins:
        centre_after = logins[-1].data.get("centre") or centre_after
    # A fault applied in several tasks (one line after another) can take a gateway down
    # again after it came back: it is restored only after its last loss in the window.
    if kind == "market_data":
        stalls = [e for e in evs if e.ts_ns >= link_lost_ns and e.type == "md_flow"
                  and e.data.get("state") == "stalled"]
        if stalls:
            interrupted = True
            restored_ev = _first(evs, stalls[-1].ts_ns,
                                 lambda e: e.type == "md_flow" and e.data.get("state") == "flowing")
        elif restarted:
            # A restarted gateway (repoint) starts without a stall to report: the first
            # tick it declares, else its login (ticks follow at once), restores it.
            interrupted = True
            restored_ev = _first(evs, link_lost_ns,
                                 lambda e: e.type == "md_flow" and e.data.get("state") == "flowing") \
                or (logins[0] if logins else None)
    else:
        downs = [e for e in evs if e.ts_ns >= link_lost_ns and e.type == "link_down"]
        interrupted = bool(downs or logins or restarted)
        if interrupted:
            after = downs[-1].ts_ns if downs else link_lost_ns
            login = _first(evs, after, lambda e: e.type == "login")
            if login is not None and kind == "settlement":
                restored_ev = _first(evs, login.ts_ns,
                                     lambda e: e.type == "transfer" and bool(e.data.get("ok")))
            else:
                restored_ev = login
    restored = (restored_stamp(restored_ev, link_lost_ns, exchange_offset_ns)
                if restored_ev else None)
    note = ""
    blind = (blind_ns is not None and blind_ns >= link_lost_ns
             and (window_end_ns is None or blind_ns <= window_end_ns))
    passed: bool | None
    if blind and restored is None:
        interruption, passed = None, None
        note = ("not measured: drill lost this gateway's monitor stream "
                f"{(blind_ns - link_lost_ns) / 1e9:.3f}s after the loss")
    elif not interrupted:
        interruption = 0.0
        passed = True
        if affected:
            note = "on the predicted failed path, but no interruption seen"
    elif restored is None:
        interruption = None
        passed = False
        note = ("service not restored within the measurement window"
                + ("; the drill sets no target for this service" if target_s is None else ""))
    else:
        interruption = round((restored.ns - link_lost_ns) / 1e9, 6)
        # an interruption of a service the drill sets no target for is never a pass
        passed = target_s is not None and interruption <= target_s
        if target_s is None:
            note = "interrupted; the drill sets no target for this service"
        if not affected:
            passed = False
            note = "not on the predicted failed path, yet service was interrupted"
    if not affected and interrupted and restored is None and passed is not None:
        note = "not on the predicted failed path, yet service was interrupted"
    return Measure(gateway=gateway, service=service, affected=affected, interrupted=interrupted,
                   note=note, centre_before=centre_before, centre_after=centre_after,
                   link_lost=link_lost, detected=detected, observed=observed, restored=restored,
                   interruption_s=interruption, target_s=target_s if affected else None,
                   passed=passed, phase=phase)


def _rto_objective(service: str, target: float, ms: Sequence[Measure]) -> Objective:
    if not ms:
        return Objective(f"rto.{service}", target, None, False,
                         "no gateway of this service was on the failed path", NOT_APPLICABLE)
    failing = [m.gateway for m in ms if m.passed is False]
    blind = [m.gateway for m in ms if m.passed is None]
    values = [m.interruption_s for m in ms]
    worst = None if any(v is None for v in values) else max(values)
    if failing:
        return Objective(f"rto.{service}", target, worst, False,
                         f"over target or not restored: {', '.join(failing)}", FAILED)
    if blind:
        return Objective(f"rto.{service}", target, worst, False,
                         f"not measured (monitor stream lost): {', '.join(blind)}", NOT_TESTED)
    return Objective(f"rto.{service}", target, worst, True,
                     f"{len(ms)} gateway(s) within {target:g}s", PASSED)


def _unnamed_objective(service: str, expected: float | None, ms: Sequence[Measure]) -> Objective | None:
    """A service the drill names no RTO for: `expected.<service>` when the drill declares
    its interruption expected (judged against that target), else `unexpected.<service>`,
    failed as soon as any of its gateways was interrupted."""
    hit = [m for m in ms if m.interrupted]
    blind = [m.gateway for m in ms if m.passed is None]
    values = [m.interruption_s for m in hit]
    worst = None if any(v is None for v in values) else max(values, default=0.0)
    shown = ", ".join(f"{m.gateway} ({'not restored' if m.interruption_s is None else f'{m.interruption_s:.3f}s'})"
                      for m in hit)
    if expected is not None:
        name = f"expected.{service}"
        if not any(m.affected for m in ms) and not hit:
            return Objective(name, expected, None, False,
                             "no gateway of this service was on the failed path", NOT_APPLICABLE)
        bad = [m.gateway for m in hit if m.interruption_s is None or m.interruption_s > expected]
        if bad:
            return Objective(name, expected, worst, False,
                             f"expected interruption over target or not restored: {shown}", FAILED)
        if blind:
            return Objective(name, expected, worst, False,
                             f"not measured (monitor stream lost): {', '.join(blind)}", NOT_TESTED)
        return Objective(name, expected, worst, True,
                         f"interrupted as the drill expects: {shown or 'none'}", PASSED)
    if hit:
        return Objective(f"unexpected.{service}", 0, worst, False,
                         f"interrupted, but the drill neither names this service nor declares "
                         f"its interruption expected: {shown}", FAILED)
    return None


def objectives(measurements: Sequence[Measure], rto_s: Mapping[str, float],
               expected_s: Mapping[str, float] | None = None) -> list[Objective]:
    """RTO per service the drill names, every other service the drill interrupted
    (expected with its own target, else a failure), and the unaffected gateways'
    objective; each in one of four states (orchestrator.model.run): an RTO with no gateway
    of its service on the failed path is not applicable; one whose gateway drill could not
    hear is not tested."""
    out: list[Objective] = []
    for service, target in rto_s.items():
        ms = [m for m in measurements if m.service == service and m.affected and m.phase == "failover"]
        out.append(_rto_objective(service, target, ms))
    expected_s = expected_s or {}
    failover = [m for m in measurements if m.phase == "failover"]
    for service in sorted({m.service for m in failover} | set(expected_s)):
        if service in rto_s:
            continue
        o = _unnamed_objective(service, expected_s.get(service),
                               [m for m in failover if m.service == service])
        if o is not None:
            out.append(o)
    unaffected = [m for m in measurements if not m.affected and m.phase == "failover"]
    hit = [m.gateway for m in unaffected if m.interrupted]
    blind = [m.gateway for m in unaffected if m.passed is None]
    if hit:
        out.append(Objective("unaffected_no_interruption", 0, len(hit), False,
                             f"interrupted off the failed path: {', '.join(hit)}", FAILED))
    elif blind:
        out.append(Objective("unaffected_no_interruption", 0, None, False,
                             f"not measured (monitor stream lost): {', '.join(blind)}", NOT_TESTED))
    else:
        out.append(Objective("unaffected_no_interruption", 0, 0, True,
                             f"{len(unaffected)} gateway(s) off the failed path, none interrupted",
                             PASSED))
    return out


def effective_by_target(private_data_dir) -> dict[str, int]:
    """`{target: effective_ns}` from the change reports a playbook's tasks printed (one per
    loop item, or one per line of a batch command's stdout:
    `{"ok": true, "target": "ct-ft", "effective_ns": …}`), read back from the
    ansible-runner job events kept in the run folder."""
    from orchestrator.adapters.ansible_events import ok_results, stdout_objects

    out: dict[str, int] = {}
    for item in ok_results(private_data_dir):
        # one object per stdout, or one per line: a batch command's one per target
        for doc in stdout_objects(item.get("stdout")):
            if doc.get("target"):
                target = str(doc["target"])
                out[target] = min(out.get(target, doc["effective_ns"]), doc["effective_ns"])
    return out
