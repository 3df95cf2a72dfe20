"""The archive scan: every run under a reports folder, from its journal's ends.

A run folder sits at `reports/<YYYY>/<run-id>/journal.jsonl` (docs/run-folder.md). A
run's start, drill and environment come from its first record (`run.start`); its outcome
from its last (`run.end`; none means unfinished). Only those two lines are read, so
scanning 10,000 runs stays cheap (`orchestrator.journal.reader.read_ends`); `read_journal`
reads one journal in full when detail is needed.
Never file times for a run's times. With `cache_dir`, finished runs are kept in
`<cache_dir>/archive-<hash>.json` keyed by their journal's size and mtime, so a scan
only stats them; unfinished or unreadable runs are always read again, and the journal
stays the source (a corrupt or unwritable cache only costs time).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from orchestrator.journal.reader import JOURNAL, read_ends
from orchestrator.journal.records import RunEnd, RunStart

CACHE_VERSION = 4

# The environment kind whose runs are evidence for filing (docs/compliance.md): a run counts
# for `drill due`, `history`, `summary` and `coverage` by default only when its run.start
# says `inventory.kind: production` and it is not a rehearsal. Lab and test-bed runs
# (kind `lab`, `test`), rehearsals and journals that name no kind are shown only when asked
# (`--include-test`) and then labelled (i18n `env_test_note`).
EVIDENCE_KIND = "production"


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
    timezone: str | None = None       # run.start inventory.timezone
    started_ns: int | None = None     # run.start ts_ns; None when the journal has no run.start
    ended_ns: int | None = None
    status: str | None = None         # passed | failed | inconclusive | aborted | refused | None
    exit_code: int | None = None
    summary: Any = None               # run.end data.summary as written by the engine
    rto_s: Any = None                 # run.end data.rto_s: worst failover interruption per service
    problem: str | None = None        # why the journal could not be read, if so
    operator: str | None = None       # run.start operator
    params: Any = None                # run.start params: the drill's resolved parameters
    rehearsal: bool = False           # run.start rehearsal: `drill run --rehearsal`

    @property
    def evidence(self) -> bool:
        """Evidence for filing: a production run that is not a rehearsal (EVIDENCE_KIND)."""
        return self.environment_kind == EVIDENCE_KIND and not self.rehearsal

    @property
    def finished(self) -> bool:
        return self.status is not None

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def measured_pass(self) -> bool:
        """A pass that measured a failover: passed, and (when run.end says) at least one
        gateway was on the failed path. A run that put no gateway there exercised nothing
        (today inconclusive; an older journal may say passed with an empty `rto_s`)."""
        return self.passed and (self.rto_s is None or bool(self.rto_s))


# A cache row is [size, mtime_ns, run_id, year, drill, …]: every field but `path` (the
# row's key), in field order; rows instead of mappings parse in half the time.
_PATH_AT = [f.name for f in fields(ArchivedRun)].index("path")
_ROW_FIELDS = [f.name for f in fields(ArchivedRun) if f.name != "path"]
_YEAR_AT = 2 + _ROW_FIELDS.index("year")


def scan_runs(reports: Path, *, year: int | None = None, environment: str | None = None,
              cache_dir: Path | None = None) -> list[ArchivedRun]:
    """Every run in the archive (or one year of it), sorted by run id (= start time).

    `cache_dir` (e.g. `$DRILL_HOME/cache`) keeps finished runs between calls.
    """
    found = _iter_runs(reports, year) if cache_dir is None else \
        _cached_runs(reports, year, Path(cache_dir))
    runs = [r for r in found if environment is None or r.environment == environment]
    return sorted(runs, key=lambda r: r.run_id)


def counted(runs: Iterable[ArchivedRun], include_test: bool = False) -> list[ArchivedRun]:
    """The runs `due`, `history`, `summary` and `coverage` count: evidence only (production,
    not a rehearsal), or every run with `include_test` (the callers label the others)."""
    return [r for r in runs if include_test or r.evidence]


def years(reports: Path) -> list[int]:
    if not reports.is_dir():
        return []
    return sorted(int(e.name) for e in os.scandir(reports) if e.is_dir() and _is_year(e.name))


def _is_year(name: str) -> bool:
    return len(name) == 4 and name.isdigit()


def _run_folders(reports: Path, year: int | None) -> Iterator[tuple[str, str, int]]:
    """(folder, name, year) of every candidate run folder: reports/<YYYY>/<run-id>."""
    for y in ([year] if year is not None else years(reports)):
        ydir = os.path.join(reports, f"{y:04d}")
        if not os.path.isdir(ydir):
            continue
        with os.scandir(ydir) as it:
            for entry in it:
                if entry.is_dir(follow_symlinks=False):
                    yield entry.path, entry.name, y


def _iter_runs(reports: Path, year: int | None) -> Iterator[ArchivedRun]:
    for folder, name, y in _run_folders(reports, year):
        run = _read(folder, name, y)
        if run is not None:
            yield run


def _cached_runs(reports: Path, year: int | None, cache_dir: Path) -> list[ArchivedRun]:
    key = hashlib.sha256(str(Path(reports).resolve()).encode()).hexdigest()[:16]
    cache_file = cache_dir / f"archive-{key}.json"
    cached: dict = {}
    try:
        blob = json.loads(cache_file.read_text(encoding="utf-8"))
        if isinstance(blob, dict) and blob.get("version") == CACHE_VERSION \
                and blob.get("fields") == _ROW_FIELDS and isinstance(blob.get("runs"), dict):
            cached = blob["runs"]
    except (OSError, ValueError):
        pass  # none yet, unreadable or corrupt: read every journal and rewrite it
    # A one-year scan keeps the other years' entries as they are.
    fresh = {} if year is None else \
        {k: v for k, v in cached.items() if not _in_year(v, year)}
    changed = False
    out: list[ArchivedRun] = []
    for folder, name, y in _run_folders(reports, year):
        try:
            st = os.stat(os.path.join(folder, JOURNAL))
        except OSError:
            st = None
        entry = cached.get(folder)
        run = _from_cache(entry, st, folder, y)
        if run is not None:
            fresh[folder] = entry
        else:
            run = _read(folder, name, y)
            if run is None:
                continue
            # Only a finished, readable run is settled; anything else may still change.
            if run.finished and run.problem is None and st is not None:
                fresh[folder] = [st.st_size, st.st_mtime_ns, *_row(run)]
                changed = True
        out.append(run)
    # Without new entries `fresh` is a subset of `cached`: equal if as long.
    if changed or len(fresh) != len(cached):
        tmp = cache_file.with_name(f".{cache_file.name}.{os.getpid()}.tmp")
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps({"version": CACHE_VERSION, "fields": _ROW_FIELDS,
                                       "runs": fresh}), encoding="utf-8")
            os.replace(tmp, cache_file)  # readers see the old cache or the new, never half
        except OSError:
            with contextlib.suppress(OSError):  # a read-only home only means slower scans
                tmp.unlink(missing_ok=True)
    return out


def _in_year(entry: object, year: int) -> bool:
    try:
        return entry[_YEAR_AT] == year  # type: ignore[index]
    except (TypeError, KeyError, IndexError):
        return True  # malformed: drop it


def _row(run: ArchivedRun) -> list:
    # Not astuple: it deep-copies every value, and the row is only ever serialised.
    return [getattr(run, name) for name in _ROW_FIELDS]


def _from_cache(entry: object, st: os.stat_result | None, folder: str,
                year: int) -> ArchivedRun | None:
    """The cached run if its journal is unchanged (same size and mtime), else None."""
    if st is None or type(entry) is not list or len(entry) != len(_ROW_FIELDS) + 2 \
            or entry[0] != st.st_size or entry[1] != st.st_mtime_ns:
        return None
    values = entry[2:]
    values.insert(_PATH_AT, Path(folder))
    try:
        run = ArchivedRun(*values)
    except TypeError:
        return None
    # A row that cannot be what _read returned for a finished run is read again.
    if run.year != year or type(run.status) is not str or type(run.run_id) is not str \
            or type(run.started_ns) is not int or run.problem is not None:
        return None
    return run


def read_run(folder: Path, year: int) -> ArchivedRun:
    run = _read(str(folder), folder.name, year)
    if run is None:
        return ArchivedRun(run_id=folder.name, path=folder, year=year, drill=None,
                           problem="no journal")
    return run


def _read(folder: str, name: str, year: int) -> ArchivedRun | None:
    """Hot path of the scan: one open, two lines parsed (journal.reader.read_ends)."""
    try:
        start, end = read_ends(Path(folder) / JOURNAL)
    except FileNotFoundError:
        return None  # not a run folder
    except (OSError, ValueError) as e:
        return ArchivedRun(run_id=name, path=Path(folder), year=year, drill=None,
                           problem=f"unreadable journal: {e}")
    if not isinstance(start, dict) or start.get("kind") != RunStart.kind:
        return ArchivedRun(run_id=name, path=Path(folder), year=year, drill=None,
                           problem="journal does not begin with run.start")
    first = RunStart.from_record(start.get("data") or {})
    outcome = RunEnd.from_record(end.get("data") or {}) \
        if isinstance(end, dict) and end.get("kind") == RunEnd.kind else None
    return ArchivedRun(
        run_id=str(start.get("run") or name), path=Path(folder), year=year,
        drill=first.drill_id, title=first.title, cadence=first.drill.get("cadence"),
        environment=first.environment, environment_kind=first.inventory.get("kind"),
        timezone=first.inventory.get("timezone"),
        started_ns=start.get("ts_ns"),
        ended_ns=end.get("ts_ns") if outcome else None,
        status=outcome.status if outcome else None,
        exit_code=outcome.exit_code if outcome else None,
        summary=outcome.summary if outcome else None,
        rto_s=outcome.rto_s if outcome else None,
        operator=first.data.get("operator"),
        params=first.data.get("params") if isinstance(first.data.get("params"), dict) else None,
        rehearsal=first.data.get("rehearsal") is True,
    )


def run_language(run_dir: Path) -> str | None:
    """The language a run printed in (its `plan` record, journal.md), None when it names
    none (a run from before the record): `drill report` renders a run in the language it
    ran in unless told otherwise."""
    from orchestrator.journal.chain import read_records
    from orchestrator.journal.records import RunPlan

    try:
        for i, rec in enumerate(read_records(Path(run_dir) / JOURNAL)):
            if rec.kind == RunPlan.kind:
                lang = rec.data.get("lang") if isinstance(rec.data, dict) else None
                return lang if lang in ("zh", "en") else None
            if i > 8:  # the plan follows run.start, lock (and a standing approval)
                return None
    except (OSError, ValueError, KeyError):
        return None
    return None
