"""Safety: refusals before a run (preflight), signals, abort rules and the blast radius.

SIGINT/SIGTERM/SIGHUP stop the fault, recovery and hold phases (the running playbook's
process group is killed), are journaled, and restore still runs; a second signal during
restore does not skip it. SIGHUP (the operator's terminal closed) behaves like SIGTERM;
the terminal being gone, drill's standard streams that were on it go to /dev/null so a
progress line cannot fail the run. Abort conditions: the blast radius grows (a gateway off the predicted
failed path loses service) or recovery misses its deadline by the drill's margin."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from orchestrator.engine import events as ev
from orchestrator.engine.state import FAULT_PHASES, STOPPABLE, RunState
from orchestrator.engine.steps import manual_changes
from orchestrator.errors import InputError, Problem, RefusedError
from orchestrator.journal import records as jr
from orchestrator.model.drill import NOTICE_PARAM
from orchestrator.model.inventory import Inventory

PAUSE_AT_ENV = "DRILL_DEBUG_PAUSE_AT"
PAUSE_FILE_ENV = "DRILL_DEBUG_PAUSE_FILE"


class Abort(Exception):
    """Stop the fault phases and restore (exit 3)."""


class StepFailed(Exception):
    """A step failed: stop the fault phases and restore (exit 1)."""


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Signals:
    """SIGINT/SIGTERM/SIGHUP for the life of a run; the handler only sets flags (and, on
    SIGHUP, points streams on the lost terminal at /dev/null: dup2 is async-signal-safe)."""

    def __init__(self, safety: Safety) -> None:
        self.safety = safety
        self.received: list[str] = []
        self._old: dict[int, Any] = {}
        # Said on stderr the moment a signal stops the run (the engine sets it per language).
        self.announce = "interrupted: restoring (Ctrl-C again does not skip restore)"
        self.announce_unchanged = "interrupted: stopping (no fault was injected)"
        # said when a signal arrives during restore; {signal}: its name (the run's language)
        self.announce_restoring = ("{signal}: restore is running and will finish; if drill is "
                                   "killed, run `drill recover` to restore the environment.")

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in STOP_SIGNALS:
            self._old[sig] = signal.signal(sig, self._handle)

    def restore(self) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)
        self._old.clear()

    def _handle(self, signum: int, _frame: Any) -> None:
        name = signal.Signals(signum).name
        self.received.append(name)
        if signum == signal.SIGHUP:
            _detach_from_terminal()
        if self.safety.state.phase in ("restore", "after", "failback"):
            with contextlib.suppress(OSError):
                os.write(2, f"\n{self.announce_restoring.format(signal=name)}\n".encode())
            return
        said = self.announce if self.safety.state.fault_started else self.announce_unchanged
        if said and not self.safety.stop_flag.is_set():
            # At once, before anything the restore prints (os.write: async-signal-safe).
            with contextlib.suppress(OSError):
                os.write(2, f"\n{said}\n".encode())
        self.safety.stop_flag.set()
        self.safety.cancel.set()


def _detach_from_terminal() -> None:
    """Standard streams on the terminal that hung up now write to /dev/null (writes to a
    hung-up terminal fail with EIO); streams on files or pipes are left alone."""
    with contextlib.suppress(OSError):
        null = os.open(os.devnull, os.O_RDWR)
        try:
            for fd in (0, 1, 2):
                with contextlib.suppress(OSError):
                    if os.isatty(fd):
                        os.dup2(null, fd)
        finally:
            os.close(null)


class Safety:
    """The stop and abort flags of one run, and the checks that turn them into `Abort`."""

    def __init__(self, state: RunState, emit: Callable[[ev.Event], None]) -> None:
        self.state = state
        self.emit = emit
        self.stop_flag = threading.Event()  # a signal asked to stop
        self.cancel = threading.Event()  # the running playbook is killed when set
        self._abort = threading.Event()
        self.signals = Signals(self)
        self._journaled = 0
        self._pause_at = os.environ.get(PAUSE_AT_ENV)
        self._pause_file = os.environ.get(PAUSE_FILE_ENV)

    def stopping(self) -> bool:
        return self.stop_flag.is_set() or self._abort.is_set()

    def interrupted(self, phase: str, label: str | None) -> Abort:
        """Journal the first signal; the Abort for the caller to raise."""
        sig = self.signals.received[0] if self.signals.received else "SIGINT"
        self.emit(jr.Signal(sig, phase, label))
        self._journaled = len(self.signals.received)
        return Abort(f"interrupted by {sig}")

    def check_stop(self) -> None:
        if self.state.phase not in STOPPABLE:
            return
        if self.stop_flag.is_set():
            raise self.interrupted(self.state.phase, self.state.step_label)
        if self._abort.is_set():
            raise Abort(self.state.abort_reason or "abort condition")

    def journal_late_signals(self) -> None:
        """Signals that arrived while restore ran: journaled; restore went on regardless."""
        while self._journaled < len(self.signals.received):
            if self.state.phase not in STOPPABLE:
                self.emit(jr.Signal(self.signals.received[self._journaled],
                                            self.state.phase, self.state.step_label))
            self._journaled += 1

    def disk_trouble(self, message: str) -> None:
        """The journal could not be written in the run folder and went to its fallback
        (journal.chain.Journal): said on stderr at once, and the fault phases stop
        (restore runs): a drill whose record cannot be kept does not go on cutting service."""
        with contextlib.suppress(OSError):
            os.write(2, f"\nwarning: {message}\n".encode())
        self.request_abort(f"run folder not writable: {message}")

    def request_abort(self, reason: str) -> None:
        if self._abort.is_set():
            return
        self.state.abort_reason = reason
        self._abort.set()
        self.cancel.set()

    def debug_pause(self, phase: str, index: int, edge: str, run_id: str | None) -> None:
        """Test hook (inert unless DRILL_DEBUG_PAUSE_AT and _FILE are set): park at a boundary."""
        at = f"{phase}:{index}:{edge}"  # DRILL_DEBUG_PAUSE_AT: one boundary or several, comma-separated
        if not self._pause_at or not self._pause_file or at not in self._pause_at.split(","):
            return
        path = Path(self._pause_file)
        path.write_text(json.dumps({"at": at, "pid": os.getpid(), "run": run_id}))
        seen = len(self.signals.received)
        while path.exists() and len(self.signals.received) == seen:
            time.sleep(0.02)

    # ------------------------------------------------------------------ blast radius

    def watch_event(self, inv: Inventory, enabled: bool, rec) -> None:
        """Probe thread: a gateway off the predicted path losing service aborts the run."""
        st = self.state
        if (enabled and st.link_lost_ns is not None and st.phase in FAULT_PHASES
                and rec.gateway not in st.affected and rec.ts_ns >= st.link_lost_ns
                and service_loss(st.measured_kind(inv.gateway(rec.gateway).kind), rec)):
            self.request_abort(f"blast radius: {rec.gateway} is not on the predicted failed path "
                               f"but lost service ({rec.type} {dict(rec.data)})")

    def watch_restart(self, enabled: bool, gateway: str, old_pid: Any, new_pid: Any) -> bool:
        """Probe thread: a gateway's process changed while the drill waits for recovery or
        holds (a gateway the fault steps restarted excepted): it died, whatever its monitor
        says now, so its service was lost; the run aborts and restores. True when it does."""
        st = self.state
        if not (enabled and st.phase in ("recovery", "hold") and gateway not in st.restarted):
            return False
        self.request_abort(f"{gateway}'s process died and was started again during the "
                           f"{st.phase} phase (pid {old_pid} → {new_pid}): a loss of service "
                           f"the drill did not cause")
        return True

    def scan_blast_radius(self, inv: Inventory, enabled: bool, tracker) -> None:
        """Losses that arrived before the fault's time was known (the playbook still ran)."""
        st = self.state
        if not enabled or st.link_lost_ns is None:
            return
        for g in inv.gateways:
            if g.id in st.affected:
                continue
            for rec in tracker.events(g.id, st.link_lost_ns):
                if service_loss(st.measured_kind(g.kind), rec):
                    self.request_abort(f"blast radius: {g.id} is not on the predicted failed "
                                       f"path but lost service ({rec.type} {dict(rec.data)})")
                    return


def service_loss(kind: str, rec) -> bool:
    """Market data is lost when ticks stall (multicast may carry on without the TCP link);
    trading and settlement when the gateway declares its link down."""
    if kind == "market_data":
        return rec.type == "md_flow" and rec.data.get("state") == "stalled"
    return rec.type == "link_down"


# ---------------------------------------------------------------------- preflight


def refuse_unwritable(resolved, inv: Inventory) -> None:
    """`drill plan` and `drill run`: refused (exit 4) before any change when a repoint
    would write a config drill cannot edit."""
    from orchestrator.adapters.config_formats import unwritable_configs

    bad = unwritable_configs(resolved, inv)
    if bad:
        raise RefusedError("this drill repoints gateways whose config drill cannot write: "
                           + "; ".join(bad))


def standing_approval(resolved, inv: Inventory, opt):
    """The standing approval `opt.standing_approval` names, valid today for this drill
    (model/approvals.py), or None when the run names none; `RefusedError` (exit 4) when it
    names one that cannot start it."""
    change = getattr(opt, "standing_approval", None)
    if change is None:
        return None
    from orchestrator.model.approvals import ManualStep, approval_problem

    steps = [ManualStep(f"{phase}[{i}] {s.name.en}", s.reference)
             for phase, ps in resolved.phases.items() for i, s in enumerate(ps)
             if s.kind == "manual"]
    approval, why = approval_problem(inv.standing_approvals, change, resolved.drill.id, steps,
                                     _now_dt().astimezone(_zone(inv)).date())
    if why is not None:
        raise RefusedError(f"--standing-approval {change}: {why}")
    if opt.yes:
        raise RefusedError("--standing-approval never goes with --yes: the approval, not --yes, "
                           "answers the steps that record a reference")
    return approval


def _zone(inv: Inventory):
    from zoneinfo import ZoneInfo

    return ZoneInfo(inv.environment.timezone)


def preflight(resolved, inv: Inventory, opt) -> None:
    """Refusals that need no run folder: production confirmation, change window, operator.
    A valid standing approval (`--standing-approval`) confirms the environment and answers
    the manual steps that only record a reference; any other manual step is refused. A
    repoint or failback on a config drill cannot write is refused too."""
    env = inv.environment
    _notice(resolved, env)
    approval = standing_approval(resolved, inv, opt)
    if approval is not None:
        if not env.is_lab:
            _window(inv, opt)
    else:
        _confirmations(resolved, inv, opt)
    if opt.ask is None and manual_driver_steps(resolved, inv):
        # A person makes these changes: nobody to ask means the fault step would fail
        # half-way. Lab or not, and --yes does not stand in for the person.
        raise RefusedError("this drill changes lines, centres or gateways through the manual "
                           "driver and nobody can confirm them: run it interactively "
                           "(--yes never confirms a manual change)")
    refuse_unwritable(resolved, inv)


def _notice(resolved, env) -> None:
    """An organised drill outside the lab names its organiser's notice: the parameter's
    default is the lab's placeholder (docs/drill-format.md, "Organised drills")."""
    d = resolved.drill
    param = d.params.get(NOTICE_PARAM)
    if d.organiser and not env.is_lab and param is not None \
            and resolved.params.get(NOTICE_PARAM) == param.default:
        raise InputError(Problem("--set", None, NOTICE_PARAM,
                                 f"expected the notice number (通知编号) of {d.organiser}'s drill "
                                 f"notice outside the lab: --set {NOTICE_PARAM}=…"))


def _confirmations(resolved, inv: Inventory, opt) -> None:
    """Without a standing approval: the environment's name typed or given, the change
    window, and somebody (a terminal, or --yes --operator) to answer the manual steps."""
    env = inv.environment
    if not env.is_lab:
        confirmed = opt.confirm_environment
        if confirmed is None and opt.ask is not None:
            confirmed = opt.ask(
                f"This drill cuts service on environment {env.name!r} ({env.kind}). "
                f"Type the environment name to confirm")
        if confirmed != env.name:
            raise RefusedError(
                f"environment {env.name!r} is not a lab: confirm with "
                f"--confirm-environment {env.name} (--yes alone never confirms it)")
        _window(inv, opt)
    manual = [s for _, s in resolved.steps() if s.kind == "manual"]
    if manual and not env.is_lab and not opt.yes and opt.ask is None:
        raise RefusedError("this drill has manual steps and nobody can confirm them: "
                           "run interactively or with --yes --operator NAME")
    if opt.yes and not env.is_lab and any(s.reference for s in manual):
        raise RefusedError("this drill has a step that records a reference (the SSCC "
                           "notification) and --yes cannot give one: run it interactively, "
                           "or under a standing approval that carries it")
    if opt.yes and manual and not env.is_lab and not opt.operator:
        raise RefusedError("--yes acknowledges manual steps only with --operator NAME")


def _window(inv: Inventory, opt) -> None:
    from orchestrator.model.windows import in_change_window

    if not in_change_window(inv, now_of(opt)) and not opt.override_window:
        raise RefusedError(
            f"outside the change windows of {inv.environment.name!r}; give --override-window "
            f"REASON to run anyway (recorded in the journal)")


def manual_driver_steps(resolved, inv: Inventory) -> list[str]:
    """Playbook steps (and a declared failback) that a person must carry out."""
    names = [s.name.en for _, s in resolved.steps() if manual_changes(inv, s)]
    if resolved.drill.failback and any((g.driver or inv.driver) == "manual"
                                       for g in inv.gateways if not g.satellite_only):
        names.append("failback repoint")
    return names


def _now_dt():
    from datetime import UTC, datetime

    return datetime.now(UTC)


def now_of(opt):
    """The run's "now" for change windows and service hours: the options' clock when a
    caller injects one (tests, a replayed schedule), else the real time."""
    clock = getattr(opt, "now", None)
    return clock() if clock is not None else _now_dt()
