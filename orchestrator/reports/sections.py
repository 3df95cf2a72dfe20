"""The parts of the 演练报告 an inspector reads first (docs/reports.md "Contents"): purpose,
scenario, plan, organisation, method, business impact, evaluation conclusion, problems and
root cause, follow-up actions and sign-off. Each is built from the RunView (journal and
reviews) in the report's language, so every format shows the same facts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from orchestrator.model.drill import parse_duration
from orchestrator.model.i18n import LABELS, Locale
from orchestrator.model.review import (
    CONCLUSION_OF_STATUS,
    MET,
    SIGNOFF_ROLES,
    OpenFollowUp,
    Organisation,
    Review,
    follow_ups,
)
from orchestrator.model.run import FAILED, NOT_TESTED
from orchestrator.model.spec import cite, cited_documents
from orchestrator.reports.model import RunView, Topology
from orchestrator.reports.wording import objective_label

# The ids SECTIONS lists, in report order: a test fails on a render missing one.
SECTIONS = ("purpose", "scenario", "plan", "organisation", "method", "impact", "evaluation",
            "problems", "followup", "signoff")


def named(text: str, topo: Topology, lang: str) -> str:
    """In Chinese prose a centre or carrier is named, never its id: `FT 中心` → 福田中心,
    `运营商 CT` → 中国电信, a bare `BJ` → 北京（亦庄）异地灾备中心 (docs/glossary.md)."""
    if lang != "zh" or not text:
        return text
    for c in topo.centres:
        name = c.name.zh if c.name.zh and c.name.zh != c.id else ""
        if name:
            text = re.sub(rf"(?<![A-Za-z0-9_-]){re.escape(c.id)}\s*中心", name, text)
            text = re.sub(rf"(?<![A-Za-z0-9_-]){re.escape(c.id)}(?![A-Za-z0-9_-])\s*", name, text)
    for c in topo.carriers:
        name = c.name.zh if c.name.zh and c.name.zh != c.id else ""
        if name:
            text = re.sub(rf"运营商\s*{re.escape(c.id)}(?![A-Za-z0-9_-])\s*", name, text)
            text = re.sub(rf"(?<![A-Za-z0-9_-]){re.escape(c.id)}(?![A-Za-z0-9_-])\s*", name, text)
    return text


_DURATION = re.compile(r"^\d+(\.\d+)?(ms|s|m|h|d)$")


def param_text(value: Any, run: RunView, loc: Locale) -> str:
    """A drill parameter as prose: a duration in seconds, an enumerated value by its label,
    a centre or carrier by its name (a line or gateway id stays an identifier)."""
    if isinstance(value, list | tuple):
        return loc("list_join").join(param_text(v, run, loc) for v in value)
    text = str(value)
    if _DURATION.match(text):
        return loc.seconds(parse_duration(text))
    if f"pv_{text}" in LABELS:
        return loc(f"pv_{text}")
    return named(text, run.topology, loc.lang)


@dataclass(frozen=True)
class Evaluation:
    conclusion: str                 # met | not_met | partly_untested
    reasons: tuple[str, ...]        # in the report's language
    review: Review | None           # the review that recorded it; None: from the verdict alone


def latest_review(run: RunView) -> Review | None:
    return run.reviews[-1] if run.reviews else None


def _objective(loc: Locale, name: str) -> str:
    return objective_label(name, loc)


def evaluation(run: RunView, loc: Locale) -> Evaluation:
    """The reviewed conclusion when a review recorded one, else the run's verdict mapped
    (passed → 达标, failed/aborted/refused → 未达标, inconclusive → 部分未测) with its reasons."""
    review = latest_review(run)
    reasons: list[str] = []
    for o in run.objectives:
        if o.verdict == FAILED:
            reasons.append(loc("reason_failed", objective=_objective(loc, o.name)))
        elif o.verdict == NOT_TESTED:
            reasons.append(loc("reason_not_tested", objective=_objective(loc, o.name)))
    if run.status in ("aborted", "refused"):
        reasons.insert(0, loc(f"status_note_{run.status}"))
    if not run.restore_ok and run.fault_started:
        reasons.append(loc("reason_restore"))
    if run.steady_of("after") is not None and not run.after_ok:
        reasons.append(loc("reason_after"))
    if not reasons and run.status == "passed":
        reasons.append(loc("status_note_passed"))
    if review is not None:
        return Evaluation(review.conclusion, tuple(review.reasons) + tuple(reasons), review)
    return Evaluation(CONCLUSION_OF_STATUS.get(run.status, MET), tuple(reasons), None)


def organisation(run: RunView) -> Organisation:
    """The latest review's roles over those the run recorded from the inventory."""
    review = latest_review(run)
    return review.organisation.over(run.organisation) if review else run.organisation


def impact(run: RunView) -> list[dict[str, Any]]:
    """Services and gateways interrupted by the drill and for how long (failover and
    failback), on and off the failed path."""
    rows = []
    for m in run.measures:
        if m.interruption_s is None or m.interruption_s > 0 or m.passed is False:
            rows.append({"gateway": m.gateway, "service": m.service, "phase": m.phase,
                         "affected": m.affected, "from": m.link_lost, "to": m.restored,
                         "seconds": m.interruption_s})
    return rows


def impact_window(run: RunView) -> tuple[int, int] | None:
    """From the first interruption to the last restore (ns), or None."""
    spans = [(r["from"].ns, r["to"].ns) for r in impact(run) if r["from"] and r["to"]]
    if not spans:
        return None
    return min(a for a, _ in spans), max(b for _, b in spans)


def method(run: RunView) -> tuple[int, int]:
    """(automated steps, manual steps): a manual step is one a person does and acknowledges,
    even where the lab acknowledged it automatically."""
    manual = sum(1 for s in run.steps if s.step_kind == "manual" or not s.automated)
    return len(run.steps) - manual, manual


def followups(run: RunView) -> list[OpenFollowUp]:
    """This run's follow-ups (raised in its reviews), each with its closure, whichever run's
    review recorded it."""
    elsewhere = {c.id: c for c in run.closures}
    return [f if f.closure is not None or f.item.id not in elsewhere
            else OpenFollowUp(f.item, f.raised_in, elsewhere[f.item.id])
            for f in follow_ups(run.reviews) if f.raised_in == run.run_id]


def closed_here(run: RunView) -> list[tuple[str, str, str, str]]:
    """(follow-up id, how, by, at) for earlier follow-ups this run's reviews closed."""
    own = {f.item.id for f in followups(run)}
    return [(c.id, c.how, c.by, c.at) for r in run.reviews for c in r.closes if c.id not in own]


def signoffs(run: RunView) -> list[tuple[str, str, str]]:
    """(role, name, at) for each sign-off role; the latest review's name wins; unsigned
    roles keep empty name and time (to be signed on paper)."""
    got: dict[str, tuple[str, str]] = {}
    for r in run.reviews:
        for s in r.signoffs:
            got[s.role] = (s.name, s.at)
    return [(role, *got.get(role, ("", ""))) for role in SIGNOFF_ROLES]


def context(run: RunView, loc: Locale) -> dict[str, Any]:
    """Everything the templates need for these sections."""
    lang = loc.lang
    topo = run.topology
    clauses = [cite(c, lang, run.documents) for c in run.drill.spec]
    return {
        "sections": SECTIONS,
        "evaluation": evaluation(run, loc),
        "organisation": organisation(run),
        "impact_rows": impact(run),
        "impact_window": impact_window(run),
        "method_counts": method(run),
        "followups": followups(run),
        "closed_here": closed_here(run),
        "signoffs": signoffs(run),
        "root_causes": [(r.by, r.at, r.root_cause) for r in run.reviews if r.root_cause],
        "clause_citations": clauses,
        "cited_documents": cited_documents(list(run.drill.spec), lang, run.documents),
        "named": lambda text: named(text, topo, lang),
        "param_text": {k: param_text(v, run, loc) for k, v in run.params.items()},
    }
