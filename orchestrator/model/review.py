"""A run's review after the fact (`drill review`, docs/reports.md "Review"): the evaluation
conclusion, root cause, follow-up actions, closures of earlier follow-ups, sign-offs and the
organisation. Stored as a JSON file in the run folder and bound by the run's signed renders
chain; the journal never changes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

SCHEMA = "drill-review/1"

# The evaluation conclusion (评估结论) and how a run's verdict maps onto it.
MET, NOT_MET, PARTLY_UNTESTED = "met", "not_met", "partly_untested"
CONCLUSIONS = (MET, NOT_MET, PARTLY_UNTESTED)
CONCLUSION_OF_STATUS = {"passed": MET, "failed": NOT_MET, "aborted": NOT_MET,
                        "refused": NOT_MET, "inconclusive": PARTLY_UNTESTED}
SIGNOFF_ROLES = ("lead", "tech", "compliance")
ORG_ROLES = ("commander", "network", "operations", "observers")


@dataclass(frozen=True)
class FollowUp:
    id: str          # "<run id>#<n>", unique across the archive
    action: str
    owner: str
    due: str         # YYYY-MM-DD


@dataclass(frozen=True)
class Closure:
    id: str          # the follow-up closed
    how: str
    by: str
    at: str          # ISO-8601


@dataclass(frozen=True)
class SignOff:
    role: str        # lead | tech | compliance
    name: str
    at: str


@dataclass(frozen=True)
class Organisation:
    commander: str = ""
    network: tuple[str, ...] = ()
    operations: tuple[str, ...] = ()
    observers: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.commander or self.network or self.operations or self.observers)

    def over(self, base: Organisation) -> Organisation:
        """This organisation, each empty role filled from `base`."""
        return Organisation(self.commander or base.commander, self.network or base.network,
                            self.operations or base.operations, self.observers or base.observers)

    def to_record(self) -> dict[str, Any]:
        return {"commander": self.commander, "network": list(self.network),
                "operations": list(self.operations), "observers": list(self.observers)}

    @classmethod
    def of(cls, raw: Mapping[str, Any] | None) -> Organisation:
        raw = raw or {}

        def names(v: Any) -> tuple[str, ...]:
            return tuple(str(x) for x in v) if isinstance(v, list | tuple) else ((str(v),) if v else ())

        return cls(str(raw.get("commander") or ""), names(raw.get("network")),
                   names(raw.get("operations")), names(raw.get("observers")))


@dataclass(frozen=True)
class Review:
    run: str
    at: str
    by: str
    conclusion: str                      # one of CONCLUSIONS
    reasons: tuple[str, ...] = ()
    root_cause: str = ""
    followups: tuple[FollowUp, ...] = ()
    closes: tuple[Closure, ...] = ()
    signoffs: tuple[SignOff, ...] = ()
    organisation: Organisation = field(default_factory=Organisation)
    file: str = ""                       # the review file in the run folder

    def to_record(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "run": self.run, "at": self.at, "by": self.by,
                "evaluation": {"conclusion": self.conclusion, "reasons": list(self.reasons)},
                "root_cause": self.root_cause,
                "followups": [{"id": f.id, "action": f.action, "owner": f.owner, "due": f.due}
                              for f in self.followups],
                "closes": [{"id": c.id, "how": c.how} for c in self.closes],
                "signoffs": [{"role": s.role, "name": s.name, "at": s.at} for s in self.signoffs],
                "organisation": self.organisation.to_record()}

    @classmethod
    def from_record(cls, raw: Mapping[str, Any], file: str = "") -> Review:
        """ValueError when the record is not a review."""
        if raw.get("schema") != SCHEMA:
            raise ValueError(f"expected schema {SCHEMA}")
        ev = raw.get("evaluation") or {}
        if ev.get("conclusion") not in CONCLUSIONS:
            raise ValueError(f"evaluation.conclusion: expected one of {', '.join(CONCLUSIONS)}")
        at, by = str(raw["at"]), str(raw["by"])
        return cls(
            run=str(raw["run"]), at=at, by=by, conclusion=ev["conclusion"],
            reasons=tuple(str(r) for r in ev.get("reasons") or ()),
            root_cause=str(raw.get("root_cause") or ""),
            followups=tuple(FollowUp(str(f["id"]), str(f["action"]), str(f["owner"]), str(f["due"]))
                            for f in raw.get("followups") or ()),
            closes=tuple(Closure(str(c["id"]), str(c["how"]), by, at) for c in raw.get("closes") or ()),
            signoffs=tuple(SignOff(str(s["role"]), str(s["name"]), str(s["at"]))
                           for s in raw.get("signoffs") or ()),
            organisation=Organisation.of(raw.get("organisation")), file=file)


@dataclass(frozen=True)
class OpenFollowUp:
    """A follow-up with where it was raised and, once closed, how."""

    item: FollowUp
    raised_in: str
    closure: Closure | None

    @property
    def open(self) -> bool:
        return self.closure is None


def follow_ups(reviews: Iterable[Review]) -> list[OpenFollowUp]:
    """Every follow-up raised in these reviews (any runs), each with the closure a review
    (any run, any later time) recorded for it."""
    reviews = list(reviews)
    closed = {c.id: c for r in sorted(reviews, key=lambda r: r.at) for c in r.closes}
    out: list[OpenFollowUp] = []
    seen: set[str] = set()
    for r in sorted(reviews, key=lambda r: r.at):
        for f in r.followups:
            if f.id not in seen:
                seen.add(f.id)
                out.append(OpenFollowUp(f, r.run, closed.get(f.id)))
    return out


def overdue(items: Sequence[OpenFollowUp], today: str) -> list[OpenFollowUp]:
    """Open follow-ups whose due date (YYYY-MM-DD) is before `today`."""
    return [f for f in items if f.open and f.item.due < today]


@dataclass(frozen=True)
class PlanRef:
    """The emergency plan (应急预案) a drill exercises: document id, version, title."""

    id: str = ""
    version: str = ""
    title: str = ""

    def to_record(self) -> dict[str, str]:
        return {"id": self.id, "version": self.version, "title": self.title}

    @classmethod
    def of(cls, raw: Mapping[str, Any] | None) -> PlanRef:
        raw = raw or {}
        return cls(str(raw.get("id") or ""), str(raw.get("version") or ""), str(raw.get("title") or ""))


@dataclass(frozen=True)
class ReportSettings:
    """The inventory's `report` section (docs/inventory.md): the names of the cited
    documents, the emergency plan (one default, or per drill id) and the organisation."""

    documents: Mapping[str, Any] = field(default_factory=dict)  # model.spec.documents overrides
    plan: PlanRef = field(default_factory=PlanRef)
    plans: Mapping[str, PlanRef] = field(default_factory=dict)
    organisation: Organisation = field(default_factory=Organisation)

    def for_drill(self, drill_id: str) -> dict[str, Any]:
        """What run.start records under `report` for one drill."""
        return {"documents": dict(self.documents),
                "plan": self.plans.get(drill_id, self.plan).to_record(),
                "organisation": self.organisation.to_record()}

    @classmethod
    def of(cls, raw: Mapping[str, Any] | None) -> ReportSettings:
        raw = raw or {}
        return cls(dict(raw.get("documents") or {}), PlanRef.of(raw.get("plan")),
                   {str(k): PlanRef.of(v) for k, v in (raw.get("plans") or {}).items()},
                   Organisation.of(raw.get("organisation")))
