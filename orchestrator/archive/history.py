"""`drill history`: every run in the archive, per drill, with the RTO trend.

The runs come from the archive scan (`orchestrator.archive.runs.scan_runs`): each journal's
first record (run.start) and last (run.end, whose `rto_s` holds the worst interruption
per service), with its cache under $DRILL_HOME keyed by each journal's size and mtime.
Only a run whose run.end lacks that figure (or an unfinished one) is read in full, and
the figure recomputed as run.end defines it (`orchestrator.model.results.worst_rto`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.archive.runs import ArchivedRun, read_run, scan_runs
from orchestrator.journal.reader import JOURNAL, read_journal


@dataclass(frozen=True)
class HistoryRow:
    """One run as `drill history` lists it."""

    run_id: str
    drill: str
    environment: str
    timezone: str
    started_ns: int
    ended_ns: int | None
    status: str  # passed | failed | aborted | unfinished
    exit_code: int | None
    rto_s: dict[str, float] = field(default_factory=dict)
    path: str = ""
    operator: str = ""
    params: dict = field(default_factory=dict)
    evidence: bool = False  # a production run, not a rehearsal (archive.runs.ArchivedRun.evidence)

    @property
    def worst_rto_s(self) -> float | None:
        return max(self.rto_s.values()) if self.rto_s else None

    @property
    def measured(self) -> bool:
        """A run the RTO trend counts: it passed or failed and measured a failover (an
        aborted, inconclusive, refused or unfinished run measured nothing to compare)."""
        return self.status in ("passed", "failed") and bool(self.rto_s)


def _rto_from_records(path: Path) -> dict[str, float]:
    """run.end's `rto_s` recomputed from the measure records (model.results.worst_rto)."""
    return read_journal(path).worst_rto()


def _summary(run: ArchivedRun) -> HistoryRow | None:
    """One run as history shows it; None if the archive could not read it as a run."""
    if run.problem is not None or type(run.started_ns) is not int:
        return None
    finished = run.status is not None
    rto = run.rto_s
    if rto is None and type(run.summary) is dict:
        rto = run.summary.get("rto_s")
    if not finished or type(rto) is not dict:
        rto = _rto_from_records(run.path / JOURNAL)
    # Positional, in HistoryRow's field order: this runs once per archived run.
    return HistoryRow(
        run.run_id, str(run.drill or ""), str(run.environment or ""),
        str(run.timezone or "Asia/Shanghai"), run.started_ns,
        run.ended_ns if finished else None, str(run.status) if finished else "unfinished",
        run.exit_code, {str(k): float(v) for k, v in rto.items()}, str(run.path),
        str(run.operator or ""), dict(run.params or {}), run.evidence)


def summarise(journal: Path) -> HistoryRow | None:
    """One run from its journal's first and last records; None if it is not a run."""
    folder = Path(journal).parent
    year = int(folder.parent.name) if folder.parent.name.isdigit() else 0
    return _summary(read_run(folder, year))


def scan(archive: Path, cache_dir: Path | None = None) -> list[HistoryRow]:
    """Every run under the archive, oldest first."""
    runs = [s for s in map(_summary, scan_runs(archive, cache_dir=cache_dir)) if s is not None]
    return sorted(runs, key=lambda r: (r.started_ns, r.run_id))


def find_run(archive: Path, run_id: str) -> Path | None:
    """The run folder for an id: reports/<YYYY>/<run-id> (the year is the local one)."""
    if not archive.is_dir():
        return None
    for year in sorted(archive.iterdir(), reverse=True):
        candidate = year / run_id
        if year.is_dir() and (candidate / "journal.jsonl").is_file():
            return candidate
    return None


_BARS = "▁▂▃▄▅▆▇█"


def trend(values: list[float | None]) -> str:
    """A sparkline of worst RTO per run, oldest first; · marks a run with no measurement."""
    nums = [v for v in values if v is not None]
    if not nums:
        return ""
    lo, hi = min(nums), max(nums)
    span = (hi - lo) or 1.0
    return "".join("·" if v is None else _BARS[int((v - lo) / span * (len(_BARS) - 1))] for v in values)


TREND_RUNS = 40
TEST_MARK = "[test]"  # a run that is not evidence (lab, test bed, rehearsal), explained below the tables


def history_table(runs: list[HistoryRow], last: int = 20, lang: str = "en") -> str:
    """One table per drill: its newest `last` runs (0: all), then the RTO trend across runs."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from tabulate import tabulate

    from orchestrator.model.i18n import LABELS

    def say(key: str, **kw: object) -> str:
        return LABELS[key][0 if lang == "zh" else 1].format(**kw)

    if not runs:
        return say("hist_none")
    blocks = []
    for drill in sorted({r.drill for r in runs}):
        every = [r for r in runs if r.drill == drill]
        mine = every[-last:] if last else every
        services = sorted({s for r in mine for s in r.rto_s})
        rows = []
        for r in mine:
            local = datetime.fromtimestamp(r.started_ns / 1e9, ZoneInfo(r.timezone))
            params = " ".join(f"{k}={v}" for k, v in sorted(r.params.items())) or "—"
            env = r.environment if r.evidence else f"{r.environment} {say('hist_test_mark')}"
            status = say(f"hist_status_{r.status}") if f"hist_status_{r.status}" in LABELS else r.status.upper()
            offset = local.strftime("%z")  # zh: UTC+08:00, not an English zone abbreviation
            start = local.strftime("%Y-%m-%d %H:%M ") + (f"UTC{offset[:3]}:{offset[3:]}" if lang == "zh"
                                                         else local.strftime("%Z"))
            rows.append([r.run_id, start, env, r.operator or "—", params, status,
                         *[f"{r.rto_s[s]:.3f}" if s in r.rto_s else "—" for s in services]])
        headers = [say(f"hist_col_{c}") for c in ("run", "start", "env", "operator", "params", "verdict")]
        headers += [say("hist_col_rto", service=LABELS[f"svc_{s}"][0] if lang == "zh" and f"svc_{s}" in LABELS
                        else s) for s in services]
        table = tabulate(rows, headers=headers)
        measured = [r for r in every if r.measured]
        worst = [r.worst_rto_s for r in measured[-TREND_RUNS:]]
        line = say("hist_trend", n=len(worst), trend=trend(worst))
        nums = [w for w in worst if w is not None]
        if len(nums) >= 2:
            line += say("hist_trend_last", last=f"{nums[-1]:.3f}", previous=f"{nums[-2]:.3f}",
                        delta=f"{nums[-1] - nums[-2]:+.3f}")
        shown = say("hist_shown", n=len(mine)) if len(mine) < len(every) else ""
        count = say("hist_runs_one" if len(every) == 1 else "hist_runs_many", n=len(every))
        blocks.append(f"{say('hist_block', drill=drill, count=count, shown=shown)}\n{table}\n{line}")
    if any(not r.evidence for r in runs):
        blocks.append(say("hist_test_note"))
    return "\n\n".join(blocks)
