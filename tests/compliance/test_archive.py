"""The archive scan: runs by year from their journals' first and last records."""

from __future__ import annotations

import os

from compliance_helpers import drill_home, utc, write_run  # noqa: F401 - drill_home: autouse fixture

from orchestrator.archive.runs import read_run, scan_runs, years


def test_scan_reads_start_and_outcome_from_the_journal(tmp_path, monkeypatch):
    reports = tmp_path / "reports"
    a = write_run(reports, "single-line", utc(2025, 3, 1), "passed", monkeypatch=monkeypatch,
                  records=[("step.end", {"status": "ok", "blob": "x" * 200_000})])
    b = write_run(reports, "carrier-outage", utc(2026, 5, 1), "aborted", monkeypatch=monkeypatch)
    c = write_run(reports, "carrier-outage", utc(2026, 6, 1), None, monkeypatch=monkeypatch)
    (reports / "2026" / "summary-2026-zh.md").write_text("not a run")   # files are ignored
    (reports / "index.jsonl").write_text("")
    assert years(reports) == [2025, 2026]
    runs = scan_runs(reports)
    assert [r.run_id for r in runs] == [a.name, b.name, c.name]
    assert [r.status for r in runs] == ["passed", "aborted", None]
    assert runs[0].drill == "single-line" and runs[0].environment == "lab" and runs[0].passed
    assert runs[0].started_ns == int(utc(2025, 3, 1).timestamp()) * 10**9 + 1_000_000
    assert not runs[2].finished
    assert [r.run_id for r in scan_runs(reports, year=2026)] == [b.name, c.name]
    assert scan_runs(reports, environment="prod") == []


def test_torn_last_line_means_unfinished(tmp_path, monkeypatch):
    reports = tmp_path / "reports"
    folder = write_run(reports, "single-line", utc(2026, 1, 2), "passed", monkeypatch=monkeypatch)
    journal = folder / "journal.jsonl"
    data = journal.read_bytes()
    journal.write_bytes(data[:-40])          # power loss in the middle of run.end
    run = read_run(folder, 2026)
    assert run.status is None and run.started_ns is not None


def test_file_times_do_not_matter(tmp_path, monkeypatch):
    reports = tmp_path / "reports"
    folder = write_run(reports, "single-line", utc(2026, 1, 2), "passed", monkeypatch=monkeypatch)
    os.utime(folder / "journal.jsonl", (0, 0))
    assert scan_runs(reports)[0].started_ns // 10**9 == int(utc(2026, 1, 2).timestamp())


def test_journal_without_run_start_is_reported_not_raised(tmp_path):
    folder = tmp_path / "reports" / "2026" / "20260101T000000Z-x-000000"
    folder.mkdir(parents=True)
    (folder / "journal.jsonl").write_text('{"kind": "step.end"}\n')
    [run] = scan_runs(tmp_path / "reports")
    assert run.started_ns is None and "run.start" in run.problem
