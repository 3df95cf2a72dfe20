"""`drill prune`: delete run folders past retention, never one younger than a year (drill's
own archive: this project's extension of R-SEC-2; the clause itself, the hosts' logs, is
judged by `drill check --live`, orchestrator/compliance/log_hosts.py).

A run may go only when **all** hold: its journal has `run.start` (its age comes from
there, never from file times) and `run.end` (unfinished runs are kept for `drill
recover`); it is at least one calendar year old; it is older than the inventory's
`retention_days` (longer retention is honoured); and it is older than `--older-than`.
An `--older-than` under one year is refused. Every deletion is first written to the hash-chained
`reports/prune.log` (orchestrator.journal format), then carried out.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from orchestrator.archive.runs import ArchivedRun, scan_runs
from orchestrator.errors import InputError, Problem
from orchestrator.journal.chain import Journal, iso_ns

MIN_RETENTION_DAYS = 365
PRUNE_LOG = "prune.log"


@dataclass(frozen=True)
class PruneDecision:
    run: ArchivedRun
    delete: bool
    reason: str


@dataclass(frozen=True)
class PruneResult:
    cutoff: datetime                # runs started before this may go
    decisions: tuple[PruneDecision, ...]
    dry_run: bool

    @property
    def deleted(self) -> list[PruneDecision]:
        return [d for d in self.decisions if d.delete]


def one_year_before(now: datetime) -> datetime:
    try:
        return now.replace(year=now.year - 1)
    except ValueError:  # 29 February
        return now.replace(year=now.year - 1, day=28)


def cutoff(older_than: timedelta, retention_days: int, now: datetime) -> datetime:
    """The latest start time a prunable run may have.

    An `older_than` under one year is refused; a longer inventory retention moves the
    cutoff further back (honoured silently: the result names the cutoff used).
    """
    if older_than < timedelta(days=MIN_RETENTION_DAYS):
        raise InputError(Problem("", None, "--older-than",
                                 f"expected at least {MIN_RETENTION_DAYS} days (drill keeps its runs at "
                                 f"least one year); got {_days(older_than)}"))
    return min(now - older_than, now - timedelta(days=max(retention_days, MIN_RETENTION_DAYS)),
               one_year_before(now))


def _days(td: timedelta) -> str:
    return f"{td.total_seconds() / 86400:g} days"


def plan(reports: Path, older_than: timedelta, retention_days: int, *,
         now: datetime) -> tuple[datetime, list[PruneDecision]]:
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    limit = cutoff(older_than, retention_days, now)
    limit_ns = int(limit.timestamp()) * 1_000_000_000
    decisions = []
    for run in scan_runs(reports):
        if run.started_ns is None:
            decisions.append(PruneDecision(run, False, run.problem or "no run.start: age unknown, kept"))
        elif not run.finished:
            decisions.append(PruneDecision(run, False, "unfinished (no run.end): kept for drill recover"))
        elif run.started_ns >= limit_ns:
            decisions.append(PruneDecision(run, False, "within retention"))
        else:
            decisions.append(PruneDecision(run, True, f"started {iso_ns(run.started_ns)}, "
                                                       f"before {limit.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"))
    return limit, decisions


def prune(reports: Path, older_than: timedelta, retention_days: int, *, now: datetime,
          dry_run: bool = False) -> PruneResult:
    """Delete what `plan` allows; `now` is injectable for tests only (the CLI passes the clock)."""
    limit, decisions = plan(reports, older_than, retention_days, now=now)
    result = PruneResult(limit, tuple(decisions), dry_run)
    if dry_run or not result.deleted:
        return result
    root = reports.resolve()
    log = Journal(reports / PRUNE_LOG, run_id="prune")
    try:
        for d in result.deleted:
            folder = d.run.path
            if folder.is_symlink() or root not in folder.resolve().parents:
                raise InputError(Problem(str(folder), None, "", "run folder outside the archive; not deleted"))
            log.append("prune.delete", {
                "run": d.run.run_id, "path": str(folder.relative_to(reports)),
                "drill": d.run.drill, "environment": d.run.environment,
                "started": iso_ns(d.run.started_ns or 0), "status": d.run.status,
                "older_than_days": older_than.total_seconds() / 86400,
                "retention_days": retention_days, "cutoff": limit.astimezone(UTC).isoformat(),
                "by": getpass.getuser(), "host": socket.gethostname(), "pid": os.getpid(),
            })
            shutil.rmtree(folder)
            _remove_if_empty(folder.parent)
    finally:
        log.close()
    return result


def _remove_if_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):
        folder.rmdir()
