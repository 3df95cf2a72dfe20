"""Typed engine events and the bus that carries them to observers (docs/events.md).

The journal handler is registered first with `critical=True`: it runs synchronously and
its failure stops the run (a drill must not go on unjournaled). Any other handler that
raises is logged and detached; it never breaks the run.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    kind: ClassVar[str] = "event"
    # Records that announce an action are fsync'd before the action; observations may
    # share a later fsync.
    sync: ClassVar[bool] = True
    _renames: ClassVar[Mapping[str, str]] = {}

    def to_record(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            out[self._renames.get(f.name, f.name)] = _plain(getattr(self, f.name))
        return out


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    if hasattr(value, "to_record"):
        return value.to_record()
    return value


@dataclass(frozen=True)
class RunStarted(Event):
    kind: ClassVar[str] = "run.start"
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_record(self) -> dict[str, Any]:
        return _plain(self.data)


@dataclass(frozen=True)
class LockTaken(Event):
    kind: ClassVar[str] = "lock"
    path: str = ""
    holder: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PhaseStarted(Event):
    kind: ClassVar[str] = "phase.start"
    phase: str = ""
    started: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class PhaseEnded(Event):
    kind: ClassVar[str] = "phase.end"
    phase: str = ""
    status: str = "ok"
    started: Mapping[str, Any] | None = None
    ended: Mapping[str, Any] | None = None
    duration_s: float = 0.0


@dataclass(frozen=True)
class StepStarted(Event):
    kind: ClassVar[str] = "step.start"
    phase: str = ""
    index: int = 0
    name: Mapping[str, str] = field(default_factory=dict)
    step_kind: str = ""
    automated: bool = True
    started: Mapping[str, Any] | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StepEnded(Event):
    kind: ClassVar[str] = "step.end"
    phase: str = ""
    index: int = 0
    name: Mapping[str, str] = field(default_factory=dict)
    step_kind: str = ""
    automated: bool = True
    status: str = "ok"
    started: Mapping[str, Any] | None = None
    ended: Mapping[str, Any] | None = None
    duration_s: float = 0.0
    error: str | None = None


@dataclass(frozen=True)
class AnsibleProcess(Event):
    kind: ClassVar[str] = "ansible.process"
    step: str = ""
    pid: int = 0
    pgid: int = 0


@dataclass(frozen=True)
class TaskFinished(Event):
    kind: ClassVar[str] = "ansible.task"
    sync: ClassVar[bool] = False
    step: str = ""
    host: str = ""
    task: str = ""
    action: str = ""
    status: str = ""
    started: Mapping[str, Any] | None = None
    ended: Mapping[str, Any] | None = None
    duration_s: float = 0.0
    effective_ns: int | None = None
    msg: str | None = None


@dataclass(frozen=True)
class OperatorAck(Event):
    kind: ClassVar[str] = "operator.ack"
    step: str = ""
    operator: str = ""
    at: Mapping[str, Any] | None = None
    unattended: bool = False
    how: str = "prompt"


@dataclass(frozen=True)
class FaultEffective(Event):
    kind: ClassVar[str] = "fault.effective"
    step: str = ""
    effect: Mapping[str, Any] = field(default_factory=dict)
    at: Mapping[str, Any] | None = None
    affected: Mapping[str, Any] = field(default_factory=dict)
    targets: Mapping[str, Any] = field(default_factory=dict)  # line/centre/gateway -> its own time


@dataclass(frozen=True)
class ProbeTransition(Event):
    kind: ClassVar[str] = "probe.transition"
    sync: ClassVar[bool] = False
    _renames: ClassVar[Mapping[str, str]] = {"from_": "from"}
    gateway: str = ""
    service: str = ""
    probe: str = ""
    from_: str = ""
    to: str = ""
    at: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class GatewayEvent(Event):
    kind: ClassVar[str] = "gateway.event"
    sync: ClassVar[bool] = False
    event: Mapping[str, Any] = field(default_factory=dict)
    received_ns: int = 0

    def to_record(self) -> dict[str, Any]:
        return {**_plain(self.event), "received_ns": self.received_ns}


@dataclass(frozen=True)
class Measured(Event):
    kind: ClassVar[str] = "measure"
    sync: ClassVar[bool] = False
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_record(self) -> dict[str, Any]:
        return _plain(self.data)


@dataclass(frozen=True)
class ObjectiveResult(Event):
    kind: ClassVar[str] = "objective"
    sync: ClassVar[bool] = False
    name: str = ""
    target: Any = None
    measured: Any = None
    passed: bool = False
    detail: str = ""


@dataclass(frozen=True)
class SteadyStateResult(Event):
    kind: ClassVar[str] = "steady_state"
    when: str = "gate"
    ok: bool = False
    checks: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class SignalReceived(Event):
    kind: ClassVar[str] = "signal"
    signal: str = ""
    phase: str = ""
    step: str | None = None


@dataclass(frozen=True)
class Aborted(Event):
    kind: ClassVar[str] = "abort"
    reason: str = ""
    phase: str = ""
    step: str | None = None


@dataclass(frozen=True)
class EvidenceFile(Event):
    kind: ClassVar[str] = "evidence.file"
    sync: ClassVar[bool] = False
    path: str = ""
    sha256: str = ""
    source: Mapping[str, Any] = field(default_factory=dict)
    redacted: bool = False
    original_sha256: str | None = None


@dataclass(frozen=True)
class ReportFile(Event):
    kind: ClassVar[str] = "report.file"
    sync: ClassVar[bool] = False
    path: str = ""
    sha256: str = ""
    journal_digest: str = ""


@dataclass(frozen=True)
class Note(Event):
    """Something the operator should know that is not a step (lab started, report failed)."""

    kind: ClassVar[str] = "note"
    sync: ClassVar[bool] = False
    message: str = ""
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunEnded(Event):
    kind: ClassVar[str] = "run.end"
    status: str = ""
    exit_code: int = 0
    summary: str = ""
    artifacts: Mapping[str, str] = field(default_factory=dict)
    # worst failover interruption per service among affected gateways (journal.md), so
    # `drill history` reads only a journal's first and last records
    rto_s: Mapping[str, float] = field(default_factory=dict)


Handler = Callable[[Event], None]


class EventBus:
    """Delivers each event to every handler in order, one event at a time."""

    def __init__(self) -> None:
        self._handlers: list[tuple[Handler, bool]] = []
        self._lock = threading.RLock()

    def subscribe(self, handler: Handler, *, critical: bool = False) -> None:
        with self._lock:
            self._handlers.append((handler, critical))

    def unsubscribe(self, handler: Handler) -> None:
        with self._lock:
            self._handlers = [(h, c) for h, c in self._handlers if h is not handler]

    def emit(self, event: Event) -> None:
        with self._lock:
            for handler, critical in list(self._handlers):
                if critical:
                    handler(event)
                    continue
                try:
                    handler(event)
                except Exception:  # an observer must never break the run
                    log.exception("event handler %r failed; detached", handler)
                    self.unsubscribe(handler)


class JournalHandler:
    """Writes each event to the journal, redacted, fsync'd when the event announces an action."""

    def __init__(self, journal, redactor=None) -> None:
        self.journal = journal
        self.redactor = redactor

    def __call__(self, event: Event) -> None:
        data = event.to_record()
        if self.redactor is not None:
            data = self.redactor(data)
        self.journal.append(event.kind, data, sync=event.sync)
