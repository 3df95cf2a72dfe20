"""The archive scan: every run under a reports folder, from its journal's ends.

A run folder sits at `reports/<YYYY>/<run-id>/journal.jsonl` (docs/run-folder.md). A
run's start, drill and environment come from its first record (`run.start`); its outcome
from its last (`run.end`; none means unfinished). Only those two lines are read, so
scanning 10,000 runs stays cheap; `full_records` reads one journal when detail is needed.
Never file times.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

JOURNAL = "journal.jsonl"
_TAIL_CHUNK = 64 * 1024


@dataclass(frozen=True)
class ArchivedRun:
    run_id: str
    path: Path                        # the run folder
    year: int                         # the year folder it sits in
    drill: str | None                 # drill id from run.start
    title: dict[str, str] = field(default_factory=dict)   # {zh, en} from run.start, may be empty
    cadence: str | None = None
    environment: str | None = None
    environment_kind: str | None = None
    started_ns: int | None = None     # run.start ts_ns; None when the journal has no run.start
    ended_ns: int | None = None
    status: str | None = None         # passed | failed | aborted | None (unfinished)
    exit_code: int | None = None
    summary: Any = None               # run.end data.summary as written by the engine
    problem: str | None = None        # why the journal could not be read, if so

    @property
    def finished(self) -> bool:
        return self.status is not None

    @property
    def passed(self) -> bool:
        return self.status == "passed"


def scan_runs(reports: Path, *, year: int | None = None,
              environment: str | None = None) -> list[ArchivedRun]:
    """Every run in the archive (or one year of it), sorted by run id (= start time)."""
    runs = [r for r in _iter_runs(reports, year)
            if environment is None or r.environment == environment]
    return sorted(runs, key=lambda r: r.run_id)


def years(reports: Path) -> list[int]:
    if not reports.is_dir():
        return []
    return sorted(int(e.name) for e in os.scandir(reports) if e.is_dir() and _is_year(e.name))


def _is_year(name: str) -> bool:
    return len(name) == 4 and name.isdigit()


def _iter_runs(reports: Path, year: int | None) -> Iterator[ArchivedRun]:
    for y in ([year] if year is not None else years(reports)):
        ydir = os.path.join(reports, f"{y:04d}")
        if not os.path.isdir(ydir):
            continue
        with os.scandir(ydir) as it:
            for entry in it:
                if entry.is_dir(follow_symlinks=False):
                    run = _read(entry.path, entry.name, y)
                    if run is not None:
                        yield run


def read_run(folder: Path, year: int) -> ArchivedRun:
    run = _read(str(folder), folder.name, year)
    if run is None:
        return ArchivedRun(run_id=folder.name, path=folder, year=year, drill=None,
                           problem="no journal")
    return run


def _read(folder: str, name: str, year: int) -> ArchivedRun | None:
    """Hot path of the scan: plain strings, one open, two lines parsed."""
    try:
        with open(os.path.join(folder, JOURNAL), "rb") as fh:
            first = _first_line(fh)
            last = _last_line(fh)
    except FileNotFoundError:
        return None  # not a run folder
    except OSError as e:
        return ArchivedRun(run_id=name, path=Path(folder), year=year, drill=None,
                           problem=f"unreadable journal: {e}")
    try:
        start = json.loads(first) if first else None
        end = json.loads(last) if last else None
    except ValueError as e:
        return ArchivedRun(run_id=name, path=Path(folder), year=year, drill=None,
                           problem=f"unreadable journal: {e}")
    if not isinstance(start, dict) or start.get("kind") != "run.start":
        return ArchivedRun(run_id=name, path=Path(folder), year=year, drill=None,
                           problem="journal does not begin with run.start")
    data = start.get("data") or {}
    drill = data.get("drill") or {}
    inv = data.get("inventory") or {}
    title = drill.get("title") if isinstance(drill.get("title"), dict) else {}
    ended = isinstance(end, dict) and end.get("kind") == "run.end"
    edata = (end.get("data") or {}) if ended else {}
    return ArchivedRun(
        run_id=str(start.get("run") or name), path=Path(folder), year=year,
        drill=drill.get("id"), title=title, cadence=drill.get("cadence"),
        environment=inv.get("environment"), environment_kind=inv.get("kind"),
        started_ns=start.get("ts_ns"),
        ended_ns=end.get("ts_ns") if ended else None,
        status=edata.get("status") if ended else None,
        exit_code=edata.get("exit_code") if ended else None,
        summary=edata.get("summary") if ended else None,
    )


def _first_line(fh) -> bytes | None:
    line = fh.readline()
    return line if line.endswith(b"\n") else None


def _last_line(fh) -> bytes | None:
    """The last complete line; a torn tail (crash mid-write) is ignored."""
    fh.seek(0, os.SEEK_END)
    end = fh.tell()
    size = _TAIL_CHUNK
    while True:
        start = max(0, end - size)
        fh.seek(start)
        buf = fh.read(end - start)
        cut = buf.rfind(b"\n")
        if cut < 0:
            return None
        body = buf[:cut]            # drops any torn tail after the last newline
        nl = body.rfind(b"\n")
        if nl >= 0:
            return body[nl + 1:] + b"\n"
        if start == 0:
            return body + b"\n" if body else None
        size *= 4


def full_records(run: ArchivedRun) -> list[dict[str, Any]]:
    """Every complete record of one run's journal, as raw dicts."""
    out = []
    with open(run.path / JOURNAL, "rb") as fh:
        for line in fh:
            if not line.endswith(b"\n"):
                break
            try:
                out.append(json.loads(line))
            except ValueError:
                break
    return out
