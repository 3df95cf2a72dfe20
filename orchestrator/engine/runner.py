"""The drill engine: phases as data, walked in order, restore guaranteed.

precheck → steady-state gate → fault → recovery → hold → restore (in `finally`, once any
fault step has started) → failback measurement → after-check. Every event goes through the
`EventBus`; the journal handler is first and synchronous. The engine talks to its target
(lab, hosts) only through `orchestrator.targets.Target`. It never exits the process: it
returns a `RunOutcome` or raises `RefusedError` / `InputError`.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from orchestrator.adapters.run_ssh import RunConnections
from orchestrator.config.secrets import inventory_secrets, vault_values
from orchestrator.engine import events as ev
from orchestrator.engine import measure, sealing
from orchestrator.engine.ahead import Ahead, offer_first, offer_next
from orchestrator.engine.kinds import KINDS, StepCall
from orchestrator.engine.lock import EnvironmentLock
from orchestrator.engine.notify import notify_quietly
from orchestrator.engine.observe import Observation
from orchestrator.engine.options import RunOptions, RunOutcome
from orchestrator.engine.plan_detail import planned_steps
from orchestrator.engine.playbook import failback_step, is_fault
from orchestrator.engine.predict import predicted_failover
from orchestrator.engine.progress import say
from orchestrator.engine.record import run_start_record
from orchestrator.engine.safety import Abort, Safety, StepFailed, now_of, preflight, standing_approval
from orchestrator.engine.state import FAULT_PHASES, STOPPABLE, RunState
from orchestrator.engine.steady import (
    SteadyState,
    flow_hours,
    host_checks,
    wait_steady,
    with_host_checks,
)
from orchestrator.engine.steps import manual_changes
from orchestrator.errors import RefusedError
from orchestrator.journal import records as jr
from orchestrator.journal.chain import Journal, read_records
from orchestrator.journal.runfolder import (
    RunFolder,
    fallback_dirs,
    new_run_id,
    register_active,
    unfinished_runs,
    unregister_active,
)
from orchestrator.model.i18n import LABELS
from orchestrator.model.inventory import Inventory
from orchestrator.model.redact import Redactor, secret_values
from orchestrator.model.results import worst_rto
from orchestrator.model.stamp import Stamp
from orchestrator.probes.identity import mismatches
from orchestrator.targets import Target
from orchestrator.targets.host_read import HostRead
from orchestrator.targets.hosts import HostsTarget

AFTER_CHECK_TIMEOUT_S = 60.0
GATE_SETTLE_S = 10.0
HEAR_AGAIN_S = 10.0  # the failback's restarted gateways' streams, followed again


class Engine:
    def __init__(self, resolved, inventory: Inventory, options: RunOptions,
                 target: Target | None = None, handlers: tuple[ev.Handler, ...] = ()) -> None:
        self.resolved = resolved
        self.drill = resolved.drill
        self.inv = inventory
        self.opt = options
        self.target: Target = target if target is not None else HostsTarget()
        self.bus = ev.EventBus()
        self._extra_handlers = handlers
        self.state = RunState()
        self.safety = Safety(self.state, self.emit)
        self.safety.signals.announce = say(options.lang, "console_interrupted")
        self.safety.signals.announce_unchanged = say(options.lang, "console_interrupted_unchanged")
        self.safety.signals.announce_restoring = \
            LABELS["signal_restore_running"][0 if options.lang == "zh" else 1]  # {signal} filled later
        # One connection per host and SSH stack for the whole run (issue 19 P11).
        self.connections = RunConnections(inventory.path, lambda p: self.emit(jr.SshControl(str(p))))
        self.obs = Observation(inventory, self.target, self.state, self.safety, self.emit,
                               blast_radius=self.drill.abort.blast_radius,
                               progress=options.progress, lang=options.lang, ssh=self.connections.pool)
        self.redactor = Redactor(secret_values({"notifications": dict(inventory.notifications)})
                                 + inventory_secrets(Path(inventory.path))
                                 + vault_values(Path(inventory.path)))
        self.journal: Journal | None = None
        self.folder: RunFolder | None = None
        self.approval = None  # model.approvals.StandingApproval, set by preflight
        # Asked before each step; a reason to skip it (journaled as a note) or None.
        self.before_step: Callable[[Any], str | None] | None = None
        self.ahead = Ahead()  # the next playbook step's process, started and held

    @classmethod
    def continuing(cls, resolved, inventory: Inventory, options: RunOptions, target: Target,
                   folder: RunFolder, journal: Journal) -> Engine:
        """An engine that carries on a journaled run (`drill recover`): its events go to
        that run's journal and evidence into its folder."""
        eng = cls(resolved, inventory, options, target)
        eng.folder, eng.journal = folder, journal
        eng.bus.subscribe(ev.JournalHandler(journal, eng.redactor), critical=True)
        return eng

    def emit(self, event: ev.Event) -> None:
        self.bus.emit(event)

    def preflight(self) -> None:
        preflight(self.resolved, self.inv, self.opt)
        self.approval = standing_approval(self.resolved, self.inv, self.opt)
        if self.approval is not None:  # run.start records them as the run's ticket and approver
            self.opt = dataclasses.replace(self.opt, ticket=self.approval.change,
                                           approver=self.approval.approver,
                                           operator=self.opt.operator or "scheduler")

    def stop_observing(self) -> None:
        self.obs.stop()

    # ------------------------------------------------------------------ run

    def run(self) -> RunOutcome:
        self.preflight()
        env = self.inv.environment.name
        lock = EnvironmentLock(self.opt.drill_home, env)
        run_id = new_run_id(self.drill.id)
        holder = lock.acquire(run_id)
        try:
            pending = unfinished_runs(self.opt.drill_home, env)
            if pending:
                raise RefusedError(
                    f"environment {env!r} has an unfinished run ({pending[0].name}, {pending[0]}): "
                    f"run `drill recover` first")
            self.folder = RunFolder.create(self.opt.reports_dir, self.drill.id,
                                           self.inv.environment.timezone, run_id=run_id)
            self.journal = Journal(self.folder.journal, run_id,
                                   fallback_dirs=fallback_dirs(self.opt.drill_home),
                                   on_fallback=self.safety.disk_trouble)
            self.bus.subscribe(ev.JournalHandler(self.journal, self.redactor), critical=True)
            for h in self._extra_handlers:
                self.bus.subscribe(h)
            register_active(self.opt.drill_home, env, self.folder)
            self.safety.signals.install()
            try:
                self.emit(jr.RunStart(run_start_record(self.resolved, self.inv, self.opt,
                                                      self.target.state_dir)))
                self.emit(jr.Lock(str(lock.path), holder.__dict__))
                steps, on_path = planned_steps(self.resolved, self.inv, self.opt.lang)
                self.emit(jr.RunPlan(self.opt.lang, tuple(steps), on_path))
                if self.approval is not None:
                    self.emit(jr.StandingApprovalUsed(**self.approval.to_record()))
                # after run.start (offering may journal the run's ssh control folder); its
                # start-up overlaps the run's own, held until its turn
                offer_first(self)
                notify_quietly(self.inv, "start", {"run": run_id, "drill": self.drill.id})
                return self._walk()
            finally:
                self.ahead.close()
                self.safety.signals.restore()
                self.connections.close_after(self.stop_observing)  # then end both SSH stacks
                if self.journal is not None:
                    self.journal.close()
                if self.folder is not None and any(
                        r.kind == "run.end" for r in read_records(self.folder.journal)):
                    unregister_active(self.opt.drill_home, env, run_id)
        finally:
            lock.release()

    def _walk(self) -> RunOutcome:
        st = self.state
        status, exit_code = "passed", 0
        measurements: list = []
        steady_after, gate_refusal, baseline, host_gate = None, None, {}, {}
        self.obs.start(self.folder)
        # the report's "predicted", for the gateways on the path from where they are now
        centres = self.obs.tracker.centres()
        for p in predicted_failover(self.resolved, self.inv, centres):
            self.emit(jr.FailoverPrediction(p.gateway, p.service, p.low_s, p.high_s, p.basis))
        for note in self.target.start_evidence(self.inv, self.folder, self.connections.pool):
            self.emit(jr.Note(note.message, dict(note.data)))
        try:
            if (gate_refusal := _precheck(self)) is None:
                baseline, host_gate, gate_refusal = _gate(self)
            if gate_refusal is None:
                for phase in FAULT_PHASES:
                    self._run_phase(phase)
        except Abort as e:
            st.abort_reason = st.abort_reason or str(e)
            self.emit(jr.Abort(st.abort_reason, st.phase, st.step_label))
            status, exit_code = "aborted", 3
        except StepFailed as e:
            status, exit_code = "failed", 1
            st.step_failures.append(str(e))
        finally:
            # Restore is structural: it runs whatever happened above, once a fault started.
            st.restore_started_ns = time.time_ns()
            if st.fault_started:
                measurements = measure.measure_failover(self.inv, self.drill, st, self.obs.tracker,
                                                        self.obs.period())
                self._run_phase("restore", keep_going=True)
            if gate_refusal is None:
                home = _require_home(self.resolved)
                steady_after = self.after_check(baseline, require_home=home, host_gate=host_gate).ok
            self.safety.journal_late_signals()
        received = self.safety.signals.received
        if received and status != "aborted":
            # Interrupted during restore or the after-check: restore finished, yet the
            # operator stopped the run.
            status, exit_code = "aborted", 3
            st.abort_reason = st.abort_reason or f"interrupted by {received[0]}"
        _await_failback(self)
        measurements = measure.after_restore(self.inv, self.drill, st, self.obs.tracker,
                                             measurements, self.obs.period())
        measurements = measure.with_second_source(self.inv, self.drill, st, measurements, self.obs.socket_tracker)
        for m in measurements:
            self.emit(m)
        objs = measure.run_objectives(self.drill, st, measurements,
                                      *self.obs.session_judgement()) if st.fault_started else []
        for o in objs:
            self.emit(o)
        if gate_refusal is not None:
            status, exit_code = "refused", 4
        elif status == "passed":
            status, exit_code = measure.verdict(st, objs, steady_after)
        summary = measure.summary(st, status, objs, steady_after, gate_refusal)
        self.ahead.close()  # a step never reached leaves no folder for the manifest
        sealing.collect_evidence(self)
        artifacts = sealing.write_reports(self)
        self.emit(jr.RunEnd(status, exit_code, summary, artifacts, worst_rto(measurements)))
        notify_quietly(self.inv, "finish" if exit_code == 0 else "failure",
                       {"run": self.folder.run_id, "status": status, "summary": summary})
        self.journal.close()
        sealing.index(self)
        if gate_refusal is not None:
            raise RefusedError(f"{gate_refusal}; drill not started "
                               f"(journal: {self.folder.path})")
        return RunOutcome(self.folder.run_id, self.folder.path, status, exit_code,
                          tuple(measurements), tuple(objs), summary, steady_after,
                          st.abort_reason, self.inv.environment.timezone, st.cutover_s())

    # ------------------------------------------------------------------ restore only

    def restore(self, before_step: Callable[[Any], str | None] | None = None) -> tuple[str, ...]:
        """Run the restore phase alone, to its end whatever fails (`drill recover`): the
        gateways are watched meanwhile, the fault is taken as started. `before_step` may
        skip a step with a reason. Returns the restore steps that failed."""
        self.before_step = before_step
        self.state.fault_started = True
        self.obs.start(self.folder)  # restore waits (all_logged_in, …) watch the streams
        try:
            self._run_phase("restore", keep_going=True)
        finally:
            self.ahead.close()
            self.stop_observing()
        return tuple(self.state.restore_failures)

    # ------------------------------------------------------------------ phases

    def _run_phase(self, phase: str, keep_going: bool = False) -> None:
        steps = self.resolved.phases.get(phase, ())
        self.state.phase = phase
        started = time.time_ns()
        self.emit(jr.PhaseStart(phase, Stamp(started, "engine")))
        status = "ok"
        try:
            for index, step in enumerate(steps):
                if not keep_going:
                    self.safety.check_stop()
                if not self._step_or_skip(phase, index, step, keep_going):
                    status = "failed"
                if not keep_going:
                    self.safety.check_stop()
            extra = failback_step(self, steps) if phase == "restore" else None
            if extra is not None and not self._step_or_skip(phase, len(steps), extra, True):
                status = "failed"
        except Abort:
            status = "aborted"
            raise
        except StepFailed:
            status = "failed"
            raise
        finally:
            ended = time.time_ns()
            self.emit(jr.PhaseEnd(phase, status, Stamp(started, "engine"), Stamp(ended, "engine"),
                                  round((ended - started) / 1e9, 6)))

    def _step_or_skip(self, phase: str, index: int, step, keep_going: bool) -> bool:
        skip = self.before_step(step) if self.before_step else None
        if skip:
            self.emit(jr.Note(skip, {"phase": phase, "index": index}))
            return True
        ok = self._run_step(phase, index, step)
        self.safety.journal_late_signals()
        if not ok and keep_going:
            self.state.restore_failures.append(f"{phase}[{index}] {step.name.en}")
        return ok

    def _run_step(self, phase: str, index: int, step) -> bool:
        label = f"{phase}[{index}]"
        self.state.step_label = label
        run_id = self.folder.run_id if self.folder else None
        self.safety.debug_pause(phase, index, "start", run_id)
        self.safety.check_stop()
        started = time.time_ns()
        changes = manual_changes(self.inv, step, self.opt.lang)
        automated = (step.kind != "manual" or self.target.unattended_ack is not None
                     or self.opt.yes or self.approval is not None) and not changes
        kind = KINDS.get(step.kind)
        if phase == "fault" or (step.effect is not None and is_fault(step.effect)):
            self.state.fault_started = True
        self.emit(jr.StepStart(phase, index, step.name, step.kind, automated,
                               Stamp(started, "engine"), kind.detail(step) if kind else {}))
        error: str | None = None
        status = "ok"
        refused = False  # not acknowledged: nothing ran
        try:
            if kind is None:
                error = f"unknown step kind {step.kind!r}"
            else:
                offer_next(self, phase, index)
                error = kind.run(self, StepCall(phase, index, step, label, changes))
        except Abort as e:
            status, error = "aborted", str(e)
            raise
        except StepFailed as e:
            error, refused = str(e), True
        except Exception as e:  # a bug in a step kind fails the step too: never "ok"
            bug = not isinstance(e, (RefusedError, OSError, ValueError, KeyError))
            error = f"{'internal error: ' if bug else ''}{type(e).__name__}: {e}"
        finally:
            if error and status == "ok":
                status = "failed"
            if status == "ok" and phase in STOPPABLE and self.safety.stopping():
                status = "aborted"
            ended = time.time_ns()
            self.emit(jr.StepEnd(phase, index, step.name, step.kind, automated,
                                 status, Stamp(started, "engine"), Stamp(ended, "engine"),
                                 round((ended - started) / 1e9, 6), error))
        self.safety.debug_pause(phase, index, "end", run_id)
        if status == "failed" and phase in STOPPABLE:
            if step.kind == "playbook" and not refused:
                raise Abort(f"{label} {step.name.en} failed: {error}")
            raise StepFailed(f"{label} {step.name.en} failed: {error}")
        return status == "ok"

    # ------------------------------------------------------------------ steady state

    def after_check(self, baseline: Mapping[str, str] | None = None, *,
                    require_home: bool, host_gate: Mapping[str, HostRead] | None = None) -> SteadyState:
        """Steady state after restore, journaled as `steady_state` (after): the monitors'
        view, then each gateway's config file and process as its host reports them."""
        self.state.phase = "after"
        res = wait_steady(self.inv, baseline, observe=self.target.environment_view,
                          views=self.obs.host_views,
                          require_home=require_home, timeout_s=AFTER_CHECK_TIMEOUT_S,
                          hours=self.state.flows or flow_hours(self.inv, now_of(self.opt),
                                                               self.opt.flow_checks))
        res = with_host_checks(res, host_checks(self.target.read_gateways(self.inv, self.connections.pool), host_gate))
        self.emit(jr.SteadyState("after", res.ok, res.checks))
        self.state.after_failures = res.describe_failures() if not res.ok else ""
        return res


def _await_failback(eng: Engine) -> None:
    """Until every gateway the failback repointed is measured back (its service's own
    "restored": the login, the first tick, the first transfer), or its service's target has
    passed since its failback. Judged earlier, a gateway still inside its target would be
    "not back in time" (a settlement gateway's first transfer comes a moment after its
    login); after the target it is, and is failed. The restarted gateways' streams are
    followed again first (bounded): measured unheard, a failback is "not measured"."""
    st, tracker = eng.state, eng.obs.tracker
    if st.failback_ns is None or tracker is None:
        return
    eng.obs.hear_again(st.failback_gateways, HEAR_AGAIN_S)
    targets = {gid: eng.drill.targets.target_of(eng.inv.gateway(gid).service_name)
               for gid in st.failback_gateways}
    deadline_ns = max(st.failback_at.get(gid, st.failback_ns) + int((t or HEAR_AGAIN_S) * 1e9)
                      for gid, t in targets.items())
    while time.time_ns() < deadline_ns:
        pending = [m for m in measure.measure_failback(eng.inv, eng.drill, st, tracker)
                   if m.restored is None and m.passed is not None]
        if not pending or eng.safety.signals.received:  # the operator wants out: judge now
            return
        with tracker.changed:  # woken by any gateway event; 0.1 s bounds a missed one
            tracker.changed.wait(timeout=min(0.1, max(0.0, (deadline_ns - time.time_ns()) / 1e9)))


def _precheck(eng: Engine) -> str | None:
    """The pre-check phase, part of the steady-state gate: a step failing there (not a
    signal or abort condition) refuses the drill, exit 4; the reason, else None."""
    if (refusal := _observe_refusal(eng)) is not None:
        return refusal
    try:
        eng._run_phase("precheck")
    except (Abort, StepFailed) as e:
        if eng.safety.stopping() or eng.state.fault_started:
            raise
        eng.emit(jr.SteadyState("gate", False, (jr.SteadyCheck("", "precheck", False, str(e)),)))
        return f"steady-state gate failed: pre-check: {e}"
    return None


def _observe_refusal(eng: Engine) -> str | None:
    """Before any change: the monitors answer as the inventory's gateways, every gateway
    the drill affects can be observed (issue 13), and the host-observed gateways' logs
    name the inventory's gateways."""
    from orchestrator.engine.plan import predicted_path

    def refuse(check: str, rows: list[tuple[str, str]], why: str) -> str:
        eng.emit(jr.SteadyState("gate", False, tuple(
            jr.SteadyCheck(gid, check, False, text) for gid, text in rows)))
        return why

    if wrong := mismatches(eng.inv):  # the monitors must be the inventory's gateways
        return refuse("identity", [(w.split(":")[0], w) for w in wrong],
                      "steady-state gate failed: monitor identity: " + "; ".join(wrong))
    # where the gateways are now, as the fault step will predict (a gateway left on its
    # other centre by an earlier drill is on another path than its home one)
    centres = eng.obs.tracker.centres()
    affected = predicted_path(eng.resolved, eng.inv, centres)
    blind = {gid: why for gid, why in sorted(eng.obs.cannot_observe.items()) if gid in affected}
    if blind:
        return refuse("observable", list(blind.items()),
                      "steady-state gate failed: cannot observe affected gateway(s): "
                      + "; ".join(f"{gid} ({why})" for gid, why in blind.items()))
    if wrong := eng.obs.identity_problems():
        return refuse("identity", [(w.split(":")[0], w) for w in wrong],
                      "steady-state gate failed: gateway log identity: " + "; ".join(wrong))
    return None


def _gate(eng: Engine) -> tuple[Mapping[str, str], Mapping[str, HostRead], str | None]:
    """The steady-state gate after the pre-check: the monitors' config baseline, each
    gateway's config as its host reports it, and the refusal if any."""
    eng.state.phase = "gate"
    eng.safety.debug_pause("gate", 0, "start", eng.folder.run_id)
    # Service hours (docs/steady-state.md): which flows the gate and the measurements expect
    eng.state.flows = flow_hours(eng.inv, now_of(eng.opt), eng.opt.flow_checks)
    res = wait_steady(eng.inv, observe=eng.target.environment_view, at_gate=True,
                      views=eng.obs.host_views,
                      timeout_s=GATE_SETTLE_S, stop=eng.safety.stopping, hours=eng.state.flows)
    host = eng.target.read_gateways(eng.inv, eng.connections.pool)
    res = with_host_checks(res, host_checks(host))
    eng.emit(jr.SteadyState("gate", res.ok, res.checks))
    if eng.safety.stop_flag.is_set():
        raise eng.safety.interrupted("gate", None)
    return res.baseline, host, (None if res.ok else f"steady-state gate failed: {res.describe_failures()}")


def _require_home(resolved) -> bool:
    return bool(resolved.drill.failback) or any(
        s.effect is not None and s.effect.repoint_to for _, s in resolved.steps())
