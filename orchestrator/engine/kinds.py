"""Step kinds as a registry: `KINDS[step.kind].run(engine, call)` runs one step and
returns its error (None: ok). Adding a kind is adding an entry, never a branch."""

from __future__ import annotations

import getpass
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

from orchestrator.engine import steps
from orchestrator.engine.ahead import pump
from orchestrator.engine.measure import all_restored, new_losses
from orchestrator.engine.playbook import PlaybookKind
from orchestrator.engine.safety import Abort, StepFailed
from orchestrator.journal import records as jr
from orchestrator.model.stamp import Stamp

if TYPE_CHECKING:
    from orchestrator.engine.runner import Engine


@dataclass(frozen=True)
class StepCall:
    phase: str
    index: int
    step: Any  # orchestrator.config.scenario.Step
    label: str  # "fault[0]"
    changes: tuple[str, ...] = ()  # manual-driver changes a person makes in this step


class StepKind(Protocol):
    def detail(self, step) -> dict[str, Any]:
        """What `step.start` records besides the common fields."""

    def run(self, eng: Engine, call: StepCall) -> str | None:
        """Run the step; the error, or None when it went well."""


class ManualKind:
    """A person does something and says so; the target or --yes may stand in."""

    def detail(self, step) -> dict[str, Any]:
        return {}

    def run(self, eng: Engine, call: StepCall) -> str | None:
        operator = eng.opt.operator or getpass.getuser()
        approval = getattr(eng, "approval", None)
        reference = None  # what a `reference:` step records (the number given)
        if eng.target.unattended_ack is not None:
            how, unattended = eng.target.unattended_ack, True
        elif approval is not None and call.step.reference is not None:
            # preflight refused a standing approval that lacks the reference
            reference = approval.reference(call.step.reference)
            how = f"standing-approval {approval.change}: {call.step.reference} {reference}"
            unattended = True
        elif approval is not None:  # preflight refuses this; never acknowledge it anyway
            raise StepFailed(f"{call.label}: needs a live confirmation; a standing approval "
                             f"does not give one")
        elif eng.opt.yes:
            how, unattended = "--yes", True
        else:
            step, lang = call.step, eng.opt.lang
            text = step.manual.get(lang) if step.manual else step.name.get(lang)
            answer = eng.opt.ask(f"{text}\nType your name when done") if eng.opt.ask else ""
            if not answer:
                raise StepFailed(f"{call.label}: not acknowledged")
            if step.reference is not None:
                reference = eng.opt.ask(f"Type the reference number given ({step.reference})")
                if not reference:
                    raise StepFailed(f"{call.label}: no reference recorded")
            operator, how, unattended = answer, "prompt", False
        eng.emit(jr.OperatorAck(call.label, operator, Stamp(time.time_ns(), "operator"),
                                unattended, how, reference or None))
        return None


def _steady(eng: Engine, _arg: str | None) -> tuple[bool, list[str]]:
    from orchestrator.engine.steady import ALWAYS, check

    # the `observe: host` gateways judged from their logs, the flows the gate decided on
    res = check(eng.inv, observe=eng.target.environment_view, views=eng.obs.host_views,
                hours=eng.state.flows or ALWAYS)
    return res.ok, sorted({c.gateway for c in res.failures})


# `wait: {until: NAME}` conditions: (holds, what is still pending).
CONDITIONS: Mapping[str, Callable[[Engine, str | None], tuple[bool, list[str]]]] = MappingProxyType({
    "all_restored": lambda eng, _arg: all_restored(eng.inv, eng.state, eng.obs.tracker),
    "all_logged_in": lambda eng, _arg: steps.all_logged_in(eng.inv, eng.obs.tracker),
    "on_centre": lambda eng, arg: steps.on_centre(eng.inv, eng.obs.tracker, arg or "BJ"),
    "md_source": lambda eng, arg: steps.md_source(eng.inv, eng.obs.tracker, arg or "tcp"),
    "steady": _steady,
})


class WaitKind:
    """A soak (`for`, optionally `while: no_new_loss`) or a condition with a deadline."""

    def detail(self, step) -> dict[str, Any]:
        return {}

    def run(self, eng: Engine, call: StepCall) -> str | None:
        w = call.step.wait
        if w.for_s is not None and w.until is None:
            return self._soak(eng, call, w)
        return self._until(eng, call, w)

    def _soak(self, eng: Engine, call: StepCall, w) -> str | None:
        start_mono = time.monotonic()
        watch_from = time.time_ns()
        # Only a gateway serving at the start of the soak can suffer a *new* loss.
        serving = {gid for gid, v in eng.obs.tracker.views().items() if v.service_up}
        deadline = start_mono + w.for_s
        while time.monotonic() < deadline:
            eng.safety.check_stop()
            if w.while_ == "no_new_loss":
                lost = new_losses(eng.inv, eng.obs.tracker, watch_from, serving, eng.state)
                if lost:
                    raise Abort(f"service lost during the soak: {', '.join(lost)}")
            eng.obs.show("hold", time.monotonic() - start_mono, w.for_s)
            pump(eng, call.phase, call.index)  # the idle soak starts the steps after it
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
        return None

    def _until(self, eng: Engine, call: StepCall, w) -> str | None:
        start_mono = time.monotonic()
        timeout = w.timeout_s if w.timeout_s is not None else call.step.timeout_s
        margin = eng.drill.abort.recovery_margin_s if w.until == "all_restored" else 0.0
        cond = CONDITIONS.get(w.until or "")
        while True:
            eng.safety.check_stop()
            ok, pending = cond(eng, w.arg) if cond else (False, [f"unknown condition {w.until!r}"])
            elapsed = time.monotonic() - start_mono
            eng.obs.show(w.until or "wait", elapsed, timeout, pending)
            if ok:
                if w.until == "on_centre" and eng.state.cutover_done_ns is None:
                    eng.state.cutover_done_ns = time.time_ns()
                if elapsed > timeout:
                    return f"{w.until} held only after {elapsed:.1f}s, past the {timeout:g}s deadline"
                return None
            if elapsed > timeout + margin:
                if margin and call.phase == "recovery":
                    raise Abort(f"recovery missed its {timeout:g}s deadline by more than "
                                f"{margin:g}s; still pending: {', '.join(pending[:10])}")
                return f"{w.until} not reached within {timeout:g}s; pending: {', '.join(pending[:10])}"
            pump(eng, call.phase, call.index)
            time.sleep(0.05)


class VerifyKind:
    """Expectations on monitors, ports and logs (the target says where logs are)."""

    def detail(self, step) -> dict[str, Any]:
        return {}

    def run(self, eng: Engine, call: StepCall) -> str | None:
        from orchestrator.probes import default_registry

        since = eng.state.link_lost_ns or time.time_ns() - 60_000_000_000
        ssh = eng.connections.pool  # the run's connections, kept after the step
        results = steps.verify_all(
            eng.inv, call.step.verify, log_path=eng.target.gateway_log, since_ns=since,
            registry=default_registry(), stop=eng.safety.stopping, hosted=eng.obs.host_views,
            reach=lambda address, port: eng.target.tcp_reachable(eng.inv, address, port, ssh), ssh=ssh)
        bad = [r.detail for r in results if not r.ok]
        return "; ".join(bad) if bad else None


KINDS: Mapping[str, StepKind] = MappingProxyType({
    "playbook": PlaybookKind(),
    "manual": ManualKind(),
    "wait": WaitKind(),
    "verify": VerifyKind(),
})
