"""report.json, written just before run.end, agrees with it: finished, exit code, worst RTO.

The journals are the single-line fixture run (tests/fixtures/runs) replayed through
journal.chain.Journal up to the moment the engine writes the reports, then closed the
way the engine closes a run (run.end with model.results.worst_rto).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from orchestrator.archive import history
from orchestrator.journal.chain import Journal, read_records
from orchestrator.journal.reader import read_journal, typed
from orchestrator.journal.records import Abort, Measure, Recover, RunEnd
from orchestrator.model.results import worst_rto
from orchestrator.model.run import EXIT_CODES
from orchestrator.reports import write_run_reports

FIXTURE = Path(__file__).parents[1] / "fixtures" / "runs" / "2026" / "20261205T081237Z-single-line-ad213b"
OFF_PATH = "W000001T"  # a trading gateway the single-line fault does not touch


def _replay(reports: Path, *, off_path_cut_s: float | None = None, abort: bool = False) -> Path:
    """The fixture's records before its reports, into a new run folder (same run id)."""
    run_dir = reports / "2026" / FIXTURE.name
    journal = Journal(run_dir / "journal.jsonl", FIXTURE.name)
    for rec in read_records(FIXTURE / "journal.jsonl"):
        if rec.kind in ("report.file", "run.end"):
            break
        record = typed(rec)
        if isinstance(record, Measure) and record.gateway == OFF_PATH and off_path_cut_s is not None:
            assert not record.affected and record.phase == "failover"
            record = replace(record, interrupted=True, interruption_s=off_path_cut_s, passed=False)
        journal.append(rec.kind, record.to_record(), sync=False)
    if abort:
        journal.append(Abort.kind, Abort("operator abort", "fault", "fault[0]").to_record())
    journal.close()
    return run_dir


def _close(run_dir: Path) -> tuple[dict, RunEnd]:
    """What the engine does: write the reports, then run.end with its own status."""
    write_run_reports(run_dir)
    report = json.loads((run_dir / "report.json").read_text())
    run = read_journal(run_dir / "journal.jsonl")
    status = report["status"]
    end = RunEnd(status, EXIT_CODES[status], "", {}, worst_rto(run.of(Measure)))
    journal = Journal(run_dir / "journal.jsonl", run_dir.name)
    journal.append(end.kind, end.to_record())
    journal.close()
    return report, end


@pytest.mark.parametrize(("abort", "status", "exit_code"), [(False, "passed", 0), (True, "aborted", 3)])
def test_report_of_a_closing_run_says_finished_with_its_exit_code(tmp_path, abort, status, exit_code):
    report, _ = _close(_replay(tmp_path / "reports", abort=abort))
    assert (report["status"], report["finished"], report["exit_code"]) == (status, True, exit_code)


def test_failed_run_reports_exit_code_1(tmp_path):
    report, _ = _close(_replay(tmp_path / "reports", off_path_cut_s=5.0))
    assert (report["status"], report["finished"], report["exit_code"]) == ("failed", True, 1)


def test_off_path_interruption_leaves_the_worst_rto_as_run_end_has_it(tmp_path, monkeypatch):
    monkeypatch.setenv("DRILL_HOME", str(tmp_path / "home"))
    run_dir = _replay(tmp_path / "reports", off_path_cut_s=5.0)
    report, end = _close(run_dir)
    # The off-path gateway's 5 s is its own objective, not trading's RTO.
    assert end.rto_s["trading"] < 5.0
    assert report["rto_by_service"] == end.rto_s
    (row,) = history.scan(tmp_path / "reports")
    assert row.rto_s == end.rto_s
    # An unfinished run's history recomputes it from the measures: the same figure.
    (run_dir / "journal.jsonl").write_bytes(
        b"".join(line for line in (run_dir / "journal.jsonl").read_bytes().splitlines(keepends=True)
                 if b'"kind":"run.end"' not in line))
    (row,) = history.scan(tmp_path / "reports")
    assert row.status == "unfinished" and row.rto_s == end.rto_s


def test_report_of_a_run_closed_by_recover_says_aborted(tmp_path):
    """`drill recover` writes the reports after its `recover` record and before run.end
    (aborted, 3): the report must not call the dead run passed."""
    run_dir = _replay(tmp_path / "reports")
    journal = Journal(run_dir / "journal.jsonl", run_dir.name)
    journal.append(Recover.kind, Recover("ops", None, ("killed process group 42",)).to_record())
    journal.close()
    report, _ = _close(run_dir)
    assert (report["status"], report["finished"], report["exit_code"]) == ("aborted", True, 3)
