"""The drill engine: phases as data, walked in order, restore guaranteed.

precheck → steady-state gate → fault → recovery → hold → restore (in `finally`, once any
fault step has started) → failback measurement → after-check. Every event goes through the
`EventBus`; the journal handler is first and synchronous.

Safety: SIGINT/SIGTERM stop the fault, recovery and hold phases (the running playbook's
process group is killed), are journaled, and restore still runs; a second signal during
restore does not skip it. Abort conditions: the blast radius grows (a gateway off the
predicted failed path loses service) or recovery misses its deadline by the drill's
margin. The engine never exits the process: it returns a `RunOutcome` or raises
`RefusedError` / `InputError`.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestrator.config.secrets import inventory_secrets, vault_values
from orchestrator.engine import events as ev
from orchestrator.engine import sealing
from orchestrator.engine.lock import EnvironmentLock
from orchestrator.engine.steps import manual_changes, step_record, text_record
from orchestrator.engine.timing import (
    Measurement,
    Objective,
    effective_by_target,
    loss_causes,
    measure_gateway,
    objectives,
    predict_affected,
)
from orchestrator.errors import RefusedError
from orchestrator.journal.chain import Journal, read_records, stamp
from orchestrator.journal.runfolder import (
    RunFolder,
    register_active,
    sha256_file,
    unfinished_runs,
    unregister_active,
)
from orchestrator.model.inventory import Inventory
from orchestrator.model.redact import Redactor, secret_values
from orchestrator.model.results import worst_rto

FAULT_PHASES = ("fault", "recovery", "hold")
STOPPABLE = ("precheck", "gate", *FAULT_PHASES)  # a signal stops these; restore never
AFTER_CHECK_TIMEOUT_S = 60.0
GATE_SETTLE_S = 10.0
SAMPLE_BUDGET_HZ = 400.0
PAUSE_AT_ENV = "DRILL_DEBUG_PAUSE_AT"
PAUSE_FILE_ENV = "DRILL_DEBUG_PAUSE_FILE"


@dataclass(frozen=True)
class RunOptions:
    reports_dir: Path
    drill_home: Path
    project_root: Path
    overrides: Mapping[str, str] = field(default_factory=dict)
    operator: str | None = None
    yes: bool = False
    ticket: str | None = None
    approver: str | None = None
    confirm_environment: str | None = None
    override_window: str | None = None
    lang: str = "en"
    lab_state_dir: Path | None = None  # set for a running lab
    # Interactive hooks (the CLI passes click prompts; None = not interactive).
    ask: Callable[[str], str] | None = None
    progress: bool = False
    # signing.Signer from --signing-key (loaded before the run starts); None: look the key
    # up at seal time (DRILL_SIGNING_KEY, else the inventory's drill.signing.key).
    signer: Any = None


@dataclass(frozen=True)
class RunOutcome:
    run_id: str
    run_dir: Path
    status: str  # passed | failed | aborted
    exit_code: int
    measurements: tuple[Measurement, ...]
    objectives: tuple[Objective, ...]
    summary: str
    steady_after_ok: bool | None
    abort_reason: str | None = None
    timezone: str = "Asia/Shanghai"
    cutover_s: float | None = None


class _Abort(Exception):
    """Stop the fault phases and restore (exit 3)."""


class _StepFailed(Exception):
    """A step failed: stop the fault phases and restore (exit 1)."""


class _Signals:
    """SIGINT/SIGTERM for the life of a run; only flags are set in the handler."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.received: list[str] = []
        self._old: dict[int, Any] = {}

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._old[sig] = signal.signal(sig, self._handle)

    def restore(self) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)
        self._old.clear()

    def _handle(self, signum: int, _frame: Any) -> None:
        name = signal.Signals(signum).name
        self.received.append(name)
        if self.engine.phase in ("restore", "after", "failback"):
            with contextlib.suppress(OSError):
                os.write(2, (f"\n{name}: restore is running and will finish; if drill is killed, "
                             f"run `drill recover` to restore the environment.\n").encode())
            return
        self.engine.stop_flag.set()
        self.engine.cancel.set()


class Engine:
    def __init__(self, resolved, inventory: Inventory, options: RunOptions,
                 handlers: tuple[ev.Handler, ...] = ()) -> None:
        self.resolved = resolved
        self.drill = resolved.drill
        self.inv = inventory
        self.opt = options
        self.bus = ev.EventBus()
        self._extra_handlers = handlers
        self.phase = "init"
        self.step_label: str | None = None
        self.stop_flag = threading.Event()
        self.cancel = threading.Event()
        self.abort_reason: str | None = None
        self._abort_event = threading.Event()
        self.fault_started = False
        self.down_lines: set[str] = set()
        self.down_centres: set[str] = set()
        self.affected: dict[str, list[str]] = {}
        self.link_lost_ns: int | None = None
        self.fault_source = "fault-task"
        self.centres_before: dict[str, str | None] = {}
        self.observed: dict[str, int] = {}
        self.loss_watch_since: int | None = None
        self.failback_ns: int | None = None
        self.failback_gateways: tuple[str, ...] = ()
        self.restarted: set[str] = set()  # gateways a fault step repointed (restarted)
        # Per gateway: when its own path was cut (the target's effective time), and source.
        self.lost_at: dict[str, tuple[int, str]] = {}
        self.failback_at: dict[str, int] = {}
        self.cutover_done_ns: int | None = None
        self.restore_started_ns: int | None = None
        self.step_failures: list[str] = []
        self.restore_failures: list[str] = []
        self.max_sessions: dict[str, int] = {}
        self.signals = _Signals(self)
        self.redactor = Redactor(secret_values(_inventory_vars(inventory))
                                 + inventory_secrets(Path(inventory.path))
                                 + vault_values(Path(inventory.path)))
        self.journal: Journal | None = None
        self.folder: RunFolder | None = None
        self.tracker = None
        self.runtime = None
        self.sink = None
        self._events_fh = None
        self._progress = None
        self.before_step: Callable[[Any], str | None] | None = None
        self._after_failures = ""
        self._signals_journaled = 0
        self._pause_at = os.environ.get(PAUSE_AT_ENV)
        self._pause_file = os.environ.get(PAUSE_FILE_ENV)

    # ------------------------------------------------------------------ helpers

    @property
    def lab(self) -> bool:
        return self.opt.lab_state_dir is not None

    def lab_status(self) -> dict[str, Any]:
        from orchestrator.lab.control import LabClient

        return LabClient(self.opt.lab_state_dir, timeout=5.0).status()

    def emit(self, event: ev.Event) -> None:
        self.bus.emit(event)

    def _now(self, source: str = "engine") -> dict[str, Any]:
        return stamp(time.time_ns(), source)

    def _stopping(self) -> bool:
        return self.stop_flag.is_set() or self._abort_event.is_set()

    def _check_stop(self) -> None:
        if self.phase not in STOPPABLE:
            return
        if self.stop_flag.is_set():
            sig = self.signals.received[0] if self.signals.received else "SIGINT"
            self.emit(ev.SignalReceived(sig, self.phase, self.step_label))
            self._signals_journaled = len(self.signals.received)
            raise _Abort(f"interrupted by {sig}")
        if self._abort_event.is_set():
            raise _Abort(self.abort_reason or "abort condition")

    def _journal_late_signals(self) -> None:
        """Signals that arrived while restore ran: journaled; restore went on regardless."""
        while self._signals_journaled < len(self.signals.received):
            if self.phase not in STOPPABLE:
                self.emit(ev.SignalReceived(self.signals.received[self._signals_journaled],
                                            self.phase, self.step_label))
            self._signals_journaled += 1

    def _request_abort(self, reason: str) -> None:
        if self._abort_event.is_set():
            return
        self.abort_reason = reason
        self._abort_event.set()
        self.cancel.set()

    def _debug_pause(self, phase: str, index: int, edge: str) -> None:
        """Test hook (inert unless DRILL_DEBUG_PAUSE_AT and _FILE are set): park at a boundary."""
        if not self._pause_at or not self._pause_file or self._pause_at != f"{phase}:{index}:{edge}":
            return
        path = Path(self._pause_file)
        path.write_text(json.dumps({"at": self._pause_at, "pid": os.getpid(),
                                    "run": self.folder.run_id if self.folder else None}))
        seen = len(self.signals.received)
        while path.exists() and len(self.signals.received) == seen:
            time.sleep(0.02)

    # ------------------------------------------------------------------ preflight

    def preflight(self) -> None:
        """Refusals that need no run folder: production confirmation, change window, operator."""
        env = self.inv.environment
        if not env.is_lab:
            confirmed = self.opt.confirm_environment
            if confirmed is None and self.opt.ask is not None:
                confirmed = self.opt.ask(
                    f"This drill cuts service on environment {env.name!r} ({env.kind}). "
                    f"Type the environment name to confirm")
            if confirmed != env.name:
                raise RefusedError(
                    f"environment {env.name!r} is not a lab: confirm with "
                    f"--confirm-environment {env.name} (--yes alone never confirms it)")
            when = _now_dt()
            try:
                from orchestrator.compliance.windows import in_change_window
            except ImportError:
                in_change_window = None
            if in_change_window is not None and not in_change_window(self.inv, when) \
                    and not self.opt.override_window:
                raise RefusedError(
                    f"outside the change windows of {env.name!r}; give --override-window REASON "
                    f"to run anyway (recorded in the journal)")
        manual = [s for _, s in self.resolved.steps() if s.kind == "manual"]
        if manual and not env.is_lab and not self.opt.yes and self.opt.ask is None:
            raise RefusedError("this drill has manual steps and nobody can confirm them: "
                               "run interactively or with --yes --operator NAME")
        if self.opt.yes and manual and not env.is_lab and not self.opt.operator:
            raise RefusedError("--yes acknowledges manual steps only with --operator NAME")
        if self.opt.ask is None and self._manual_driver_steps():
            # A person makes these changes: nobody to ask means the fault step would fail
            # half-way. Lab or not, and --yes does not stand in for the person.
            raise RefusedError("this drill changes lines, centres or gateways through the manual "
                               "driver and nobody can confirm them: run it interactively "
                               "(--yes never confirms a manual change)")

    def _manual_driver_steps(self) -> list[str]:
        """Playbook steps (and a declared failback) that a person must carry out."""
        names = [s.name.en for _, s in self.resolved.steps() if manual_changes(self.inv, s)]
        if self.drill.failback and any((g.driver or self.inv.driver) == "manual"
                                       for g in self.inv.gateways if not g.satellite_only):
            names.append("failback repoint")
        return names

    # ------------------------------------------------------------------ run

    def run(self) -> RunOutcome:
        self.preflight()
        env = self.inv.environment.name
        lock = EnvironmentLock(self.opt.drill_home, env)
        from orchestrator.journal.runfolder import new_run_id

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
            self.journal = Journal(self.folder.journal, run_id)
            self.bus.subscribe(ev.JournalHandler(self.journal, self.redactor), critical=True)
            for h in self._extra_handlers:
                self.bus.subscribe(h)
            register_active(self.opt.drill_home, env, self.folder)
            self.signals.install()
            try:
                self.emit(ev.RunStarted(self._run_start_record()))
                self.emit(ev.LockTaken(str(lock.path), holder.__dict__))
                self._notify("start", {"run": run_id, "drill": self.drill.id})
                return self._walk()
            finally:
                self.signals.restore()
                self._stop_probes()
                if self.journal is not None:
                    self.journal.close()
                if self._finished():
                    unregister_active(self.opt.drill_home, env, run_id)
        finally:
            lock.release()

    def _finished(self) -> bool:
        return self.folder is not None and any(
            r.kind == "run.end" for r in read_records(self.folder.journal))

    def _walk(self) -> RunOutcome:
        status, exit_code = "passed", 0
        measurements: list[Measurement] = []
        steady_after = None
        gate_refusal: str | None = None
        baseline: Mapping[str, str] = {}
        self._start_probes()
        if not self.lab:
            self._record_clock_offsets()
        try:
            self._run_phase("precheck")
            baseline, gate_refusal = self._gate()
            if gate_refusal is None:
                for phase in FAULT_PHASES:
                    self._run_phase(phase)
        except _Abort as e:
            self._note_abort(str(e))
            status, exit_code = "aborted", 3
        except _StepFailed as e:
            status, exit_code = "failed", 1
            self.step_failures.append(str(e))
        finally:
            # Restore is structural: it runs whatever happened above, once a fault started.
            self.restore_started_ns = time.time_ns()
            if self.fault_started:
                measurements = self._measure_failover()
                self._run_phase("restore", keep_going=True)
            if gate_refusal is None:
                steady_after = self._after_check(baseline)
            self._journal_late_signals()
        if self.signals.received and status != "aborted":
            # Interrupted during restore or the after-check: restore finished, yet the
            # operator stopped the run.
            status, exit_code = "aborted", 3
            self.abort_reason = self.abort_reason or f"interrupted by {self.signals.received[0]}"
        if self.failback_ns is not None:
            measurements += self._measure_failback()
        for m in measurements:
            self.emit(ev.Measured(m.to_record()))
        objs = self._objectives(measurements) if self.fault_started else []
        for o in objs:
            self.emit(ev.ObjectiveResult(o.name, o.target, o.measured, o.passed, o.detail))
        if gate_refusal is not None:
            status, exit_code = "refused", 4
        elif status == "passed" and (not all(o.passed for o in objs) or self.restore_failures
                                     or steady_after is False):
            status, exit_code = "failed", 1
        elif status == "failed" and self.restore_failures:
            pass
        summary = self._summary(status, objs, steady_after, gate_refusal)
        sealing.collect_evidence(self)
        artifacts = sealing.write_reports(self)
        self.emit(ev.RunEnded(status, exit_code, summary, artifacts, worst_rto(measurements)))
        self._notify("finish" if exit_code == 0 else "failure",
                     {"run": self.folder.run_id, "status": status, "summary": summary})
        self.journal.close()
        sealing.index(self)
        if gate_refusal is not None:
            raise RefusedError(f"steady-state gate failed, drill not started: {gate_refusal} "
                               f"(journal: {self.folder.path})")
        return RunOutcome(self.folder.run_id, self.folder.path, status, exit_code,
                          tuple(measurements), tuple(objs), summary, steady_after,
                          self.abort_reason, self.inv.environment.timezone,
                          self._cutover_s())

    def _note_abort(self, reason: str) -> None:
        self.abort_reason = self.abort_reason or reason
        self.emit(ev.Aborted(self.abort_reason, self.phase, self.step_label))

    # ------------------------------------------------------------------ phases

    def _run_phase(self, phase: str, keep_going: bool = False) -> None:
        steps = self.resolved.phases.get(phase, ())
        self.phase = phase
        started = time.time_ns()
        self.emit(ev.PhaseStarted(phase, stamp(started, "engine")))
        status = "ok"
        try:
            for index, step in enumerate(steps):
                if not keep_going:
                    self._check_stop()
                skip = self.before_step(step) if self.before_step else None
                if skip:
                    self.emit(ev.Note(skip, {"phase": phase, "index": index}))
                    continue
                ok = self._run_step(phase, index, step)
                self._journal_late_signals()
                if not ok:
                    status = "failed"
                    if keep_going:
                        self.restore_failures.append(f"{phase}[{index}] {step.name.en}")
                if not keep_going:
                    self._check_stop()
            if phase == "restore":
                extra = self._failback_step(steps)
                if extra is not None:
                    skip = self.before_step(extra) if self.before_step else None
                    if skip:
                        self.emit(ev.Note(skip, {"phase": phase, "index": len(steps)}))
                    elif not self._run_step(phase, len(steps), extra):
                        status = "failed"
                        self.restore_failures.append(f"{phase}[{len(steps)}] {extra.name.en}")
                    self._journal_late_signals()
        except _Abort:
            status = "aborted"
            raise
        except _StepFailed:
            status = "failed"
            raise
        finally:
            ended = time.time_ns()
            self.emit(ev.PhaseEnded(phase, status, stamp(started, "engine"), stamp(ended, "engine"),
                                    round((ended - started) / 1e9, 6)))

    def _run_step(self, phase: str, index: int, step) -> bool:
        label = f"{phase}[{index}]"
        self.step_label = label
        self._debug_pause(phase, index, "start")
        if phase in STOPPABLE:
            self._check_stop()
        started = time.time_ns()
        changes = manual_changes(self.inv, step, self.opt.lang)
        automated = (step.kind != "manual" or self.lab or self.opt.yes) and not changes
        detail: dict[str, Any] = {}
        if step.kind == "playbook":
            detail = {"playbook": step.playbook, "vars": dict(step.vars)}
        if phase == "fault" or (step.effect is not None and _is_fault(step.effect)):
            self.fault_started = True
        self.emit(ev.StepStarted(phase, index, text_record(step.name), step.kind, automated,
                                 stamp(started, "engine"), detail))
        error: str | None = None
        status = "ok"
        refused = False  # not acknowledged: nothing ran
        try:
            if step.kind == "playbook":
                error = self._playbook_step(phase, index, step, label, changes)
            elif step.kind == "manual":
                self._manual_step(step, label)
            elif step.kind == "wait":
                error = self._wait_step(phase, step)
            elif step.kind == "verify":
                error = self._verify_step(step)
            else:
                error = f"unknown step kind {step.kind!r}"
        except _Abort as e:
            status, error = "aborted", str(e)
            raise
        except _StepFailed as e:
            error, refused = str(e), True
        except (RefusedError, OSError, ValueError, KeyError) as e:
            error = f"{type(e).__name__}: {e}"
        finally:
            if error and status == "ok":
                status = "failed"
            if status == "ok" and phase in STOPPABLE and self._stopping():
                status = "aborted"
            ended = time.time_ns()
            self.emit(ev.StepEnded(phase, index, text_record(step.name), step.kind, automated,
                                   status, stamp(started, "engine"), stamp(ended, "engine"),
                                   round((ended - started) / 1e9, 6), error))
        self._debug_pause(phase, index, "end")
        if status == "failed" and phase in STOPPABLE:
            if step.kind == "playbook" and not refused:
                raise _Abort(f"{label} {step.name.en} failed: {error}")
            raise _StepFailed(f"{label} {step.name.en} failed: {error}")
        return status == "ok"

    def _failback_step(self, steps):
        """Failback the drill declares but does not spell out: repoint every gateway that
        is off its home centre (seen on its monitor now) back home, measured as failback."""
        if not self.drill.failback or any(
                s.effect is not None and s.effect.repoint_to == "home" for s in steps):
            return None
        import asyncio

        from orchestrator.model.drill import Effect, Step
        from orchestrator.probes.monitor import fetch_many

        eligible = [g for g in self.inv.gateways if not g.satellite_only]
        statuses = asyncio.run(fetch_many({g.id: (g.monitor.address, g.monitor.port)
                                           for g in eligible}))
        away = tuple(g.id for g in eligible if isinstance(statuses.get(g.id), Mapping)
                     and statuses[g.id].get("centre") not in (None, self.inv.home_centre(g)))
        if not away:
            return None
        from orchestrator.model.inventory import Text

        return Step(name=Text("回切：网关恢复至主用中心", "Failback: return gateways to their home centre"),
                    kind="playbook", playbook="repoint.yml", vars={"gateways": list(away), "to": "home"},
                    effect=Effect(repoint_gateways=away, repoint_to="home"), timeout_s=300.0)

    # ------------------------------------------------------------------ step kinds

    def _playbook_step(self, phase: str, index: int, step, label: str,
                       changes: tuple[str, ...] = ()) -> str | None:
        from orchestrator.adapters import ansible

        effect = step.effect
        if effect is not None and _is_fault(effect):
            views = self.tracker.views()
            centres = {gid: v.centre for gid, v in views.items()}
            if self.link_lost_ns is None:
                self.centres_before = dict(centres)
            predicted = predict_affected(self.inv, effect, centres, self.down_lines, self.down_centres)
            causes = loss_causes(self.inv, effect, centres, self.down_lines, self.down_centres)
        else:
            predicted, causes = {}, {}
        seq = sum(1 for _ in self._all_steps_before(phase, index))
        pdd = self.folder.ansible_dir(seq, step.name.en)
        extravars = {**dict(step.vars), "drill_run_id": self.folder.run_id,
                     "drill_environment": self.inv.environment.name,
                     "drill_home": str(self.opt.drill_home),
                     "drill_project": str(self.opt.project_root),
                     "evidence_dir": str(self.folder.evidence_files)}
        if changes:
            # After the prediction (it needs the state before the change), before the run.
            extravars["drill_manual_ack"] = self._manual_ack(phase, step, label, changes)
        playbook = Path(self.opt.project_root) / "playbooks" / str(step.playbook)
        cancel = self.cancel if phase in STOPPABLE else threading.Event()

        def on_process(pid: int, pgid: int) -> None:
            self.emit(ev.AnsibleProcess(label, pid, pgid))

        def on_task(t) -> None:
            msg = "<censored>" if t.no_log else self.redactor.redact_text(t.msg or "")
            self.emit(ev.TaskFinished(label, t.host, t.task, t.action, t.status,
                                      stamp(t.started_ns, "engine"), stamp(t.ended_ns, "engine"),
                                      round((t.ended_ns - t.started_ns) / 1e9, 6),
                                      t.effective_ns, msg))

        result = ansible.run_playbook(
            ansible.PlaybookRun(playbook=playbook, inventory=self._ansible_inventory(),
                                extravars=extravars, private_data_dir=pdd,
                                timeout_s=step.timeout_s,
                                secrets=tuple(self.redactor.values)),
            on_task=on_task, on_process=on_process, cancel=cancel)
        if effect is not None:
            self._apply_effect(label, effect, result, predicted, phase, causes)
        if result.status == "canceled":
            self._check_stop()
            return "playbook canceled"
        if not result.ok:
            failed = result.failed_tasks
            why = "; ".join(f"{t.host}: {t.task}: {t.msg}" for t in failed[:3]) or result.status
            return f"playbook {step.playbook} {result.status} (rc {result.rc}): {self.redactor.redact_text(why)}"
        return None

    def _ansible_inventory(self) -> Path:
        return Path(self.inv.path)

    def _all_steps_before(self, phase: str, index: int):
        from orchestrator.model.drill import PHASES

        for p in PHASES:
            for i, s in enumerate(self.resolved.phases.get(p, ())):
                if p == phase and i == index:
                    return
                yield s

    def _apply_effect(self, label: str, effect, result, predicted, phase: str,
                      causes: Mapping[str, str] | None = None) -> None:
        eff_ns = result.effective_ns
        source, unc = "fault-task", 1.0
        if eff_ns is None:
            # No task stamped its change: the playbook's end bounds it (engine time).
            eff_ns, source, unc = time.time_ns(), "engine", 0.0
        by_target = effective_by_target(result.private_data_dir)
        self.down_lines |= set(effect.lines_down)
        self.down_lines -= set(effect.lines_up)
        self.down_centres |= set(effect.centres_down)
        self.down_centres -= set(effect.centres_up)
        if _is_fault(effect) and phase != "restore":
            if self.link_lost_ns is None:
                self.link_lost_ns, self.fault_source = eff_ns, source
                self.loss_watch_since = eff_ns
            for gid, services in predicted.items():
                if gid not in self.affected:
                    self.affected[gid] = services
                    cause = (causes or {}).get(gid, "")
                    self.lost_at[gid] = (by_target.get(cause, eff_ns), source)
            self.restarted |= set(effect.repoint_gateways)
            self._scan_blast_radius()
        elif effect.repoint_to == "home" and effect.repoint_gateways:
            self.failback_ns = eff_ns
            self.failback_gateways = tuple(effect.repoint_gateways)
            self.failback_at = {gid: by_target.get(gid, eff_ns) for gid in effect.repoint_gateways}
        self.emit(ev.FaultEffective(label, step_effect_record(effect), stamp(eff_ns, source, unc),
                                    predicted, {t: stamp(ns, "fault-task", 1.0)
                                                for t, ns in sorted(by_target.items())}))

    def _manual_step(self, step, label: str) -> None:
        operator = self.opt.operator or getpass.getuser()
        if self.lab:
            how, unattended = "lab-auto", True
        elif self.opt.yes:
            how, unattended = "--yes", True
        else:
            text = (step.manual.get(self.opt.lang) if step.manual else step.name.get(self.opt.lang))
            answer = self.opt.ask(f"{text}\nType your name when done") if self.opt.ask else ""
            if not answer:
                raise _StepFailed(f"{label}: not acknowledged")
            operator, how, unattended = answer, "prompt", False
        self.emit(ev.OperatorAck(label, operator, self._now("operator"), unattended, how))

    def _manual_ack(self, phase: str, step, label: str, changes: tuple[str, ...]) -> dict[str, Any]:
        """A person makes the manual driver's change and types their name; the instant they
        confirm is the change's effective time (drill_manual_ack for drivers/manual/confirm.yml).
        Never unattended: neither the lab nor --yes makes a change nobody made."""
        zh = self.opt.lang == "zh"
        question = "\n".join([
            step.name.get(self.opt.lang),
            "请现在手工完成以下变更：" if zh else "Make these changes by hand now:",
            *(f"  - {c}" for c in changes),
            "完成后输入您的姓名（留空则本步骤失败）" if zh else
            "Type your name when done (empty: the step fails)"])
        answer = (self.opt.ask(question) or "").strip() if self.opt.ask else ""
        at_ns = time.time_ns()
        if answer:  # journaled even if a signal came meanwhile: the change was made
            self.emit(ev.OperatorAck(label, answer, stamp(at_ns, "operator"), False, "prompt"))
        if phase in STOPPABLE:
            self._check_stop()  # Ctrl-C while the question was open: restore undoes it
        if not answer:
            why = "empty answer" if self.opt.ask else "nobody to ask (not interactive)"
            raise _StepFailed(f"{label}: manual change not acknowledged ({why}): "
                              + "; ".join(changes))
        return {"operator": answer, "at_ns": at_ns}

    def _wait_step(self, phase: str, step) -> str | None:
        w = step.wait
        start_mono = time.monotonic()
        if w.for_s is not None and w.until is None:
            watch_from = time.time_ns()
            # Only a gateway serving at the start of the soak can suffer a *new* loss.
            serving = {gid for gid, v in self.tracker.views().items() if v.service_up}
            deadline = start_mono + w.for_s
            while time.monotonic() < deadline:
                self._poll_abort(phase)
                if w.while_ == "no_new_loss":
                    lost = self._new_losses(watch_from, serving)
                    if lost:
                        raise _Abort(f"service lost during the soak: {', '.join(lost)}")
                self._show("hold", time.monotonic() - start_mono, w.for_s)
                time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
            return None
        timeout = w.timeout_s if w.timeout_s is not None else step.timeout_s
        margin = self.drill.abort.recovery_margin_s if w.until == "all_restored" else 0.0
        deadline = start_mono + timeout
        while True:
            self._poll_abort(phase)
            ok, pending = self._condition(w.until, w.arg)
            elapsed = time.monotonic() - start_mono
            self._show(w.until or "wait", elapsed, timeout, pending)
            if ok:
                if w.until == "on_centre" and self.cutover_done_ns is None:
                    self.cutover_done_ns = time.time_ns()
                if elapsed > timeout:
                    return f"{w.until} held only after {elapsed:.1f}s, past the {timeout:g}s deadline"
                return None
            if elapsed > timeout + margin:
                if margin and phase == "recovery":
                    raise _Abort(f"recovery missed its {timeout:g}s deadline by more than "
                                 f"{margin:g}s; still pending: {', '.join(pending[:10])}")
                return f"{w.until} not reached within {timeout:g}s; pending: {', '.join(pending[:10])}"
            time.sleep(0.05)

    def _verify_step(self, step) -> str | None:
        from orchestrator.engine.steps import verify_all
        from orchestrator.probes import default_registry

        since = self.link_lost_ns or time.time_ns() - 60_000_000_000
        results = verify_all(self.inv, step.verify, log_path=self._log_path, since_ns=since,
                             registry=default_registry(), stop=self._stopping)
        bad = [r.detail for r in results if not r.ok]
        return "; ".join(bad) if bad else None

    def _log_path(self, gateway: str) -> Path | None:
        if self.lab:
            return Path(self.opt.lab_state_dir) / "gateways" / gateway / "gateway.log"
        return None

    # ------------------------------------------------------------------ conditions

    def _condition(self, until: str | None, arg: str | None) -> tuple[bool, list[str]]:
        from orchestrator.engine import steps

        if until == "all_restored":
            return self._all_restored()
        if until == "all_logged_in":
            return steps.all_logged_in(self.inv, self.tracker)
        if until == "on_centre":
            return steps.on_centre(self.inv, self.tracker, arg or "BJ")
        if until == "md_source":
            return steps.md_source(self.inv, self.tracker, arg or "tcp")
        if until == "steady":
            from orchestrator.engine.steady import check

            res = check(self.inv, lab_status=self.lab_status if self.lab else None)
            return res.ok, sorted({c.gateway for c in res.failures})
        return False, [f"unknown condition {until!r}"]

    def _grace_ns(self) -> int:
        t = self.inv.timing
        return int((t.heartbeat_timeout + t.reconnect_interval + 1.0) * 1e9)

    def _all_restored(self) -> tuple[bool, list[str]]:
        if self.link_lost_ns is None:
            return True, []
        pending = []
        now = time.time_ns()
        for gid in self.affected:
            gw = self.inv.gateway(gid)
            lost_ns = self.lost_at.get(gid, (self.link_lost_ns, ""))[0]
            m = measure_gateway(gateway=gid, kind=gw.kind, service=gw.service_name, affected=True,
                                link_lost_ns=lost_ns, window_end_ns=None,
                                events=self.tracker.events(gid), observed_ns=None,
                                probe_period_s=self.inv.timing.probe_period, target_s=None,
                                centre_before=None, restarted=gid in self.restarted)
            if m.restored is not None:
                continue
            if not m.interrupted and now - lost_ns > self._grace_ns():
                continue
            pending.append(gid)
        return not pending, pending

    def _poll_abort(self, phase: str) -> None:
        if phase in STOPPABLE:
            self._check_stop()

    def _new_losses(self, since_ns: int, among: set[str]) -> list[str]:
        kinds = {g.id: g.kind for g in self.inv.gateways}
        return [gid for gid in sorted(among)
                if any(_service_loss(kinds[gid], e) for e in self.tracker.events(gid, since_ns))]

    def _on_gateway_event(self, rec) -> None:
        """Probe thread: journal the event, write evidence, watch the blast radius."""
        if self._events_fh is not None:
            self._events_fh.write(json.dumps({**rec.event, "received_ns": rec.recv_ns},
                                             separators=(",", ":")) + "\n")
        if rec.type != "snapshot":
            self.emit(ev.GatewayEvent(rec.event, rec.recv_ns))
        if (self.drill.abort.blast_radius and self.link_lost_ns is not None
                and self.phase in FAULT_PHASES and rec.gateway not in self.affected
                and rec.ts_ns >= self.link_lost_ns
                and _service_loss(self.inv.gateway(rec.gateway).kind, rec)):
            self._request_abort(f"blast radius: {rec.gateway} is not on the predicted failed path "
                                f"but lost service ({rec.type} {dict(rec.data)})")

    def _scan_blast_radius(self) -> None:
        """Losses that arrived before the fault's time was known (the playbook still ran)."""
        if not self.drill.abort.blast_radius or self.link_lost_ns is None:
            return
        for g in self.inv.gateways:
            if g.id in self.affected:
                continue
            for rec in self.tracker.events(g.id, self.link_lost_ns):
                if _service_loss(g.kind, rec):
                    self._request_abort(f"blast radius: {g.id} is not on the predicted failed "
                                        f"path but lost service ({rec.type} {dict(rec.data)})")
                    return

    def _on_sample(self, sample) -> None:
        if self.sink is not None:
            self.sink.write(sample)
        if (not sample.ok and not sample.missed and self.link_lost_ns is not None and sample.t_ns >= self.link_lost_ns
                and sample.target not in self.observed and self.phase in FAULT_PHASES):
            self.observed[sample.target] = sample.t_ns
            gw = self.inv.gateway(sample.target)
            self.emit(ev.ProbeTransition(sample.target, gw.service_name, sample.probe, "ok", "fail",
                                         stamp(sample.t_ns, "probe-sample",
                                               self.sample_period() * 1000)))

    # ------------------------------------------------------------------ probes

    def _record_clock_offsets(self) -> None:
        """Real hosts: every SSH host's clock offset, kept as evidence (docs/real-hosts.md)."""
        from orchestrator.adapters.hosts import record_clock_offsets

        rows = record_clock_offsets(self.inv.path, self.folder.evidence / "clock-offsets.json")
        if rows:
            self.emit(ev.Note("clock offsets of the SSH hosts recorded", {"hosts": rows}))

    def _start_probes(self) -> None:
        from orchestrator.probes import ProbeRuntime, SampleSink, run_periodic
        from orchestrator.probes.monitor import GatewayTracker, StatusProbe, StreamWatcher

        self.tracker = GatewayTracker((g.id, g.kind) for g in self.inv.gateways)
        self.sink = SampleSink(self.folder.probes)
        self._events_fh = open(self.folder.gateway_events, "a", encoding="utf-8")  # noqa: SIM115
        endpoints = {g.id: (g.monitor.address, g.monitor.port) for g in self.inv.gateways}
        watcher = StreamWatcher(endpoints, self.tracker, self._on_gateway_event)
        self.runtime = ProbeRuntime().start()
        period = self.sample_period()
        for g in self.inv.gateways:
            self.runtime.spawn(lambda gid=g.id: watcher.run_one(gid))
            probe = StatusProbe(g.monitor.address, g.monitor.port, gateway=g.id)
            self.runtime.spawn(lambda p=probe: run_periodic(p, period, self._on_sample))
        if self.lab:
            self.runtime.spawn(self._watch_sessions)
        deadline = time.monotonic() + 10
        while not self.tracker.all_connected() and time.monotonic() < deadline:
            time.sleep(0.02)

    def sample_period(self) -> float:
        """The `/status` sampling period: the inventory's, stretched so all gateways together
        stay under SAMPLE_BUDGET_HZ requests a second (the streams, not the samples, time
        the drill; 200 gateways polled 20 times a second would starve a small host)."""
        return max(self.inv.timing.probe_period, len(self.inv.gateways) / SAMPLE_BUDGET_HZ)

    async def _watch_sessions(self) -> None:
        """Lab: the exchange's session table, for the no-double-login objective."""
        import asyncio

        from orchestrator.engine.steady import _sessions_by_gateway

        while True:
            try:
                st = await asyncio.get_running_loop().run_in_executor(None, self.lab_status)
                for gid, n in _sessions_by_gateway(st).items():
                    if n > self.max_sessions.get(gid, 0):
                        self.max_sessions[gid] = n
            except Exception:  # the lab may be busy; the next look counts
                pass
            await asyncio.sleep(0.2)

    def _stop_probes(self) -> None:
        if self.runtime is not None:
            self.runtime.stop()
            self.runtime = None
        if self.sink is not None:
            self.sink.close()
        if self._events_fh is not None:
            with contextlib.suppress(OSError):
                self._events_fh.close()
            self._events_fh = None
        if self._progress:
            with contextlib.suppress(Exception):
                self._progress.close()
        self._progress = None

    def _show(self, what: str, elapsed: float, target: float | None, pending=()) -> None:
        if not self.opt.progress or self._progress is False:
            return
        try:
            if self._progress is None:
                from orchestrator.engine.progress import LiveProgress

                self._progress = LiveProgress()
            views = self.tracker.views() if self.tracker else {}
            down = [gid for gid, v in views.items() if not v.service_up]
            self._progress.update(self.phase, what, elapsed, target, down, list(pending))
        except Exception as e:  # the display is an observer: it never breaks the run
            self._progress = False
            self.emit(ev.Note("progress display disabled", {"error": f"{type(e).__name__}: {e}"}))

    # ------------------------------------------------------------------ steady state

    def _gate(self) -> tuple[Mapping[str, str], str | None]:
        from orchestrator.engine.steady import wait_steady

        self.phase = "gate"
        self._debug_pause("gate", 0, "start")
        res = wait_steady(self.inv, lab_status=self.lab_status if self.lab else None,
                          at_gate=True, timeout_s=GATE_SETTLE_S, stop=self._stopping)
        self.emit(ev.SteadyStateResult("gate", res.ok, tuple(c.to_record() for c in res.checks)))
        if self.stop_flag.is_set():
            sig = self.signals.received[0] if self.signals.received else "SIGINT"
            self.emit(ev.SignalReceived(sig, "gate", None))
            self._signals_journaled = len(self.signals.received)
            raise _Abort(f"interrupted by {sig}")
        if not res.ok:
            return res.baseline, res.describe_failures()
        return res.baseline, None

    def _after_check(self, baseline: Mapping[str, str]) -> bool:
        from orchestrator.engine.steady import wait_steady

        self.phase = "after"
        require_home = bool(self.drill.failback) or any(
            s.effect is not None and s.effect.repoint_to for _, s in self.resolved.steps())
        res = wait_steady(self.inv, baseline, lab_status=self.lab_status if self.lab else None,
                          require_home=require_home, timeout_s=AFTER_CHECK_TIMEOUT_S)
        self.emit(ev.SteadyStateResult("after", res.ok, tuple(c.to_record() for c in res.checks)))
        self._after_failures = res.describe_failures() if not res.ok else ""
        return res.ok

    # ------------------------------------------------------------------ measuring

    def _measure_failover(self) -> list[Measurement]:
        if self.link_lost_ns is None:
            return []
        end = self.restore_started_ns
        out = []
        for g in self.inv.gateways:
            affected = g.id in self.affected
            lost_ns, source = self.lost_at.get(g.id, (self.link_lost_ns, self.fault_source))
            out.append(measure_gateway(
                gateway=g.id, kind=g.kind, service=g.service_name, affected=affected,
                link_lost_ns=lost_ns, window_end_ns=end,
                events=self.tracker.events(g.id), observed_ns=self.observed.get(g.id),
                probe_period_s=self.sample_period(),
                target_s=self.drill.targets.rto_s.get(g.service_name),
                centre_before=self.centres_before.get(g.id), fault_source=source,
                restarted=g.id in self.restarted))
        return out

    def _measure_failback(self) -> list[Measurement]:
        out = []
        for gid in self.failback_gateways:
            g = self.inv.gateway(gid)
            out.append(measure_gateway(
                gateway=gid, kind=g.kind, service=g.service_name, affected=True,
                link_lost_ns=self.failback_at.get(gid, self.failback_ns), window_end_ns=None,
                events=self.tracker.events(gid) if self.tracker else [], observed_ns=None,
                probe_period_s=self.inv.timing.probe_period,
                target_s=self.drill.targets.rto_s.get(g.service_name),
                centre_before=None, phase="failback", fault_source="fault-task",
                restarted=True))
        return out

    def _objectives(self, measurements: list[Measurement]) -> list[Objective]:
        objs = objectives(measurements, self.drill.targets.rto_s)
        fb = [m for m in measurements if m.phase == "failback"]
        if fb:
            bad = [m.gateway for m in fb if not m.passed]
            worst = max((m.interruption_s or 0) for m in fb)
            objs.append(Objective("failback", "rto", worst, not bad,
                                  f"not back in time: {', '.join(bad)}" if bad
                                  else f"{len(fb)} gateway(s) back on their home centre"))
        if self.drill.targets.no_double_login:
            doubles = sorted(g for g, n in self.max_sessions.items() if n > 1)
            if doubles:
                detail = f"two sessions for: {', '.join(doubles)}"
            elif self.lab:
                detail = ("never more than one session per gateway id (exchange session table, "
                          "sampled every 200 ms)")
            else:
                # A refused duplicate logon is the exchange doing its job, not a double login.
                detail = ("not measurable here: the exchange's session table is not visible "
                          "from the gateway monitors")
            objs.append(Objective("no_double_login", 1, max(self.max_sessions.values(), default=1),
                                  not doubles, detail))
        cut = self._cutover_s()
        t = self.drill.targets
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

    def _cutover_s(self) -> float | None:
        if self.cutover_done_ns is None or self.link_lost_ns is None:
            return None
        return round((self.cutover_done_ns - self.link_lost_ns) / 1e9, 6)

    def _summary(self, status: str, objs: list[Objective], steady_after: bool | None,
                 gate_refusal: str | None) -> str:
        if gate_refusal:
            return f"refused: steady-state gate failed: {gate_refusal}"
        parts = [status]
        if self.abort_reason:
            parts.append(f"aborted: {self.abort_reason}")
        parts += self.step_failures
        failed = [o for o in objs if not o.passed]
        if failed:
            parts.append("objectives failed: " + "; ".join(
                f"{o.name} measured {o.measured} vs target {o.target} ({o.detail})" for o in failed))
        elif objs:
            parts.append(f"all {len(objs)} objectives met")
        if self.restore_failures:
            parts.append("restore steps failed: " + ", ".join(self.restore_failures))
        if steady_after is False:
            parts.append("after-check failed: " + getattr(self, "_after_failures", ""))
        return "; ".join(parts)

    # ------------------------------------------------------------------ end of run

    def _notify(self, event: str, payload: Mapping[str, Any]) -> None:
        try:
            from orchestrator.engine.notify import notify
        except ImportError:
            return
        with contextlib.suppress(Exception):
            notify(self.inv, event, payload)

    # ------------------------------------------------------------------ run.start

    def _run_start_record(self) -> dict[str, Any]:
        d = self.drill
        inv = self.inv
        playbooks = {}
        for _, s in self.resolved.steps():
            if s.playbook and s.playbook not in playbooks:
                p = Path(self.opt.project_root) / "playbooks" / s.playbook
                playbooks[s.playbook] = sha256_file(p) if p.is_file() else None
        inv_file = Path(inv.path)
        if inv_file.is_dir():
            inv_file = inv_file / "hosts.yml"
        plan = [step_record(s, phase, i) for phase in self.resolved.phases
                for i, s in enumerate(self.resolved.phases[phase])]
        return {
            "drill": {"id": d.id, "title": text_record(d.title), "sha256": d.sha256,
                      "spec": list(d.spec), "cadence": d.cadence, "path": str(d.path),
                      "description": text_record(d.description)},
            "params": _plain_params(self.resolved.params),
            "inventory": {"path": str(inv.path), "environment": inv.environment.name,
                          "kind": inv.environment.kind, "timezone": inv.environment.timezone,
                          "sha256": sha256_file(inv_file) if inv_file.is_file() else None,
                          "retention_days": inv.retention_days},
            "playbooks": playbooks,
            "git": _git(Path(self.opt.project_root)),
            "operator": self.opt.operator or getpass.getuser(),
            "os_user": getpass.getuser(), "host": socket.gethostname(), "pid": os.getpid(),
            "ticket": self.opt.ticket, "approver": self.opt.approver,
            "unattended": bool(self.opt.yes or inv.environment.is_lab),
            "confirmed_environment": self.opt.confirm_environment,
            "override_window": self.opt.override_window,
            "versions": _versions(),
            "targets": {"rto_s": dict(d.targets.rto_s), "no_double_login": d.targets.no_double_login,
                        "cutover_limit_s": d.targets.cutover_limit_s,
                        "cutover_firm_s": d.targets.cutover_firm_s},
            "abort": {"blast_radius": d.abort.blast_radius,
                      "recovery_margin_s": d.abort.recovery_margin_s},
            "failback": d.failback,
            "timing": {"probe_period": inv.timing.probe_period,
                       "heartbeat_timeout": inv.timing.heartbeat_timeout},
            "plan": plan,
            "topology": topology(inv),
            "lab_state_dir": str(self.opt.lab_state_dir) if self.lab else None,
            "project": str(self.opt.project_root),
            "reports_dir": str(self.opt.reports_dir),
        }


# ---------------------------------------------------------------------- module helpers




def _service_loss(kind: str, rec) -> bool:
    """Market data is lost when ticks stall (multicast may carry on without the TCP link);
    trading and settlement when the gateway declares its link down."""
    if kind == "market_data":
        return rec.type == "md_flow" and rec.data.get("state") == "stalled"
    return rec.type == "link_down"


def _is_fault(effect) -> bool:
    return bool(effect.lines_down or effect.centres_down
                or (effect.repoint_gateways and effect.repoint_to not in (None, "home")))


def step_effect_record(effect) -> dict[str, Any]:
    return {"lines_down": list(effect.lines_down), "lines_up": list(effect.lines_up),
            "mode": effect.mode, "centres_down": list(effect.centres_down),
            "centres_up": list(effect.centres_up),
            "repoint": {"gateways": list(effect.repoint_gateways), "to": effect.repoint_to}
            if effect.repoint_to else None}


def _plain_params(params: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in params.items():
        out[k] = list(v) if isinstance(v, tuple) else v
    return out


def topology(inv: Inventory) -> dict[str, Any]:
    return {
        "centres": [{"id": c.id, "role": c.role, "name": text_record(c.name),
                     "services": {s: str(ep) for s, ep in c.services.items()}} for c in inv.centres],
        "carriers": [{"id": c.id, "name": text_record(c.name)} for c in inv.carriers],
        "lines": [{"id": ln.id, "carrier": ln.carrier, "centre": ln.centre, "mbps": ln.mbps,
                   "port_layer": ln.port_layer, "medium": ln.medium, "preference": ln.preference,
                   "router": ln.router, "interface": ln.interface,
                   "local_address": ln.local_address, "remote_address": ln.remote_address}
                  for ln in inv.lines],
        "gateways": [{"id": g.id, "kind": g.kind, "home_centre": inv.home_centre(g),
                      "satellite_only": g.satellite_only, "monitor": str(g.monitor)}
                     for g in inv.gateways],
        "multicast": None if inv.multicast is None else {
            "address": inv.multicast.address, "port": inv.multicast.port, "line": inv.multicast.line},
    }


def _inventory_vars(inv: Inventory) -> dict[str, Any]:
    return {"notifications": dict(inv.notifications)}






def _now_dt():
    from datetime import UTC, datetime

    return datetime.now(UTC)


def _git(root: Path) -> dict[str, Any]:
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                                text=True, timeout=5, check=False).stdout.strip() or None
        dirty = bool(subprocess.run(["git", "-C", str(root), "status", "--porcelain",
                                     "--untracked-files=no"], capture_output=True, text=True,
                                    timeout=5, check=False).stdout.strip()) if commit else None
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": dirty}


def _versions() -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    from orchestrator import __version__

    out: dict[str, str | None] = {"drill": __version__, "python": sys.version.split()[0]}
    for key, dist in (("ansible_core", "ansible-core"), ("ansible_runner", "ansible-runner")):
        try:
            out[key] = version(dist)
        except PackageNotFoundError:
            out[key] = None
    return out


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# ---------------------------------------------------------------------- preparing a run


@dataclass(frozen=True)
class Prepared:
    resolved: Any
    inventory: Inventory
    inventory_path: Path
    lab_state_dir: Path | None
    lab_started: bool


def prepare(project_root: Path, drill_id: str, inventory_path: Path,
            overrides: Mapping[str, str], drill_home: Path, *, start_lab: bool = True,
            say: Callable[[str], None] = lambda _m: None) -> Prepared:
    """Load the inventory (a running lab's effective one), the drill, and resolve it."""
    from orchestrator.config.inventory import load_inventory
    from orchestrator.config.resolve import resolve
    from orchestrator.config.scenario import find_drill

    inv = load_inventory(inventory_path)
    lab_dir = None
    started = False
    if inv.environment.is_lab:
        from orchestrator.lab.control import is_running, lab_state_dir, lab_up

        lab_dir = lab_state_dir(inv.environment.name, drill_home)
        if not is_running(lab_dir):
            if not start_lab:
                lab_dir = None
            else:
                say(f"Starting the lab {inv.environment.name!r} ({len(inv.gateways)} gateways) …")
                lab_up(inventory_path, drill_home=drill_home, wait=True)
                started = True
        if lab_dir is not None:
            inv = load_inventory(lab_dir / "inventory.yml")
    drill = find_drill(Path(project_root) / "drills", drill_id)
    resolved = resolve(drill, inv, overrides)
    return Prepared(resolved, inv, Path(inv.path), lab_dir, started)
