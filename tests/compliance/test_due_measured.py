"""Issue 13: `drill due` counts only measured passes: an inconclusive run, or an older
run that said passed with no gateway on the failed path (empty `rto_s`), is never the
period's drill, lab runs included."""

from __future__ import annotations

from compliance_helpers import drill_home, utc, write_run  # noqa: F401 - drill_home: autouse fixture

from orchestrator.archive.runs import scan_runs
from orchestrator.compliance.cadence import DrillCadence, due

TZ = "Asia/Shanghai"
CENTRE = DrillCadence("centre-outage", "主中心整体故障演练", "Centre outage", "quarterly")


def _status(reports, now) -> tuple[str, str | None]:
    (v,) = due([CENTRE], scan_runs(reports), timezone=TZ, now=now)
    return v.status, v.last_pass.run_id if v.last_pass else None


def _end(status: str, code: int, rto: dict) -> tuple[str, dict]:
    return ("run.end", {"status": status, "exit_code": code, "summary": "", "artifacts": {},
                        "rto_s": rto})


def test_an_inconclusive_run_is_not_the_quarters_drill(tmp_path, monkeypatch):
    reports = tmp_path / "reports"
    write_run(reports, "centre-outage", utc(2026, 11, 2, 2), None, monkeypatch=monkeypatch,
              records=[_end("inconclusive", 5, {})])
    assert _status(reports, utc(2026, 11, 25)) == ("overdue", None)


def test_a_pass_that_measured_no_gateway_is_not_counted_and_a_measured_one_is(tmp_path, monkeypatch):
    reports = tmp_path / "reports"
    # a journal from before issue 13: "passed", yet no gateway was on the failed path
    write_run(reports, "centre-outage", utc(2026, 11, 2, 2), None, monkeypatch=monkeypatch,
              records=[_end("passed", 0, {})])
    assert _status(reports, utc(2026, 11, 25)) == ("overdue", None)
    measured = write_run(reports, "centre-outage", utc(2026, 11, 3, 2), None, monkeypatch=monkeypatch,
                         records=[_end("passed", 0, {"trading": 2.1})])
    assert _status(reports, utc(2026, 11, 25)) == ("done", measured.name)
