"""`drill history` reads only each journal's first and last records, with a cache."""

from __future__ import annotations

from report_runs import write_run

from orchestrator.archive import history
from orchestrator.archive import runs as archive_scan
from orchestrator.journal.chain import Journal


def test_summary_comes_from_first_and_last_records_only(tmp_path, drill_home):
    run = write_run(tmp_path / "reports", "failed")
    journal = run.run_dir / "journal.jsonl"
    lines = journal.read_bytes().splitlines(keepends=True)
    # Spoil every middle record: a reader of the whole file would fail.
    journal.write_bytes(lines[0] + b"garbage\n" * (len(lines) - 2) + lines[-1])
    s = history.summarise(journal)
    assert (s.drill, s.status, s.exit_code, s.environment) == ("carrier-outage", "failed", 1, "lab")
    assert s.rto_s["trading"] == 34.75


def test_torn_last_line_counts_as_unfinished(tmp_path, drill_home):
    run = write_run(tmp_path / "reports", "passed", finish=False)
    journal = run.run_dir / "journal.jsonl"
    with open(journal, "ab") as fh:
        fh.write(b'{"seq": 99, "kind": "run.e')  # crash mid-write
    s = history.summarise(journal)
    assert s.status == "unfinished" and s.ended_ns is None
    assert s.rto_s["trading"] == 3.25  # read from the measure records instead


def test_cache_answers_without_reading_journals_and_sees_new_records(tmp_path, drill_home, monkeypatch):
    archive = tmp_path / "reports"
    write_run(archive, "passed")
    open_run = write_run(archive, "failed", finish=False)
    first = history.scan(archive, cache_dir=drill_home)
    assert [r.status for r in first] == ["passed", "unfinished"]

    calls = []
    real = archive_scan._read  # the archive scan's one journal reader
    monkeypatch.setattr(archive_scan, "_read", lambda folder, *a: calls.append(folder) or real(folder, *a))
    again = history.scan(archive, cache_dir=drill_home)
    assert again == first
    # The finished run came from the cache; the unfinished one is always re-read.
    assert calls == [str(open_run.run_dir)]

    j = Journal(open_run.run_dir / "journal.jsonl", open_run.run_dir.name)
    j.append("run.end", {"status": "failed", "exit_code": 1, "summary": {"rto_s": {"trading": 34.75}},
                         "artifacts": {}})
    j.close()
    calls.clear()
    latest = history.scan(archive, cache_dir=drill_home)
    assert [r.status for r in latest] == ["passed", "failed"]
    assert calls == [str(open_run.run_dir)]


def test_trend_sparkline_orders_oldest_first():
    assert history.trend([1.0, 3.0, None, 2.0]) == "▁█·▄"
