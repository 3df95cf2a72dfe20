"""`drill report` and `drill history` on an archive of runs."""

from __future__ import annotations

import json

from report_runs import write_run

from orchestrator.cli import main


def test_report_by_run_id_from_the_archive(tmp_path, drill_home, capsys):
    archive = tmp_path / "reports"
    run = write_run(archive, "passed")
    out = tmp_path / "out.md"
    code = main(["report", run.run_dir.name, "--reports", str(archive), "--format", "md",
                 "--lang", "zh", "--out", str(out)])
    assert code == 0
    # the Markdown and the activity log it links (issue 17), each a line
    assert capsys.readouterr().out.split() == [str(out), str(tmp_path / "out-activity.csv")]
    assert "演练结论：通过" in out.read_text(encoding="utf-8")


def test_report_by_folder_path(tmp_path, drill_home, capsys):
    run = write_run(tmp_path / "reports", "aborted")
    assert main(["report", str(run.run_dir), "--format", "csv", "--lang", "en",
                 "--out", str(tmp_path / "x.csv")]) == 0
    # one file per table (issue 17): the per-switch table carries the exchange's columns
    assert "Link restored" in (tmp_path / "x-switches.csv").read_text(encoding="utf-8-sig")


def test_report_unknown_run_is_bad_input(tmp_path, drill_home, capsys):
    (tmp_path / "reports").mkdir()
    code = main(["report", "20990101T000000Z-nope-000000", "--reports", str(tmp_path / "reports")])
    assert code == 2
    err = capsys.readouterr().err
    assert "20990101T000000Z-nope-000000" in err and "RUN_ID" in err
    assert "Traceback" not in err


def test_history_lists_runs_with_the_rto_trend(tmp_path, drill_home, capsys):
    archive = tmp_path / "reports"
    runs = [write_run(archive, o) for o in ("passed", "failed", "passed")]
    # Lab runs are no evidence (issue 17): listed only when asked, then labelled.
    assert main(["history", "carrier-outage", "--reports", str(archive)]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == "no runs in the archive"
    assert "3 test-environment or rehearsal run(s) not counted" in captured.err
    assert main(["history", "carrier-outage", "--reports", str(archive), "--include-test"]) == 0
    out = capsys.readouterr().out
    assert "lab [test]" in out and "[test] test environment, not evidence for filing" in out
    for r in runs:
        assert r.run_dir.name in out
    assert "FAILED" in out and "PASSED" in out
    assert "RTO trend" in out
    assert "34.750" in out  # the failed run's worst trading interruption
    assert main(["history", "--reports", str(archive), "--json", "--include-test"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["evidence"] for r in rows} == {False}
    assert [r["status"] for r in rows] == ["passed", "failed", "passed"]
    assert rows[1]["rto_s"]["trading"] == 34.75
