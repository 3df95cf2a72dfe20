"""Typed journal records: one frozen dataclass per record kind (docs/journal.md).

`to_record()` gives the record's `data` exactly as the journal holds it (a record read
back and written again is byte-identical: tests/journal); `from_record(data)` reads it
back leniently, the way every consumer (reports, history, archive, integrity, recover)
needs it: a missing field becomes its empty value rather than an exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from orchestrator.model.stamp import Stamp
from orchestrator.model.text import Text

NO_TEXT = Text("", "")


def _plain(value: Any) -> Any:
    if hasattr(value, "to_record"):
        return value.to_record()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _s(value: Any) -> str:
    return "" if value is None else str(value)


def _f(value: Any) -> float | None:
    return None if value is None else float(value)


def _stamp(value: Any, source: str = "engine") -> Stamp | None:
    return Stamp.of(value, source)


def _opt_s(value: Any) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class TypedRecord:
    """Base: `kind` names the record kind; `_renames` maps a field to its journal key."""

    kind: ClassVar[str] = ""
    _renames: ClassVar[Mapping[str, str]] = {}

    def to_record(self) -> dict[str, Any]:
        return {self._renames.get(f.name, f.name): _plain(getattr(self, f.name))
                for f in fields(self)}


@dataclass(frozen=True)
class RunStart(TypedRecord):
    """run.start: kept whole (the plan, params and topology are read by their consumers:
    `drill recover` rebuilds its restore phase from `plan`); typed accessors for the rest."""

    kind: ClassVar[str] = "run.start"
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_record(self) -> dict[str, Any]:
        return _plain(self.data)

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> RunStart:
        return cls(data if isinstance(data, Mapping) else {})

    def _section(self, name: str) -> Mapping[str, Any]:
        value = self.data.get(name)
        return value if isinstance(value, Mapping) else {}

    @property
    def drill(self) -> Mapping[str, Any]:
        return self._section("drill")

    @property
    def inventory(self) -> Mapping[str, Any]:
        return self._section("inventory")

    @property
    def topology(self) -> Mapping[str, Any]:
        return self._section("topology")

    @property
    def git(self) -> Mapping[str, Any]:
        return self._section("git")

    @property
    def drill_id(self) -> str | None:
        return self.drill.get("id")

    @property
    def environment(self) -> str | None:
        return self.inventory.get("environment")

    @property
    def inventory_path(self) -> str | None:
        path = self.inventory.get("path")
        return path if isinstance(path, str) else None

    @property
    def title(self) -> dict[str, str]:
        title = self.drill.get("title")
        return dict(title) if isinstance(title, Mapping) else {}

    @property
    def plan(self) -> list[Mapping[str, Any]]:
        return list(self.data.get("plan") or [])


@dataclass(frozen=True)
class RunEnd(TypedRecord):
    kind: ClassVar[str] = "run.end"
    status: str = ""
    exit_code: int | None = None
    summary: Any = ""
    artifacts: Mapping[str, str] = field(default_factory=dict)
    # worst failover interruption per service among affected gateways (model.results)
    rto_s: Any = None

    def to_record(self) -> dict[str, Any]:
        out = super().to_record()
        if self.rto_s is None:  # older journals wrote no rto_s
            del out["rto_s"]
        return out

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> RunEnd:
        return cls(data.get("status"), data.get("exit_code"), data.get("summary"),
                   data.get("artifacts") or {}, data.get("rto_s"))


@dataclass(frozen=True)
class Lock(TypedRecord):
    kind: ClassVar[str] = "lock"
    path: str = ""
    holder: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> Lock:
        return cls(_s(data.get("path")), dict(data.get("holder") or {}))


@dataclass(frozen=True)
class PhaseStart(TypedRecord):
    kind: ClassVar[str] = "phase.start"
    phase: str = ""
    started: Stamp | None = None

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> PhaseStart:
        return cls(_s(data.get("phase")), _stamp(data.get("started")))


@dataclass(frozen=True)
class PhaseEnd(TypedRecord):
    kind: ClassVar[str] = "phase.end"
    phase: str = ""
    status: str = ""
    started: Stamp | None = None
    ended: Stamp | None = None
    duration_s: float | None = None

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> PhaseEnd:
        return cls(_s(data.get("phase")), _s(data.get("status")), _stamp(data.get("started")),
                   _stamp(data.get("ended")), _f(data.get("duration_s")))


def step_key(phase: Any, index: Any) -> str:
    """How other records name a step: `fault[0]`."""
    return f"{phase}[{index}]"


@dataclass(frozen=True)
class StepStart(TypedRecord):
    kind: ClassVar[str] = "step.start"
    phase: str = ""
    index: Any = 0
    name: Text = NO_TEXT
    step_kind: str = ""
    automated: bool = True
    started: Stamp | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return step_key(self.phase, self.index)

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> StepStart:
        return cls(_s(data.get("phase")), data.get("index"), Text.of(data.get("name")),
                   _s(data.get("step_kind")), bool(data.get("automated", True)),
                   _stamp(data.get("started")), dict(data.get("detail") or {}))


@dataclass(frozen=True)
class StepEnd(TypedRecord):
    kind: ClassVar[str] = "step.end"
    phase: str = ""
    index: Any = 0
    name: Text = NO_TEXT
    step_kind: str = ""
    automated: bool = True
    status: str = ""
    started: Stamp | None = None
    ended: Stamp | None = None
    duration_s: float | None = None
    error: str | None = None

    @property
    def key(self) -> str:
        return step_key(self.phase, self.index)

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> StepEnd:
        return cls(_s(data.get("phase")), data.get("index"), Text.of(data.get("name")),
                   _s(data.get("step_kind")), bool(data.get("automated", True)),
                   _s(data.get("status")), _stamp(data.get("started")), _stamp(data.get("ended")),
                   _f(data.get("duration_s")), _opt_s(data.get("error")))


@dataclass(frozen=True)
class AnsibleProcess(TypedRecord):
    kind: ClassVar[str] = "ansible.process"
    step: str = ""
    pid: int = 0
    pgid: int = 0

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> AnsibleProcess:
        return cls(_s(data.get("step")), int(data.get("pid") or 0), int(data.get("pgid") or 0))


@dataclass(frozen=True)
class AnsibleTask(TypedRecord):
    kind: ClassVar[str] = "ansible.task"
    step: str = ""
    host: str = ""
    task: str = ""
    action: str = ""
    status: str = ""
    started: Stamp | None = None
    ended: Stamp | None = None
    duration_s: float | None = None
    effective_ns: int | None = None
    msg: str | None = None

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> AnsibleTask:
        return cls(_s(data.get("step")), _s(data.get("host")), _s(data.get("task")),
                   _s(data.get("action")), _s(data.get("status")), _stamp(data.get("started")),
                   _stamp(data.get("ended")), _f(data.get("duration_s")), data.get("effective_ns"),
                   _opt_s(data.get("msg")))


@dataclass(frozen=True)
class OperatorAck(TypedRecord):
    kind: ClassVar[str] = "operator.ack"
    step: str = ""
    operator: str = ""
    at: Stamp | None = None
    unattended: bool = False
    how: str = ""

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> OperatorAck:
        return cls(_s(data.get("step")), _s(data.get("operator")), _stamp(data.get("at"), "operator"),
                   bool(data.get("unattended")), _s(data.get("how")))


@dataclass(frozen=True)
class FaultEffective(TypedRecord):
    kind: ClassVar[str] = "fault.effective"
    step: str = ""
    effect: Any = None  # {lines_down, centres_down, …, repoint} as the step declared it
    at: Stamp | None = None
    affected: Mapping[str, Any] = field(default_factory=dict)
    targets: Mapping[str, Stamp | None] = field(default_factory=dict)

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> FaultEffective:
        targets = data.get("targets") or {}
        return cls(_s(data.get("step")), data.get("effect"), _stamp(data.get("at"), "fault-task"),
                   dict(data.get("affected") or {}),
                   {str(k): _stamp(v, "fault-task") for k, v in targets.items()}
                   if isinstance(targets, Mapping) else {})


@dataclass(frozen=True)
class ProbeTransition(TypedRecord):
    kind: ClassVar[str] = "probe.transition"
    _renames: ClassVar[Mapping[str, str]] = {"from_state": "from", "to_state": "to"}
    gateway: str = ""
    service: str = ""
    from_state: str = ""
    to_state: str = ""
    at: Stamp | None = None
    probe: str = ""

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> ProbeTransition:
        return cls(_s(data.get("gateway")), _s(data.get("service")), _s(data.get("from")),
                   _s(data.get("to")), _stamp(data.get("at"), "probe-sample"), _s(data.get("probe")))


@dataclass(frozen=True)
class ProbeSummary(TypedRecord):
    kind: ClassVar[str] = "probe.summary"
    gateway: str = ""
    service: str = ""
    probe: str = ""
    samples: int = 0
    failures: int = 0
    period_ms: float | None = None

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> ProbeSummary:
        return cls(_s(data.get("gateway")), _s(data.get("service")), _s(data.get("probe")),
                   int(data.get("samples") or 0), int(data.get("failures") or 0),
                   _f(data.get("period_ms")))


@dataclass(frozen=True)
class GatewayEvent(TypedRecord):
    """A monitor stream event as received (monitor-api.md), plus when drill received it."""

    kind: ClassVar[str] = "gateway.event"
    event: Mapping[str, Any] = field(default_factory=dict)
    received_ns: int | None = None

    def to_record(self) -> dict[str, Any]:
        out = _plain(self.event)
        if self.received_ns is not None:
            out["received_ns"] = self.received_ns
        return out

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> GatewayEvent:
        event = {k: v for k, v in data.items() if k != "received_ns"}
        return cls(event, data.get("received_ns"))

    @property
    def gateway(self) -> str:
        return _s(self.event.get("gateway"))

    @property
    def type(self) -> str:
        return _s(self.event.get("type"))

    @property
    def ns(self) -> int | None:
        """The gateway's own stamp, else when drill received it."""
        ns = self.event.get("ts_ns") or self.received_ns
        return int(ns) if ns else None

    @property
    def data(self) -> dict[str, Any]:
        return dict(self.event.get("data") or {})


@dataclass(frozen=True)
class Measure(TypedRecord):
    kind: ClassVar[str] = "measure"
    gateway: str = ""
    service: str = ""
    affected: bool = False  # on the predicted failed path
    interrupted: bool = False
    note: str = ""
    centre_before: str | None = None
    centre_after: str | None = None
    link_lost: Stamp | None = None
    detected: Stamp | None = None
    observed: Stamp | None = None
    restored: Stamp | None = None
    interruption_s: float | None = None
    target_s: float | None = None
    passed: bool | None = None
    phase: str = "failover"  # failover | failback

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> Measure:
        passed = data.get("passed")
        return cls(_s(data.get("gateway")), _s(data.get("service")), bool(data.get("affected")),
                   bool(data.get("interrupted")), _s(data.get("note")),
                   _opt_s(data.get("centre_before")), _opt_s(data.get("centre_after")),
                   _stamp(data.get("link_lost"), "fault-task"),
                   _stamp(data.get("detected"), "gateway-monitor"),
                   _stamp(data.get("observed"), "probe-sample"),
                   _stamp(data.get("restored"), "gateway-monitor"),
                   _f(data.get("interruption_s")), _f(data.get("target_s")),
                   None if passed is None else bool(passed), _s(data.get("phase") or "failover"))


@dataclass(frozen=True)
class Objective(TypedRecord):
    kind: ClassVar[str] = "objective"
    name: str = ""
    target: Any = None  # a number (seconds for rto.*, cutover.*), a count, or text
    measured: Any = None
    passed: bool = False
    detail: str = ""

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> Objective:
        return cls(_s(data.get("name")), data.get("target"), data.get("measured"),
                   bool(data.get("passed")), _s(data.get("detail")))


@dataclass(frozen=True)
class SteadyCheck(TypedRecord):
    gateway: str = ""
    check: str = ""
    ok: bool = False
    detail: str = ""

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> SteadyCheck:
        return cls(_s(data.get("gateway")), _s(data.get("check")), bool(data.get("ok")),
                   _s(data.get("detail")))


@dataclass(frozen=True)
class SteadyState(TypedRecord):
    kind: ClassVar[str] = "steady_state"
    when: str = ""  # gate | after
    ok: bool = False
    checks: tuple[SteadyCheck, ...] = ()

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> SteadyState:
        return cls(_s(data.get("when")), bool(data.get("ok")),
                   tuple(SteadyCheck.from_record(c) for c in data.get("checks") or []))


@dataclass(frozen=True)
class Signal(TypedRecord):
    kind: ClassVar[str] = "signal"
    signal: str = ""
    phase: str = ""
    step: str | None = None

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> Signal:
        return cls(_s(data.get("signal")), _s(data.get("phase")), data.get("step"))


@dataclass(frozen=True)
class Abort(TypedRecord):
    kind: ClassVar[str] = "abort"
    reason: str = ""
    phase: str = ""
    step: str | None = None

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> Abort:
        return cls(_s(data.get("reason")), _s(data.get("phase")), data.get("step"))


@dataclass(frozen=True)
class EvidenceFile(TypedRecord):
    kind: ClassVar[str] = "evidence.file"
    path: str = ""
    sha256: str = ""
    source: Any = None  # {host, path}
    redacted: bool = False
    original_sha256: str | None = None

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> EvidenceFile:
        return cls(data.get("path"), data.get("sha256"), data.get("source"),
                   bool(data.get("redacted")), data.get("original_sha256"))

    @property
    def source_text(self) -> str:
        src = self.source or {}
        text = f"{src.get('host', '')}:{src.get('path', '')}" if isinstance(src, Mapping) else _s(src)
        return text.strip(":")


@dataclass(frozen=True)
class ReportFile(TypedRecord):
    kind: ClassVar[str] = "report.file"
    path: str = ""
    sha256: str = ""
    journal_digest: str = ""

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> ReportFile:
        return cls(data.get("path"), data.get("sha256"), _s(data.get("journal_digest")))


@dataclass(frozen=True)
class Note(TypedRecord):
    kind: ClassVar[str] = "note"
    message: str = ""
    detail: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> Note:
        return cls(_s(data.get("message")), dict(data.get("detail") or {}))


@dataclass(frozen=True)
class Recover(TypedRecord):
    kind: ClassVar[str] = "recover"
    by: str = ""
    at: Stamp | None = None
    actions: tuple[str, ...] = ()

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> Recover:
        return cls(_s(data.get("by")), _stamp(data.get("at"), "operator"),
                   tuple(str(a) for a in data.get("actions") or ()))


RECORD_TYPES: dict[str, type[Any]] = {cls.kind: cls for cls in (
    RunStart, RunEnd, Lock, PhaseStart, PhaseEnd, StepStart, StepEnd, AnsibleProcess,
    AnsibleTask, OperatorAck, FaultEffective, ProbeTransition, ProbeSummary, GatewayEvent,
    Measure, Objective, SteadyState, Signal, Abort, EvidenceFile, ReportFile, Note, Recover)}
