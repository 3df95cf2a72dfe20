"""What a run exercised, read from its journal: the lines, carriers, centres and gateways
`drill coverage` counts (docs/compliance.md, "Coverage").

Never re-planned: the lines and centres come from the run.start `plan` (each step's
`effect`, as the engine resolved the drill's parameters), carriers and centre names from
the run.start `topology`, gateways from the `measure` records (docs/journal.md).

A run covers a target only when it measured it: the run ended passed or failed (an
inconclusive, aborted, refused or unfinished run measured nothing it could file), and for a
gateway, its failover measure on the failed path says passed or failed ("not tested" and
"not applicable" count as neither). A covered target's result is `passed` only when the
run is a measured pass (`ArchivedRun.measured_pass`) and, for a gateway, its own measure
passed; else `failed`: covered, yet not the period's drill.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from orchestrator.archive.runs import ArchivedRun
from orchestrator.journal.reader import JOURNAL, read_journal
from orchestrator.journal.records import Measure, RunStart

TARGET_TYPES = ("line", "carrier", "centre", "gateway")


@dataclass(frozen=True)
class Touch:
    """One target a run measured."""

    type: str     # line | carrier | centre | gateway
    id: str
    result: str   # passed (counts as the period's drill) | failed (covered, not a pass)


@dataclass(frozen=True)
class Exercised:
    run: ArchivedRun
    touches: tuple[Touch, ...]
    names: Mapping[tuple[str, str], Mapping[str, str]]  # (type, id) -> {zh, en} from topology

    def of(self, type_: str) -> dict[str, str]:
        return {t.id: t.result for t in self.touches if t.type == type_}


def exercised(run: ArchivedRun) -> Exercised:
    """The targets `run` measured, from its journal (empty when it measured none)."""
    if run.status not in ("passed", "failed") or run.problem is not None:
        return Exercised(run, (), {})
    try:
        journal = read_journal(run.path / JOURNAL)
    except (OSError, ValueError):
        return Exercised(run, (), {})
    starts = journal.of(RunStart)
    if not starts:
        return Exercised(run, (), {})
    start = starts[0]
    topo = start.topology
    names = _names(topo)
    lines_down: list[str] = []
    centres: list[str] = []
    for step in start.plan:
        effect = step.get("effect") if isinstance(step, Mapping) else None
        if not isinstance(effect, Mapping):
            continue
        lines_down += [str(x) for x in effect.get("lines_down") or ()]
        centres += [str(x) for x in effect.get("centres_down") or ()]
        if effect.get("repoint_to"):
            centres.append(str(effect["repoint_to"]))
    result = "passed" if run.measured_pass else "failed"
    touches = [Touch("line", ln, result) for ln in dict.fromkeys(lines_down)]
    touches += [Touch("carrier", c, result) for c in _carriers_cut(topo, set(lines_down))]
    touches += [Touch("centre", c, result) for c in dict.fromkeys(centres)]
    gateways: dict[str, str] = {}
    for m in journal.of(Measure):
        if m.phase != "failover" or not m.affected or m.passed is None:
            continue
        ok = bool(m.passed) and result == "passed" and gateways.get(m.gateway) != "failed"
        gateways[m.gateway] = "passed" if ok else "failed"
    touches += [Touch("gateway", g, r) for g, r in gateways.items()]
    return Exercised(run, tuple(touches), names)


def _carriers_cut(topo: Mapping, down: set[str]) -> list[str]:
    """Carriers every one of whose lines the run cut (a single line is not the carrier)."""
    by_carrier: dict[str, list[str]] = {}
    for ln in topo.get("lines") or ():
        if isinstance(ln, Mapping) and ln.get("carrier") and ln.get("id"):
            by_carrier.setdefault(str(ln["carrier"]), []).append(str(ln["id"]))
    return [c for c, ids in by_carrier.items() if ids and set(ids) <= down]


def _names(topo: Mapping) -> dict[tuple[str, str], Mapping[str, str]]:
    out: dict[tuple[str, str], Mapping[str, str]] = {}
    for type_, key in (("carrier", "carriers"), ("centre", "centres")):
        for item in topo.get(key) or ():
            if isinstance(item, Mapping) and isinstance(item.get("name"), Mapping):
                out[(type_, str(item.get("id")))] = dict(item["name"])
    return out
