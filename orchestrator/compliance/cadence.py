"""`drill due`: each drill's last passing run, when it is next due, whether it is overdue.

Periods are calendar periods in the inventory's time zone (quarterly = calendar quarter).
A drill is **done** when it passed in the current period, **due** (by the end of the
current period) when its last pass was in the previous period, and **overdue** when a
whole period went by without a pass, or it never passed. "now" is a parameter, never a
flag or an environment variable: the CLI always passes the real clock.

Per target (`targets`): a drill with a `line`, `carrier` or `centre` parameter is also
judged per value of it (each carrier, production centre or terrestrial line the inventory
has, `target_values`, when the parameter's default is one of them):
**done** when a measured pass of the drill with that value (the run.start `params`) falls
in the current period, else **due** (`DUE carrier-outage carrier=CU`). Parameters rotate
across periods (`drill schedule`), so a target without a pass this period is due, never
overdue on its own; the drill's own status above says whether the drill is overdue.

Which runs count is the caller's choice: the CLI passes evidence only
(`orchestrator.archive.runs.counted`: production, not a rehearsal) unless `--include-test`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from orchestrator.archive.runs import ArchivedRun
from orchestrator.errors import InputError, Problem

TARGET_PARAM_TYPES = ("line", "carrier", "centre")
MONTHS = {"monthly": 1, "quarterly": 3, "half-yearly": 6, "yearly": 12}
DEFAULT_CADENCE = "quarterly"


@dataclass(frozen=True)
class DrillCadence:
    id: str
    title_zh: str
    title_en: str
    cadence: str = DEFAULT_CADENCE
    # (parameter, type, default) of each line|carrier|centre parameter: judged per target
    targets: tuple[tuple[str, str, str | None], ...] = ()


@dataclass(frozen=True)
class TargetDue:
    """One target of a drill (`carrier=CU`): done this period or due."""

    param: str
    value: str
    status: str                    # done | due
    last_pass: ArchivedRun | None
    last_pass_at: datetime | None

    @property
    def label(self) -> str:
        return f"{self.param}={self.value}"

    def to_json(self) -> dict[str, object]:
        return {"param": self.param, "value": self.value, "status": self.status,
                "last_pass": self.last_pass.run_id if self.last_pass else None,
                "last_pass_at": self.last_pass_at.isoformat() if self.last_pass_at else None,
                "last_pass_evidence": self.last_pass.evidence if self.last_pass else None}


@dataclass(frozen=True)
class Due:
    drill: DrillCadence
    status: str                   # done | due | overdue
    last_pass: ArchivedRun | None
    last_pass_at: datetime | None  # local time of its run.start
    period_start: datetime        # the current period
    period_end: datetime
    due_by: datetime              # the deadline for the next pass (overdue: the one missed)
    targets: tuple[TargetDue, ...] = ()

    @property
    def overdue(self) -> bool:
        return self.status == "overdue"

    def to_json(self) -> dict[str, object]:
        return {
            "drill": self.drill.id, "title": self.drill.title_en, "title_zh": self.drill.title_zh,
            "cadence": self.drill.cadence, "status": self.status, "overdue": self.overdue,
            "last_pass": self.last_pass.run_id if self.last_pass else None,
            "last_pass_at": self.last_pass_at.isoformat() if self.last_pass_at else None,
            "last_pass_evidence": self.last_pass.evidence if self.last_pass else None,
            "period": [self.period_start.isoformat(), self.period_end.isoformat()],
            "due_by": self.due_by.isoformat(),
            "targets": [t.to_json() for t in self.targets],
        }


def drill_cadences(drills: Iterable[object]) -> list[DrillCadence]:
    """From `orchestrator.model.drill.Drill`s (id, title {zh,en} or text, cadence)."""
    out = []
    for d in drills:
        title = d.title
        zh = getattr(title, "zh", None) or (title.get("zh") if isinstance(title, dict) else str(title))
        en = getattr(title, "en", None) or (title.get("en") if isinstance(title, dict) else str(title))
        targets = tuple((name, p.type, None if p.default is None else str(p.default))
                        for name, p in (getattr(d, "params", None) or {}).items()
                        if getattr(p, "type", None) in TARGET_PARAM_TYPES)
        out.append(DrillCadence(d.id, zh or d.id, en or d.id, d.cadence or DEFAULT_CADENCE, targets))
    return out


def add_months(dt: datetime, months: int) -> datetime:
    total = dt.year * 12 + (dt.month - 1) + months
    return dt.replace(year=total // 12, month=total % 12 + 1, day=1)


def period_of(cadence: str, when: datetime) -> tuple[datetime, datetime]:
    """[start, end) of the calendar period holding `when` (aware, local zone kept)."""
    if cadence not in MONTHS:
        raise InputError(Problem("", None, "cadence",
                                 f"expected one of {', '.join(MONTHS)}; got {cadence!r}"))
    step = MONTHS[cadence]
    first = ((when.month - 1) // step) * step + 1
    start = when.replace(month=first, day=1, hour=0, minute=0, second=0, microsecond=0)
    return start, add_months(start, step)


def due(drills: Sequence[DrillCadence], runs: Iterable[ArchivedRun], *, timezone: str,
        now: datetime, target_values: Mapping[str, Sequence[str]] | None = None) -> list[Due]:
    """The verdict for each drill at `now` (aware), from the runs of one environment;
    with `target_values` ({"carrier": ["CT", "CU"], …}), also per target of each drill."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    tz = ZoneInfo(timezone)
    local_now = now.astimezone(tz)
    now_ns = int(now.timestamp() * 1e9)
    passes: dict[str, ArchivedRun] = {}
    target_passes: dict[tuple[str, str, str], ArchivedRun] = {}  # (drill, param, value)
    for run in runs:
        if run.measured_pass and run.drill and run.started_ns is not None and run.started_ns <= now_ns:
            best = passes.get(run.drill)
            if best is None or run.started_ns > (best.started_ns or 0):
                passes[run.drill] = run
            for name, value in (run.params or {}).items():
                key = (run.drill, str(name), str(value))
                best = target_passes.get(key)
                if best is None or run.started_ns > (best.started_ns or 0):
                    target_passes[key] = run
    out = []
    for d in drills:
        start, end = period_of(d.cadence, local_now)
        prev_start = add_months(start, -MONTHS[d.cadence])
        last = passes.get(d.id)
        at = datetime.fromtimestamp(last.started_ns / 1e9, tz) if last and last.started_ns else None
        if at is not None and at >= start:
            status, due_by = "done", add_months(end, MONTHS[d.cadence])
        elif at is not None and at >= prev_start:
            status, due_by = "due", end
        else:
            status, due_by = "overdue", start
        per_target = []
        for name, ptype, default in d.targets:
            values = [str(v) for v in (target_values or {}).get(ptype, ())]
            if default is not None and default not in values:
                continue  # e.g. beijing-cutover dr=BJ: not one of the production centres
            for value in values:
                tp = target_passes.get((d.id, name, str(value)))
                t_at = datetime.fromtimestamp(tp.started_ns / 1e9, tz) if tp and tp.started_ns else None
                per_target.append(TargetDue(name, str(value), "done" if t_at and t_at >= start else "due",
                                            tp, t_at))
        out.append(Due(d, status, last, at, start, end, due_by, tuple(per_target)))
    return out


def pending(d: Due) -> bool:
    """No pass yet in the current period: a scheduled run should go ahead."""
    return d.status != "done"


def load_drill_cadences(drills_dir) -> list[DrillCadence]:
    """The project's drills via `orchestrator.config.scenario.load_drills` (id, title, cadence)."""
    from orchestrator.config.scenario import load_drills

    return drill_cadences(load_drills(drills_dir))
