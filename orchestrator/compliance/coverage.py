"""`drill coverage --year Y`: per quarter, which lines, carriers, centres and gateways were
exercised by which drill, with gaps marked (docs/compliance.md, "Coverage").

Targets are the inventory's (every line, carrier, centre and gateway) plus any other a run
of the year names; what a run exercised comes from its journal
(`orchestrator.archive.exercised`), never from planning the drill again. A target counts as
covered in a quarter when a run measured it, passed or failed; only a measured pass counts
as the quarter's drill, so a quarter with no pass is a **gap** (a quarter that has not begun
is not). "Not tested" and "not applicable" count as neither.

Runs are evidence only (production, not a rehearsal: `orchestrator.archive.runs.counted`);
with `include_test` the others count too and every entry they give is labelled.
The library needs no CLI: `build(...)`, then `to_json` or `render_text`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from orchestrator.archive.exercised import TARGET_TYPES, Exercised, exercised
from orchestrator.archive.runs import ArchivedRun, counted, scan_runs
from orchestrator.model.i18n import LABELS
from orchestrator.model.inventory import Inventory


@dataclass(frozen=True)
class Target:
    type: str                  # line | carrier | centre | gateway
    id: str
    name_zh: str
    name_en: str

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en


@dataclass(frozen=True)
class Entry:
    """One drill that measured a target in a quarter."""

    drill: str
    title_zh: str
    title_en: str
    result: str        # passed | failed
    run_id: str
    test: bool         # not evidence (lab, test bed or rehearsal): shown only with include_test

    def title(self, lang: str) -> str:
        return self.title_zh if lang == "zh" else self.title_en


@dataclass(frozen=True)
class Cell:
    entries: tuple[Entry, ...]
    started: bool      # the quarter has begun (a quarter ahead is never a gap)

    @property
    def passed(self) -> bool:
        return any(e.result == "passed" for e in self.entries)

    @property
    def gap(self) -> bool:
        return self.started and not self.passed


@dataclass(frozen=True)
class Row:
    target: Target
    quarters: tuple[Cell, Cell, Cell, Cell]


@dataclass(frozen=True)
class CoverageReport:
    year: int
    environment: str
    timezone: str
    include_test: bool
    rows: tuple[Row, ...]
    runs: int            # runs counted
    hidden_test: int     # runs of the year left out as not evidence (without include_test)

    def gaps(self) -> list[tuple[Target, int]]:
        return [(r.target, q) for r in self.rows for q, c in enumerate(r.quarters, 1) if c.gap]

    def to_json(self) -> dict[str, object]:
        return {
            "year": self.year, "environment": self.environment, "timezone": self.timezone,
            "include_test": self.include_test, "runs": self.runs, "hidden_test": self.hidden_test,
            "targets": [{
                "type": r.target.type, "id": r.target.id,
                "name": {"zh": r.target.name_zh, "en": r.target.name_en},
                "quarters": [{"quarter": q, "gap": c.gap, "started": c.started, "passed": c.passed,
                              "drills": [{"drill": e.drill, "result": e.result, "run": e.run_id,
                                          "test": e.test} for e in c.entries]}
                             for q, c in enumerate(r.quarters, 1)]} for r in self.rows],
            "gaps": [{"type": t.type, "id": t.id, "quarter": q} for t, q in self.gaps()],
        }


def target_values(inv: Inventory) -> dict[str, list[str]]:
    """The values a `line`, `carrier` or `centre` drill parameter takes, per type (what
    `drill schedule` rotates over: terrestrial lines and their carriers, production centres)."""
    from orchestrator.compliance.schedule import rotation_values

    return {t: rotation_values(inv, t, None) for t in ("line", "carrier", "centre")}


def inventory_targets(inv: Inventory) -> list[Target]:
    """Every line, carrier, centre and gateway of the inventory, in its order."""
    def names(text, fallback: str) -> tuple[str, str]:
        zh = getattr(text, "zh", None) or fallback
        en = getattr(text, "en", None) or fallback
        return zh, en

    out = [Target("line", ln.id, ln.id, ln.id) for ln in inv.lines]
    out += [Target("carrier", c.id, *names(c.name, c.id)) for c in inv.carriers]
    out += [Target("centre", c.id, *names(c.name, c.id)) for c in inv.centres]
    out += [Target("gateway", g.id, g.id, g.id) for g in inv.gateways]
    return out


def build(reports: Path, year: int, *, targets: list[Target], environment: str, timezone: str,
          now: datetime, include_test: bool = False,
          cache_dir: Path | None = None) -> CoverageReport:
    """The year's coverage of `targets` from the archive's runs of one environment."""
    tz = ZoneInfo(timezone)
    every = _runs_of_year(reports, year, environment, tz, cache_dir)
    runs = counted(every, include_test)
    found = [exercised(r) for r in runs]
    cells: dict[tuple[str, str], list[list[Entry]]] = {}
    extra: dict[tuple[str, str], Target] = {}
    known = {(t.type, t.id) for t in targets}
    for ex in found:
        q = _quarter(ex.run, tz)
        for touch in ex.touches:
            key = (touch.type, touch.id)
            if key not in known and key not in extra:
                zh, en = _name(ex, key)
                extra[key] = Target(touch.type, touch.id, zh, en)
            cells.setdefault(key, [[], [], [], []])[q - 1].append(_entry(ex.run, touch.result))
    local_now = now.astimezone(tz)
    started = [datetime(year, 3 * q - 2, 1, tzinfo=tz) <= local_now for q in range(1, 5)]
    order = {t: i for i, t in enumerate(TARGET_TYPES)}
    all_targets = list(targets) + sorted(extra.values(), key=lambda t: (order.get(t.type, 9), t.id))
    rows = []
    for t in sorted(all_targets, key=lambda t: order.get(t.type, 9)):  # stable: inventory order
        per_q = cells.get((t.type, t.id), [[], [], [], []])
        rows.append(Row(t, tuple(Cell(tuple(per_q[i]), started[i]) for i in range(4))))  # type: ignore[arg-type]
    return CoverageReport(year, environment, timezone, include_test, tuple(rows), len(runs),
                          0 if include_test else len(every) - len(runs))


def _runs_of_year(reports: Path, year: int, environment: str, tz: ZoneInfo,
                  cache_dir: Path | None) -> list[ArchivedRun]:
    # Year folders follow the inventory's zone; a run near New Year may sit either side.
    out = []
    for y in (year - 1, year, year + 1):
        for r in scan_runs(reports, year=y, environment=environment, cache_dir=cache_dir):
            if r.started_ns is not None and _local(r.started_ns, tz).year == year:
                out.append(r)
    return sorted(out, key=lambda r: r.started_ns or 0)


def _local(ns: int, tz: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(ns / 1e9, tz)


def _quarter(run: ArchivedRun, tz: ZoneInfo) -> int:
    return (_local(run.started_ns or 0, tz).month - 1) // 3 + 1


def _entry(run: ArchivedRun, result: str) -> Entry:
    drill = run.drill or "?"
    return Entry(drill, run.title.get("zh") or drill, run.title.get("en") or drill, result,
                 run.run_id, not run.evidence)


def _name(ex: Exercised, key: tuple[str, str]) -> tuple[str, str]:
    name = ex.names.get(key) or {}
    return str(name.get("zh") or key[1]), str(name.get("en") or key[1])


def _label(lang: str, key: str, **kw) -> str:
    zh, en = LABELS[key]
    return (zh if lang == "zh" else en).format(**kw)


def render_text(report: CoverageReport, lang: str) -> str:
    """A table (tabulate): one row per target, one column per quarter, gaps marked."""
    from tabulate import tabulate

    test_note = _label(lang, "env_test_note")
    rows = []
    for r in report.rows:
        cols = []
        for c in r.quarters:
            parts = [f"{e.title(lang)} {_label(lang, 'cov_' + e.result)}"
                     + (f" [{test_note}]" if e.test else "") for e in c.entries]
            if c.gap:
                parts.insert(0, _label(lang, "cov_gap"))
            elif not c.started and not parts:
                parts.append(_label(lang, "cov_ahead"))
            cols.append("\n".join(parts))
        name = r.target.name(lang)
        label = r.target.id if name == r.target.id else f"{name} ({r.target.id})"
        rows.append([_label(lang, f"cov_type_{r.target.type}"), label, *cols])
    headers = [_label(lang, "cov_type"), _label(lang, "cov_target"),
               *[_label(lang, "cov_quarter", q=q) for q in range(1, 5)]]
    lines = [_label(lang, "cov_title", year=report.year, env=report.environment),
             tabulate(rows, headers=headers),
             _label(lang, "cov_legend"),
             _label(lang, "cov_gaps", n=len(report.gaps()))]
    if report.include_test:
        lines.append(f"[{test_note}]")
    return "\n".join(lines)
