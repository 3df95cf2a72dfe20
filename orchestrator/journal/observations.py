"""Typed journal records of what a run observed and measured (docs/journal.md): probe
transitions and summaries, gateway events, measures, objectives, steady-state checks.
The base and the other kinds: orchestrator.journal.records."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from orchestrator.journal.record_base import (
    TypedRecord,
    plain,
    text_of,
)
from orchestrator.model.run import objective_state
from orchestrator.model.stamp import Stamp


@dataclass(frozen=True)
class ProbeTransition(TypedRecord):
    kind: ClassVar[str] = "probe.transition"
    sync: ClassVar[bool] = False
    _renames: ClassVar[Mapping[str, str]] = {"from_state": "from", "to_state": "to"}
    _sources: ClassVar[Mapping[str, str]] = {"at": "probe-sample"}
    gateway: str = ""
    service: str = ""
    from_state: str = ""
    to_state: str = ""
    at: Stamp | None = None
    probe: str = ""


@dataclass(frozen=True)
class ProbeSummary(TypedRecord):
    kind: ClassVar[str] = "probe.summary"
    gateway: str = ""
    service: str = ""
    probe: str = ""
    samples: int = 0
    failures: int = 0
    period_ms: float | None = None


@dataclass(frozen=True)
class GatewayEvent(TypedRecord):
    """A monitor stream event as received (monitor-api.md), plus when drill received it."""

    kind: ClassVar[str] = "gateway.event"
    sync: ClassVar[bool] = False
    event: Mapping[str, Any] = field(default_factory=dict)
    received_ns: int | None = None

    def to_record(self) -> dict[str, Any]:
        out = plain(self.event)
        if self.received_ns is not None:
            out["received_ns"] = self.received_ns
        return out

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> GatewayEvent:
        event = {k: v for k, v in data.items() if k != "received_ns"}
        return cls(event, data.get("received_ns"))

    @property
    def gateway(self) -> str:
        return text_of(self.event.get("gateway"))

    @property
    def type(self) -> str:
        return text_of(self.event.get("type"))

    @property
    def ns(self) -> int | None:
        """The gateway's own stamp, else when drill received it."""
        ns = self.event.get("ts_ns") or self.received_ns
        return int(ns) if ns else None

    @property
    def data(self) -> dict[str, Any]:
        return dict(self.event.get("data") or {})


@dataclass(frozen=True)
class GatewayEventsFolded(TypedRecord):
    """Like events of one gateway the journal counted instead of recording (engine/fold.py):
    the first of their run is the `gateway.event` before them; every one is in the
    evidence file."""

    kind: ClassVar[str] = "gateway.events_folded"
    sync: ClassVar[bool] = False
    gateway: str = ""
    type: str = ""
    like: Mapping[str, Any] = field(default_factory=dict)
    count: int = 0
    first_ns: int = 0
    last_ns: int = 0
    first_seq: int | None = None
    last_seq: int | None = None

    @classmethod
    def of(cls, folded: Any) -> GatewayEventsFolded:
        return cls(folded.gateway, folded.type, dict(folded.like), folded.count, folded.first_ns,
                   folded.last_ns, folded.first_seq, folded.last_seq)


@dataclass(frozen=True)
class Measure(TypedRecord):
    kind: ClassVar[str] = "measure"
    sync: ClassVar[bool] = False
    _sources: ClassVar[Mapping[str, str]] = {
        "link_lost": "fault-task", "detected": "gateway-monitor", "observed": "probe-sample",
        "restored": "gateway-monitor"}
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
        # a journal that names no phase predates failback: its measures are failover's
        return replace(super().from_record(data), phase=text_of(data.get("phase") or "failover"))


@dataclass(frozen=True)
class Objective(TypedRecord):
    kind: ClassVar[str] = "objective"
    sync: ClassVar[bool] = False
    name: str = ""
    target: Any = None  # a number (seconds for rto.*, cutover.*), a count, or text
    measured: Any = None
    passed: bool = False  # True only when measured and met (state "passed")
    detail: str = ""
    # passed | failed | not_applicable | not_tested (orchestrator.model.run); a record
    # written before the states existed has none: its `passed` says passed or failed.
    state: str = ""

    @property
    def verdict(self) -> str:
        return objective_state(self.state, self.passed)

    def to_record(self) -> dict[str, Any]:
        out = super().to_record()
        if not self.state:  # an older journal wrote no state
            del out["state"]
        return out


@dataclass(frozen=True)
class SteadyCheck(TypedRecord):
    gateway: str = ""
    check: str = ""
    ok: bool = False
    detail: str = ""
    # "not_applicable" for a flow check outside service hours (ok stays true: nothing to
    # hold against the gate); empty: passed or failed by `ok` (model/run.py)
    state: str = ""

    def to_record(self) -> dict[str, Any]:
        out = super().to_record()
        if not self.state:
            out.pop("state")  # a check in force: ok says it all (records as before)
        return out


@dataclass(frozen=True)
class SteadyState(TypedRecord):
    kind: ClassVar[str] = "steady_state"
    when: str = ""  # gate | after
    ok: bool = False
    checks: tuple[SteadyCheck, ...] = ()

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> SteadyState:
        return cls(text_of(data.get("when")), bool(data.get("ok")),
                   tuple(SteadyCheck.from_record(c) for c in data.get("checks") or []))
