"""Issue 17 on a real lab run: lab runs are no evidence for filing.

One real `drill run carrier-outage --rehearsal` on a test lab (real lab processes, real
Ansible; ~15 s; the session's, tests/lab_run_fixture.py) is shared by every test here, each
module with its own copy of the archive. Its archive holds lab runs only: `drill due`
reports every drill not done for production, `drill summary` files none of it unless
asked and then labels it, and `drill coverage` reads what the run exercised from its
journal (carrier CT's lines and the gateways measured on the failed path, CU a gap).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from lab_run_fixture import drill_home

from orchestrator.archive.exercised import exercised
from orchestrator.archive.runs import scan_runs
from orchestrator.cli import main
from orchestrator.journal.reader import read_journal
from orchestrator.journal.records import RunPlan, RunStart

REPO = Path(__file__).resolve().parents[2]
NOTE_ZH = "实验环境，不作为报送依据"
NOTE_EN = "test environment, not evidence for filing"


@pytest.fixture(scope="module")
def lab_archive(shared_lab_run, tmp_path_factory):
    """This module's copy of the session's lab run: an archive with that one run in it."""
    tmp = tmp_path_factory.mktemp("evidence-lab")
    run = shared_lab_run.copy(tmp)
    assert run.code == 0
    (journal,) = run.reports.glob("*/*/journal.jsonl")
    with drill_home(tmp / "home"):
        yield run.inventory, run.reports, journal.parent


def _cli(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_run_journals_its_environment_kind_and_the_rehearsal(lab_archive):
    _inv, reports, run_dir = lab_archive
    start = read_journal(run_dir / "journal.jsonl").of(RunStart)[0]
    assert start.inventory["kind"] == "lab" and start.data["rehearsal"] is True
    (run,) = scan_runs(reports)
    assert (run.environment_kind, run.rehearsal, run.evidence) == ("lab", True, False)


def test_due_on_lab_runs_only_reports_every_drill_not_done(lab_archive, capsys):
    inv, reports, run_dir = lab_archive
    base = ["--project", str(REPO), "--inventory", str(inv), "--reports", str(reports)]
    code, out, err = _cli(capsys, "due", "--json", *base)
    assert code == 1 and "1 test-environment or rehearsal run(s) not counted" in err
    rows = json.loads(out)
    assert {r["drill"] for r in rows} == {p.stem for p in (REPO / "drills").glob("*.yaml")}
    assert all(r["status"] == "overdue" and r["last_pass"] is None for r in rows)
    car = next(r for r in rows if r["drill"] == "carrier-outage")
    assert {(t["value"], t["status"]) for t in car["targets"]} == {("CT", "due"), ("CU", "due")}
    # Asked: the lab run counts, labelled.
    code, out, _err = _cli(capsys, "due", *base, "--include-test")
    assert f"{run_dir.name} [{NOTE_EN}]" in out
    assert f"DONE carrier-outage carrier=CT by {run_dir.name} [{NOTE_EN}]" in out
    assert "DUE carrier-outage carrier=CU" in out


def test_summary_files_no_lab_run_unless_asked_and_then_labels_it(lab_archive, capsys):
    inv, reports, run_dir = lab_archive
    year = str(datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).year)
    base = ["summary", "--year", year, "--project", str(REPO), "--inventory", str(inv),
            "--reports", str(reports), "--lang", "zh"]
    code, md, err = _cli(capsys, *base)
    assert code == 0 and run_dir.name not in md and "| 0 | 0 | 0 | 0 | 0 |" in md
    assert "1 次实验环境或预演记录未计入" in err
    code, md, _err = _cli(capsys, *base, "--include-test")
    assert code == 0
    row = next(line for line in md.splitlines() if run_dir.name in line)
    assert f"通过（{NOTE_ZH}）" in row


def test_coverage_reads_what_the_run_exercised_from_its_journal(lab_archive, capsys):
    inv, reports, run_dir = lab_archive
    journal = read_journal(run_dir / "journal.jsonl")
    on_path = set(journal.of(RunPlan)[0].on_failed_path)
    (run,) = scan_runs(reports)
    ex = exercised(run)
    assert ex.of("line") == {"ct-ft": "passed", "ct-nf": "passed"}
    assert ex.of("carrier") == {"CT": "passed"} and ex.of("centre") == {}
    assert set(ex.of("gateway")) == on_path and set(ex.of("gateway").values()) == {"passed"}
    now = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai"))
    q = (now.month - 1) // 3
    args = ["coverage", "--year", str(now.year), "--inventory", str(inv), "--reports", str(reports),
            "--project", str(REPO), "--json"]
    code, out, _err = _cli(capsys, *args)
    data = json.loads(out)
    assert code == 0 and data["runs"] == 0 and data["hidden_test"] == 1
    code, out, _err = _cli(capsys, *args, "--include-test")
    cells = {(t["type"], t["id"]): t["quarters"][q] for t in json.loads(out)["targets"]}
    assert cells[("carrier", "CT")]["drills"] == [{"drill": "carrier-outage", "result": "passed",
                                                   "run": run_dir.name, "test": True}]
    assert cells[("carrier", "CU")]["gap"] and cells[("carrier", "CU")]["drills"] == []


def test_the_report_of_a_rehearsal_says_it_is_a_rehearsal_not_evidence(lab_archive):
    """The banner names why the run is no evidence: here the rehearsal (a lab run too)."""
    from orchestrator.reports import load_run, render

    _inv, _reports, run_dir = lab_archive
    run = load_run(run_dir)
    assert run.rehearsal and run.not_evidence == "not_evidence_rehearsal"
    assert "预演，不作为报送依据" in render(run, "html", "zh").decode()
    assert "Rehearsal: not evidence for filing" in render(run, "md", "en").decode()
