"""Predicted failover: each affected gateway's interruption, bounded from its timing settings.

The model is the SSCC gateway's own behaviour as the inventory's `timing` describes it
(docs/inventory.md, docs/steady-state.md):

- **detection**: a reset (an interface shut down) is seen at once; a silent loss (a
  black-holed line, a stalled centre) when nothing has arrived for `heartbeat_timeout`,
  counted from the last byte the server sent, which is up to `heartbeat_interval` before
  the loss (market data ticks faster: its clock starts at the loss itself);
- **market data** resumes on the multicast feed as soon as the loss is detected, when the
  inventory declares one;
- **reconnect**: `reconnect_interval` after detection the gateway logs in to the next
  server of its list; SSCC refuses a second login of the same id while the old session
  lives, which after a silent loss is up to `server_session_timeout` from the gateway's
  last heartbeat, so a refused attempt costs one more `reconnect_interval`.

A repointed gateway is restarted by its own change, which the timing settings do not
bound: it gets no prediction. The bounds are the model's; `tests/engine` compares them
with lab runs using the suite's shared tolerance.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from orchestrator.model.drill import Effect
from orchestrator.model.inventory import Inventory, route
from orchestrator.model.text import Text


@dataclass(frozen=True)
class Prediction:
    gateway: str
    service: str
    low_s: float | None  # None: not bounded by the settings (see basis)
    high_s: float | None
    basis: Text  # how the figure follows from the settings, for people


def _silent(effect: Effect, cause_is_centre: bool) -> bool:
    return cause_is_centre or (effect.mode or "blackhole") != "shutdown"


def predict_one(inv: Inventory, service: str, *, silent: bool) -> tuple[float, float, Text]:
    t = inv.timing
    if silent:
        det_lo = t.heartbeat_timeout - (0.0 if service == "market_data" else t.heartbeat_interval)
        det_hi = t.heartbeat_timeout
        how = Text(f"心跳超时（{t.heartbeat_timeout:g} 秒）发现中断",
                   f"detected by heartbeat timeout ({t.heartbeat_timeout:g}s)")
    else:
        det_lo = det_hi = 0.0
        how = Text("连接重置即发现中断", "detected by reset")
    if service == "market_data" and inv.multicast is not None:
        return det_lo, det_hi, Text(f"{how.zh}，随后改由组播接收", f"{how.en}, then multicast")
    attempt_lo, attempt_hi = det_lo + t.reconnect_interval, det_hi + t.reconnect_interval
    # The old session lives until the server has heard nothing for server_session_timeout,
    # counted from the gateway's last heartbeat (up to heartbeat_interval before the loss).
    expiry_lo = t.server_session_timeout - t.heartbeat_interval if silent else 0.0
    expiry_hi = t.server_session_timeout if silent else 0.0
    low = max(attempt_lo, expiry_lo)
    # an attempt refused just before expiry waits one more reconnect interval
    high = max(attempt_hi, expiry_hi + t.reconnect_interval) if attempt_lo < expiry_hi else attempt_hi
    zh = f"{how.zh}，{t.reconnect_interval:g} 秒后重连"
    en = f"{how.en}, reconnect after {t.reconnect_interval:g}s"
    if silent:
        zh += f"，原会话最长保留 {t.server_session_timeout:g} 秒"
        en += f", old session lives up to {t.server_session_timeout:g}s"
    return low, high, Text(zh, en)


def _reachable(inv: Inventory, gid: str, down_lines: set[str], down_centres: set[str]) -> bool:
    """Whether some server of the gateway's list can still be reached: with none, it stays
    down until someone acts (a repoint, the restore), which no timing setting bounds."""
    return any(cid not in down_centres and route(inv, cid, down_lines) is not None
               for cid, _ in inv.server_order(gid))


def predict(inv: Inventory, effect: Effect, causes: dict[str, str],
            down_lines: set[str] = frozenset(), down_centres: set[str] = frozenset()
            ) -> tuple[Prediction, ...]:
    """Predictions for the gateways a fault effect takes off the air (`causes`: gateway ->
    the line, centre or gateway that takes it down, engine.timing.loss_causes; the lines and
    centres down once the effect has happened)."""
    centres = {c.id for c in inv.centres}
    out = []
    for gid, cause in sorted(causes.items()):
        gw = inv.gateway(gid)
        if gid in effect.repoint_gateways:
            out.append(Prediction(gid, gw.service_name, None, None,
                                  Text("因切换配置而重启：不受其定时参数约束",
                                       "restarted by its repoint: not bounded by its timing settings")))
            continue
        if not _reachable(inv, gid, down_lines, down_centres):
            out.append(Prediction(gid, gw.service_name, None, None,
                                  Text("服务器列表中无可达服务器：中断至切换配置或恢复",
                                       "no server of its list is reachable: down until a repoint or the restore")))
            continue
        low, high, basis = predict_one(inv, gw.service_name, silent=_silent(effect, cause in centres))
        out.append(Prediction(gid, gw.service_name, round(low, 3), round(high, 3), basis))
    return tuple(out)


def unmet(predictions: tuple[Prediction, ...], rto_s: dict[str, float]) -> tuple[str, ...]:
    """Warnings for gateways whose settings cannot (or may not) meet their service's target."""
    out = []
    for p in predictions:
        target = rto_s.get(p.service)
        if target is None or p.high_s is None or p.high_s <= target:
            continue
        verdict = "cannot meet" if p.low_s > target else "may miss"
        out.append(f"{p.gateway} ({p.service}) {verdict} its {target:g}s target: its settings "
                   f"give {p.low_s:g}-{p.high_s:g}s ({p.basis.en})")
    return tuple(out)


def predicted_failover(resolved, inv: Inventory, centres_now: Mapping[str, str | None] | None = None
                       ) -> tuple[Prediction, ...]:
    """Predictions for every gateway the drill's fault steps take down, each gateway at the
    centre `centres_now` gives (a run: where its source says it is logged in), else on its
    home centre (as `drill plan` assumes)."""
    from orchestrator.engine.playbook import is_fault
    from orchestrator.engine.state import FAULT_PHASES
    from orchestrator.engine.timing import loss_causes

    down_lines: set[str] = set()
    down_centres: set[str] = set()
    seen: dict[str, Prediction] = {}
    seen_or_lost: dict[str, str] = {}
    for phase in FAULT_PHASES:
        for step in resolved.phases.get(phase, ()):
            effect = step.effect
            if effect is None:
                continue
            lines_after = (down_lines | set(effect.lines_down)) - set(effect.lines_up)
            centres_after = (down_centres | set(effect.centres_down)) - set(effect.centres_up)
            if is_fault(effect):
                causes = loss_causes(inv, effect, centres_now or {}, down_lines, down_centres)
                for p in predict(inv, effect, {g: c for g, c in causes.items() if g not in seen_or_lost},
                                 lines_after, centres_after):
                    seen[p.gateway] = p  # a later step's loss of the same gateway is not a new failover
                seen_or_lost.update(causes)
            down_lines, down_centres = lines_after, centres_after
    return tuple(seen[g] for g in sorted(seen))
