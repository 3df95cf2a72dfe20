"""`drill due`: verdicts follow from archived runs at chosen dates and an explicit now."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime

import pytest
from compliance_helpers import LAB_INVENTORY, REPO, drill_home, utc, write_run  # noqa: F401 - drill_home: autouse fixture

from orchestrator.archive.runs import scan_runs
from orchestrator.cli import main
from orchestrator.compliance.cadence import DrillCadence, due, period_of

TZ = "Asia/Shanghai"
QUARTERLY = DrillCadence("carrier-outage", "单运营商故障演练", "Single-carrier outage", "quarterly")
MONTHLY = DrillCadence("single-line", "单线路故障演练", "Single-line outage", "monthly")


def verdict(reports, now, drills=(QUARTERLY,)):
    return {d.drill.id: d for d in due(list(drills), scan_runs(reports), timezone=TZ, now=now)}


def test_pass_this_quarter_is_done_until_end_of_next(tmp_path, monkeypatch):
    reports = tmp_path / "reports"
    write_run(reports, "carrier-outage", utc(2026, 8, 15, 2), "passed", monkeypatch=monkeypatch)
    v = verdict(reports, utc(2026, 9, 1))["carrier-outage"]
    assert v.status == "done" and not v.overdue
    assert (v.due_by.year, v.due_by.month, v.due_by.day) == (2027, 1, 1)


def test_pass_last_quarter_is_due_by_end_of_this_one(tmp_path, monkeypatch):
    reports = tmp_path / "reports"
    write_run(reports, "carrier-outage", utc(2026, 8, 15, 2), "passed", monkeypatch=monkeypatch)
    v = verdict(reports, utc(2026, 11, 25))["carrier-outage"]
    assert v.status == "due" and not v.overdue
    assert (v.due_by.year, v.due_by.month, v.due_by.day) == (2027, 1, 1)


def test_a_whole_quarter_without_a_pass_is_overdue(tmp_path, monkeypatch):
    reports = tmp_path / "reports"
    write_run(reports, "carrier-outage", utc(2026, 5, 15, 2), "passed", monkeypatch=monkeypatch)
    write_run(reports, "carrier-outage", utc(2026, 8, 15, 2), "failed", monkeypatch=monkeypatch)
    write_run(reports, "carrier-outage", utc(2026, 9, 1, 2), None, monkeypatch=monkeypatch)  # unfinished
    v = verdict(reports, utc(2026, 11, 25))["carrier-outage"]
    assert v.status == "overdue"
    assert v.last_pass is not None and v.last_pass.run_id.startswith("20260515")


def test_never_passed_is_overdue(tmp_path):
    v = verdict(tmp_path / "reports", utc(2026, 11, 25))["carrier-outage"]
    assert v.status == "overdue" and v.last_pass is None


def test_quarter_follows_the_inventory_time_zone(tmp_path, monkeypatch):
    # 2026-09-30 17:00Z is 2026-10-01 01:00 in Shanghai: a Q4 run, not Q3.
    reports = tmp_path / "reports"
    write_run(reports, "carrier-outage", utc(2026, 9, 30, 17), "passed", monkeypatch=monkeypatch)
    assert verdict(reports, utc(2026, 10, 2))["carrier-outage"].status == "done"
    assert verdict(reports, utc(2026, 9, 30, 15, 59))["carrier-outage"].status == "overdue"  # run in future


def test_monthly_cadence(tmp_path, monkeypatch):
    reports = tmp_path / "reports"
    write_run(reports, "single-line", utc(2026, 10, 3, 2), "passed", monkeypatch=monkeypatch)
    by = verdict(reports, utc(2026, 11, 25), drills=(MONTHLY,))
    assert by["single-line"].status == "due"
    by = verdict(reports, utc(2026, 12, 5), drills=(MONTHLY,))
    assert by["single-line"].status == "overdue"


def test_other_environments_do_not_count(tmp_path, monkeypatch):
    reports = tmp_path / "reports"
    write_run(reports, "carrier-outage", utc(2026, 11, 1), "passed", environment="prod-sz",
              kind="production", monkeypatch=monkeypatch)
    runs = scan_runs(reports, environment="lab")
    assert due([QUARTERLY], runs, timezone=TZ, now=utc(2026, 11, 25))[0].status == "overdue"


@pytest.mark.parametrize(("cadence", "start", "end"), [
    ("monthly", (2026, 11, 1), (2026, 12, 1)),
    ("quarterly", (2026, 10, 1), (2027, 1, 1)),
    ("half-yearly", (2026, 7, 1), (2027, 1, 1)),
    ("yearly", (2026, 1, 1), (2027, 1, 1)),
])
def test_periods_are_calendar_periods(cadence, start, end):
    s, e = period_of(cadence, datetime(2026, 11, 25, 12, tzinfo=UTC))
    assert (s.year, s.month, s.day) == start and (e.year, e.month, e.day) == end


def test_cli_exits_1_when_overdue_and_lists_every_drill(tmp_path, capsys, monkeypatch):
    project = tmp_path / "proj"
    for sub in ("drills", "playbooks", "inventories"):
        (project / sub).mkdir(parents=True)
    shutil.copy(REPO / "drills" / "carrier-outage.yaml", project / "drills")
    # A pass "now" (the real clock: the CLI has no way to move it) makes the drill done.
    write_run(project / "reports", "carrier-outage", datetime.now(UTC), "passed",
              monkeypatch=monkeypatch)
    # A lab run is no evidence (issue 17): overdue unless --include-test, then labelled.
    args = ["due", "--project", str(project), "--inventory", str(LAB_INVENTORY), "--json"]
    assert main(args) == 1
    rows = json.loads(capsys.readouterr().out)
    assert [(r["drill"], r["status"]) for r in rows] == [("carrier-outage", "overdue")]
    args.append("--include-test")
    assert main(args) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["drill"] for r in rows] == ["carrier-outage"] and rows[0]["status"] == "done"
    assert rows[0]["last_pass_evidence"] is False
    text = (REPO / "drills" / "single-line.yaml").read_text(encoding="utf-8")
    (project / "drills" / "single-line.yaml").write_text(
        text.replace("cadence: quarterly", "cadence: monthly"), encoding="utf-8")
    assert main(args) == 1
    rows = {r["drill"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["single-line"]["overdue"] is True
    # --pending: the scheduled unit's condition; carrier-outage already passed this period.
    # (a lab inventory's scheduled units count the lab's own runs: docs/compliance.md)
    assert main(["due", "carrier-outage", "--pending", *args[1:5]]) == 1
    assert main(["due", "single-line", "--pending", *args[1:5]]) == 0
