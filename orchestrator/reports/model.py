"""RunView: a typed, read-only picture of one run, built from its journal alone
(orchestrator.reports.build).

Every number a report shows comes from here, so HTML, PDF, Markdown, JSON, CSV and JUnit
cannot disagree with each other or with the journal (docs/journal.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestrator.journal.records import (
    Objective,
    OperatorAck,
    PhaseEnd,
    ProbeSummary,
    ProbeTransition,
    SteadyState,
)
from orchestrator.model.inventory import Carrier
from orchestrator.model.results import worst_rto
from orchestrator.model.review import Closure, Organisation, PlanRef, Review
from orchestrator.model.run import state_counts
from orchestrator.model.spec import DEFAULT_DOCUMENTS, Document
from orchestrator.model.stamp import Stamp
from orchestrator.model.text import Text

__all__ = ["MIN_RETENTION_DAYS", "PREDICTION_FACTOR", "PREDICTION_MARGIN_S", "PredictionView",
           "RunView", "Stamp", "Text", "much_longer"]

MIN_RETENTION_DAYS = 365

# "Much longer than predicted" (docs/reports.md, docs/glossary.md 明显超出预计): a measured
# interruption above PREDICTION_FACTOR x the prediction's upper bound plus PREDICTION_MARGIN_S.
# The factor absorbs a real host's slower scheduling, the margin the probes' sampling.
PREDICTION_FACTOR = 1.5
PREDICTION_MARGIN_S = 1.0


def much_longer(measured_s: float | None, high_s: float | None) -> bool:
    """Whether a measured interruption is much longer than its predicted upper bound; a
    gateway never restored counts as much longer when it had a bounded prediction."""
    if high_s is None:
        return False
    if measured_s is None:
        return True
    return measured_s > PREDICTION_FACTOR * high_s + PREDICTION_MARGIN_S


@dataclass(frozen=True)
class DrillInfo:
    id: str
    title: Text
    sha256: str
    spec: tuple[str, ...]
    cadence: str
    organiser: str = ""  # an organised drill's organiser (SSCC | NEEQ | BSE); "" for the firm's own


@dataclass(frozen=True)
class InventoryInfo:
    path: str
    environment: str
    kind: str
    timezone: str
    sha256: str
    retention_days: int


@dataclass(frozen=True)
class TopologyCentre:
    id: str
    role: str
    name: Text


@dataclass(frozen=True)
class TopologyLine:
    id: str
    carrier: str
    centre: str
    mbps: float | None
    medium: str
    port_layer: int | None
    preference: int | None
    local_address: str
    remote_address: str
    role: str  # primary | backup


@dataclass(frozen=True)
class TopologyGateway:
    id: str
    kind: str
    home_centre: str
    satellite_only: bool


@dataclass(frozen=True)
class Topology:
    centres: tuple[TopologyCentre, ...] = ()
    carriers: tuple[Carrier, ...] = ()
    lines: tuple[TopologyLine, ...] = ()
    gateways: tuple[TopologyGateway, ...] = ()
    multicast_line: str = ""

    def centre_name(self, cid: str, lang: str) -> str:
        for c in self.centres:
            if c.id == cid:
                return c.name.get(lang) or cid
        return cid

    def carrier_name(self, cid: str, lang: str) -> str:
        for c in self.carriers:
            if c.id == cid:
                return c.name.get(lang) or cid
        return cid


@dataclass(frozen=True)
class TaskView:
    step: str
    host: str
    task: str
    action: str
    status: str
    started: Stamp | None
    duration_s: float | None
    msg: str


@dataclass(frozen=True)
class StepView:
    phase: str
    index: int
    key: str  # how other records name this step: "<phase>[<index>]"
    name: Text
    step_kind: str
    automated: bool
    status: str
    started: Stamp | None
    ended: Stamp | None
    duration_s: float | None
    error: str
    tasks: tuple[TaskView, ...] = ()
    acks: tuple[OperatorAck, ...] = ()

    @property
    def task_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for t in self.tasks:
            counts[t.status] = counts.get(t.status, 0) + 1
        return counts


@dataclass(frozen=True)
class FaultEffect:
    step: str
    effect: str
    at: Stamp | None
    affected: Mapping[str, Sequence[str]]
    restores: bool  # True: this effect put the network back (restore / failback)


@dataclass(frozen=True)
class MeasureView:
    gateway: str
    service: str
    phase: str  # failover | failback
    affected: bool
    centre_before: str
    centre_after: str
    link_lost: Stamp | None
    detected: Stamp | None
    observed: Stamp | None
    restored: Stamp | None
    interruption_s: float | None
    target_s: float | None
    passed: bool | None
    link_restored: Stamp | None  # the restore effect that brought the failed line back
    note: str = ""


@dataclass(frozen=True)
class PredictionView:
    """A gateway's predicted failover interruption (journal `prediction`, engine/predict.py):
    low_s/high_s None when its timing settings do not bound it (basis says why)."""

    gateway: str
    service: str
    low_s: float | None
    high_s: float | None
    basis: Text


@dataclass(frozen=True)
class MonitorEvent:
    """A monitor stream event as received (monitor-api.md), stamped with the gateway's time."""

    gateway: str
    type: str
    ns: int
    data: Mapping[str, Any]


@dataclass(frozen=True)
class EvidenceView:
    path: str
    sha256: str
    source: str
    redacted: bool
    original_sha256: str


@dataclass(frozen=True)
class Interrupt:
    kind: str  # signal | abort
    what: str  # signal name or reason
    phase: str
    step: str
    at: Stamp


@dataclass(frozen=True)
class Deviation:
    what: str  # objective | measure | step | task | steady_state | abort | signal | unfinished
    subject: str
    detail: Text


@dataclass(frozen=True)
class LogEntry:
    seq: int
    at_ns: int
    kind: str
    summary: str


@dataclass(frozen=True)
class RunView:
    run_id: str
    run_dir: Path
    drill: DrillInfo
    params: Mapping[str, Any]
    inventory: InventoryInfo
    playbooks: Mapping[str, str]
    git_commit: str
    git_dirty: bool | None
    operator: str
    os_user: str
    host: str
    ticket: str
    approver: str
    unattended: bool
    versions: Mapping[str, str]
    targets: Mapping[str, Any]
    topology: Topology
    started: Stamp
    ended: Stamp | None
    status: str  # passed | failed | inconclusive | aborted | refused
    exit_code: int | None
    summary: str  # run.end summary line, if any
    finished: bool  # the journal holds run.end
    phases: tuple[PhaseEnd, ...]
    steps: tuple[StepView, ...]
    faults: tuple[FaultEffect, ...]
    measures: tuple[MeasureView, ...]
    objectives: tuple[Objective, ...]
    steady: tuple[SteadyState, ...]
    transitions: tuple[ProbeTransition, ...]
    gateway_events: tuple[MonitorEvent, ...]
    probe_summaries: tuple[ProbeSummary, ...]
    evidence: tuple[EvidenceView, ...]
    interrupts: tuple[Interrupt, ...]
    deviations: tuple[Deviation, ...]
    artifacts: Mapping[str, str]
    records: int
    digest: str  # hash of the last record read
    log: tuple[LogEntry, ...] = field(default=())
    purpose: Text = field(default_factory=lambda: Text("", ""))  # the drill's description
    plan: PlanRef = field(default_factory=PlanRef)
    organisation: Organisation = field(default_factory=Organisation)  # at run start (inventory)
    documents: Mapping[str, Document] = field(default_factory=lambda: dict(DEFAULT_DOCUMENTS))
    reviews: tuple[Review, ...] = ()  # `drill review`, oldest first (renders chain)
    closures: tuple[Closure, ...] = ()  # this run's follow-ups closed in later runs' reviews
    predictions: tuple[PredictionView, ...] = ()  # journal `prediction` records, before the fault
    rehearsal: bool = False  # run.start `rehearsal` (`drill run --rehearsal`)

    @property
    def not_evidence(self) -> str | None:
        """Why this run is no evidence for filing (a label key), or None for a production run."""
        if self.rehearsal:
            return "not_evidence_rehearsal"
        kind = self.inventory.kind
        if kind and kind != "production":
            return "not_evidence_test" if kind == "test" else "not_evidence"
        return None

    @property
    def timezone(self) -> str:
        return self.inventory.timezone

    @property
    def participants(self) -> list[tuple[str, str]]:
        """(name, role key) pairs, each person once, in order of first appearance."""
        seen: dict[str, str] = {}
        for name, role in ((self.operator, "operator"), (self.approver, "approver")):
            if name and name not in seen:
                seen[name] = role
        for step in self.steps:
            for ack in step.acks:
                if ack.operator and ack.operator not in seen:
                    seen[ack.operator] = "acknowledger"
        return list(seen.items())

    def prediction_of(self, m: MeasureView) -> PredictionView | None:
        """The prediction a failover measure is compared with (none for failback, for a
        gateway off the failed path, or for a journal written before predictions)."""
        if m.phase != "failover" or not m.affected:
            return None
        return next((p for p in self.predictions if (p.gateway, p.service) == (m.gateway, m.service)),
                    None)

    def longer_than_predicted(self, m: MeasureView) -> bool:
        p = self.prediction_of(m)
        return p is not None and much_longer(m.interruption_s, p.high_s)

    @property
    def acks(self) -> list[tuple[StepView, OperatorAck]]:
        return [(s, a) for s in self.steps for a in s.acks]

    def steady_of(self, when: str) -> SteadyState | None:
        found = [s for s in self.steady if s.when == when]
        return found[-1] if found else None

    @property
    def restore_phase(self) -> PhaseEnd | None:
        found = [p for p in self.phases if p.phase == "restore"]
        return found[-1] if found else None

    @property
    def fault_started(self) -> bool:
        return any(s.phase == "fault" for s in self.steps) or any(not f.restores for f in self.faults)

    @property
    def restore_ok(self) -> bool:
        phase = self.restore_phase
        return phase is not None and phase.status == "ok"

    @property
    def after_ok(self) -> bool:
        after = self.steady_of("after")
        return after is not None and after.ok

    @property
    def objective_counts(self) -> dict[str, int]:
        """How many objectives are in each of the four states (model.run)."""
        return state_counts(o.verdict for o in self.objectives)

    def rto_by_service(self) -> dict[str, float]:
        """run.end's `rto_s`: worst failover interruption per service among affected
        gateways (model.results.worst_rto; an off-path interruption is its own objective)."""
        return worst_rto(self.measures)
