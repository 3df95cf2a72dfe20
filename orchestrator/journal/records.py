"""Typed journal records: one frozen dataclass per record kind (docs/journal.md): the run,
its phases and steps, Ansible, operators, faults, files (observations: .observations).

`to_record()` gives the record's `data` exactly as the journal holds it (a record read
back and written again is byte-identical: tests/journal); `from_record(data)` reads it
back leniently, the way every consumer (reports, history, archive, integrity, recover)
needs it: a missing field becomes its empty value rather than an exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from orchestrator.journal.observations import (
    GatewayEvent,
    GatewayEventsFolded,
    Measure,
    Objective,
    ProbeSummary,
    ProbeTransition,
    SteadyCheck,
    SteadyState,
)
from orchestrator.journal.record_base import (
    NO_TEXT,
    TypedRecord,
    plain,
    stamp_of,
    step_key,
    text_of,
)
from orchestrator.model.stamp import Stamp
from orchestrator.model.text import Text

__all__ = ["NO_TEXT", "RECORD_TYPES", "GatewayEvent", "GatewayEventsFolded", "Measure", "Objective", "ProbeSummary",
           "ProbeTransition", "SteadyCheck", "SteadyState", "TypedRecord", "step_key"]


@dataclass(frozen=True)
class RunStart(TypedRecord):
    """run.start: kept whole (the plan, params and topology are read by their consumers:
    `drill recover` rebuilds its restore phase from `plan`); typed accessors for the rest."""

    kind: ClassVar[str] = "run.start"
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_record(self) -> dict[str, Any]:
        return plain(self.data)

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
class RunPlan(TypedRecord):
    """plan: every step the run can take, in the order it takes them (failback included),
    with targets, changes, waits and timeouts, as `drill plan` shows them (engine/plan_detail.py)."""

    kind: ClassVar[str] = "plan"
    lang: str = ""
    steps: tuple[Mapping[str, Any], ...] | list[Any] = ()
    on_failed_path: tuple[str, ...] = ()


@dataclass(frozen=True)
class FailoverPrediction(TypedRecord):
    """prediction: one gateway's interruption as its timing settings bound it, written with
    the plan before any change (engine/predict.py); `low_s`/`high_s` null when the
    settings do not bound it (a repointed gateway, no reachable server), `basis` says why."""

    kind: ClassVar[str] = "prediction"
    gateway: str = ""
    service: str = ""
    low_s: float | None = None
    high_s: float | None = None
    basis: Text = NO_TEXT


@dataclass(frozen=True)
class Lock(TypedRecord):
    kind: ClassVar[str] = "lock"
    path: str = ""
    holder: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StandingApprovalUsed(TypedRecord):
    """The standing approval a scheduled run started under (model/approvals.py)."""

    kind: ClassVar[str] = "approval.standing"
    change: str = ""
    approver: str = ""
    valid_until: str = ""
    drills: tuple[str, ...] | list[str] = ()
    sscc_notification: str | None = None


@dataclass(frozen=True)
class PhaseStart(TypedRecord):
    kind: ClassVar[str] = "phase.start"
    phase: str = ""
    started: Stamp | None = None


@dataclass(frozen=True)
class PhaseEnd(TypedRecord):
    kind: ClassVar[str] = "phase.end"
    phase: str = ""
    status: str = ""
    started: Stamp | None = None
    ended: Stamp | None = None
    duration_s: float | None = None


class _NamesAStep:
    phase: str
    index: Any

    @property
    def key(self) -> str:
        """How other records name this step: `fault[0]`."""
        return step_key(self.phase, self.index)


@dataclass(frozen=True)
class StepStart(_NamesAStep, TypedRecord):
    kind: ClassVar[str] = "step.start"
    phase: str = ""
    index: Any = 0
    name: Text = NO_TEXT
    step_kind: str = ""
    automated: bool = True
    started: Stamp | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StepEnd(_NamesAStep, TypedRecord):
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


@dataclass(frozen=True)
class AnsibleProcess(TypedRecord):
    kind: ClassVar[str] = "ansible.process"
    step: str = ""
    pid: int = 0
    pgid: int = 0


@dataclass(frozen=True)
class SshControl(TypedRecord):
    """The run-wide ssh control folder, written before any master lives in it."""
    kind: ClassVar[str] = "ssh.control"
    path: str = ""


@dataclass(frozen=True)
class AnsibleTask(TypedRecord):
    kind: ClassVar[str] = "ansible.task"
    sync: ClassVar[bool] = False
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


@dataclass(frozen=True)
class OperatorAck(TypedRecord):
    kind: ClassVar[str] = "operator.ack"
    _sources: ClassVar[Mapping[str, str]] = {"at": "operator"}
    step: str = ""
    operator: str = ""
    at: Stamp | None = None
    unattended: bool = False
    how: str = ""
    # a manual step that records a reference (`reference: sscc_notification`): the number
    # given (SSCC operations support's reference); absent from the record when none
    reference: str | None = None

    def to_record(self) -> dict[str, Any]:
        out = super().to_record()
        if self.reference is None:  # records as before for every other step
            del out["reference"]
        return out


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
        return cls(text_of(data.get("step")), data.get("effect"), stamp_of(data.get("at"), "fault-task"),
                   dict(data.get("affected") or {}),
                   {str(k): stamp_of(v, "fault-task") for k, v in targets.items()}
                   if isinstance(targets, Mapping) else {})


@dataclass(frozen=True)
class Signal(TypedRecord):
    kind: ClassVar[str] = "signal"
    signal: str = ""
    phase: str = ""
    step: str | None = None


@dataclass(frozen=True)
class Abort(TypedRecord):
    kind: ClassVar[str] = "abort"
    reason: str = ""
    phase: str = ""
    step: str | None = None


@dataclass(frozen=True)
class EvidenceFile(TypedRecord):
    kind: ClassVar[str] = "evidence.file"
    sync: ClassVar[bool] = False
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
        text = f"{src.get('host', '')}:{src.get('path', '')}" if isinstance(src, Mapping) else text_of(src)
        return text.strip(":")


@dataclass(frozen=True)
class ReportFile(TypedRecord):
    kind: ClassVar[str] = "report.file"
    sync: ClassVar[bool] = False
    path: str = ""
    sha256: str = ""
    journal_digest: str = ""

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> ReportFile:
        return cls(data.get("path"), data.get("sha256"), text_of(data.get("journal_digest")))


@dataclass(frozen=True)
class Note(TypedRecord):
    kind: ClassVar[str] = "note"
    sync: ClassVar[bool] = False
    message: str = ""
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Recover(TypedRecord):
    kind: ClassVar[str] = "recover"
    _sources: ClassVar[Mapping[str, str]] = {"at": "operator"}
    by: str = ""
    at: Stamp | None = None
    actions: tuple[str, ...] = ()


RECORD_TYPES: dict[str, type[Any]] = {cls.kind: cls for cls in (
    RunStart, RunPlan, FailoverPrediction, RunEnd, Lock, PhaseStart, PhaseEnd, StepStart, StepEnd, AnsibleProcess,
    SshControl, AnsibleTask, OperatorAck, FaultEffective, ProbeTransition, ProbeSummary, GatewayEvent,
    GatewayEventsFolded, Measure, Objective, SteadyState, Signal, Abort, EvidenceFile, ReportFile, Note, Recover)}
