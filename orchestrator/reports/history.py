"""`drill history`: every run in the archive, per drill, with the RTO trend.

A run's drill, start, status and worst interruption come from its journal: the first
record (run.start) and the last (run.end, whose `rto_s` holds the worst
interruption per service). Only a run whose run.end lacks that figure is read in full.
A small cache under $DRILL_HOME keyed by (size, mtime) of each journal keeps 10,000 runs
under a second; it only ever saves reading, the journal stays the source.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import BinaryIO

from orchestrator.journal import read_records

CACHE_VERSION = 2
_TAIL = 64 * 1024


@dataclass(frozen=True)
class RunSummary:
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

    @property
    def worst_rto_s(self) -> float | None:
        return max(self.rto_s.values()) if self.rto_s else None


def _first_line(fh: BinaryIO) -> bytes:
    fh.seek(0)
    return fh.readline()


def _last_line(fh: BinaryIO, size: int) -> bytes:
    """The last complete line (a torn last line from a crash is skipped, as read_records does)."""
    pos, buf = size, b""
    while pos > 0:
        step = min(_TAIL, pos)
        pos -= step
        fh.seek(pos)
        buf = fh.read(step) + buf
        end = buf.rfind(b"\n")
        if end < 0:
            continue
        start = buf.rfind(b"\n", 0, end)
        if start >= 0 or pos == 0:
            return buf[start + 1:end + 1]
    return b""


def _rto_from_records(path: Path) -> dict[str, float]:
    worst: dict[str, float] = {}
    for rec in read_records(path):
        d = rec.data
        if rec.kind == "measure" and d.get("phase", "failover") == "failover" \
                and d.get("interruption_s") is not None:
            svc = str(d.get("service"))
            worst[svc] = max(worst.get(svc, 0.0), float(d["interruption_s"]))
    return worst


def summarise(journal: Path) -> RunSummary | None:
    """One run from its journal's first and last records; None if it is not a run."""
    try:
        size = journal.stat().st_size
        with open(journal, "rb") as fh:
            first = json.loads(_first_line(fh))
            last_raw = _last_line(fh, size)
    except (OSError, ValueError):
        return None
    if first.get("kind") != "run.start":
        return None
    data = first.get("data") or {}
    last = json.loads(last_raw) if last_raw.strip() else first
    ended = last.get("kind") == "run.end"
    end = last.get("data") or {} if ended else {}
    summary = end.get("summary") if isinstance(end.get("summary"), dict) else {}
    rto = end.get("rto_s", summary.get("rto_s"))
    if not isinstance(rto, dict):
        rto = _rto_from_records(journal)
    return RunSummary(
        run_id=str(first.get("run")), drill=str((data.get("drill") or {}).get("id", "")),
        environment=str((data.get("inventory") or {}).get("environment", "")),
        timezone=str((data.get("inventory") or {}).get("timezone") or "Asia/Shanghai"),
        started_ns=int(first["ts_ns"]), ended_ns=int(last["ts_ns"]) if ended else None,
        status=str(end.get("status", "unfinished")) if ended else "unfinished",
        exit_code=end.get("exit_code"), rto_s={str(k): float(v) for k, v in rto.items()},
        path=str(journal.parent))


def _journals(archive: Path) -> Iterator[str]:
    """reports/<YYYY>/<run-id>/journal.jsonl, with os.scandir (10,000 runs, no globbing)."""
    if not archive.is_dir():
        return
    with os.scandir(archive) as years:
        for year in years:
            if not (year.is_dir() and year.name.isdigit()):
                continue
            with os.scandir(year.path) as runs:
                for run in runs:
                    if run.is_dir():
                        yield os.path.join(run.path, "journal.jsonl")


def _cache_path(cache_dir: Path, archive: Path) -> Path:
    key = hashlib.sha256(str(archive.resolve()).encode()).hexdigest()[:16]
    return cache_dir / f"history-{key}.json"


def scan(archive: Path, cache_dir: Path | None = None) -> list[RunSummary]:
    """Every run under the archive, oldest first."""
    cached: dict[str, dict] = {}
    cache_file = _cache_path(cache_dir, archive) if cache_dir is not None else None
    if cache_file is not None and cache_file.is_file():
        try:
            blob = json.loads(cache_file.read_text(encoding="utf-8"))
            if blob.get("version") == CACHE_VERSION:
                cached = blob.get("runs", {})
        except (OSError, ValueError):
            cached = {}
    fresh: dict[str, dict] = {}
    changed = False
    out: list[RunSummary] = []
    for journal in _journals(archive):
        try:
            st = os.stat(journal)
        except OSError:
            continue
        hit = cached.get(journal)
        if hit and hit.get("size") == st.st_size and hit.get("mtime_ns") == st.st_mtime_ns:
            summary = RunSummary(**hit["run"])
            fresh[journal] = hit
        else:
            found = summarise(Path(journal))
            if found is None:
                continue
            summary = found
            # An unfinished run may still be growing; never cache it.
            if summary.status != "unfinished":
                fresh[journal] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "run": asdict(summary)}
                changed = True
        out.append(summary)
    changed = changed or len(fresh) != len(cached)
    if cache_file is not None and changed:
        try:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache_file.with_suffix(".tmp")
            tmp.write_text(json.dumps({"version": CACHE_VERSION, "runs": fresh}), encoding="utf-8")
            os.replace(tmp, cache_file)
        except OSError:
            pass  # the cache is an optimisation; a read-only home just means slower runs
    out.sort(key=lambda r: (r.started_ns, r.run_id))
    return out


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


def history_table(runs: list[RunSummary], last: int = 20) -> str:
    """One table per drill: its newest `last` runs (0: all), then the RTO trend across runs."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from tabulate import tabulate

    if not runs:
        return "no runs in the archive"
    blocks = []
    for drill in sorted({r.drill for r in runs}):
        every = [r for r in runs if r.drill == drill]
        mine = every[-last:] if last else every
        services = sorted({s for r in mine for s in r.rto_s})
        rows = []
        for r in mine:
            local = datetime.fromtimestamp(r.started_ns / 1e9, ZoneInfo(r.timezone))
            rows.append([r.run_id, local.strftime("%Y-%m-%d %H:%M %Z"), r.environment, r.status.upper(),
                         *[f"{r.rto_s[s]:.3f}" if s in r.rto_s else "—" for s in services]])
        table = tabulate(rows, headers=["run", "start", "env", "status", *[f"RTO {s} (s)" for s in services]])
        worst = [r.worst_rto_s for r in every[-TREND_RUNS:]]
        line = f"RTO trend (worst per run, last {len(worst)} runs, oldest → newest): {trend(worst)}"
        nums = [w for w in worst if w is not None]
        if len(nums) >= 2:
            line += f"  last {nums[-1]:.3f} s vs previous {nums[-2]:.3f} s ({nums[-1] - nums[-2]:+.3f} s)"
        shown = f", newest {len(mine)} shown" if len(mine) < len(every) else ""
        count = f"{len(every)} run{'s' if len(every) != 1 else ''}{shown}"
        blocks.append(f"{drill} ({count})\n{table}\n{line}")
    return "\n\n".join(blocks)
