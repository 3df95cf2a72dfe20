"""`drill summary --year`: the yearly filing lists each run with result, RTO vs target, follow-ups."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from compliance_helpers import LAB_INVENTORY, REPO, drill_home, utc, write_run  # noqa: F401 - drill_home: autouse fixture
from support import require_tool

from orchestrator.cli import main


def _measure(service, seconds, target, passed):
    return ("measure", {"gateway": "W000000T", "service": service, "affected": True,
                        "centre_before": "FT", "centre_after": "NF", "interruption_s": seconds,
                        "target_s": target, "passed": passed, "phase": "failover",
                        "link_lost": None, "detected": None, "observed": None, "restored": None})


@pytest.fixture
def project(tmp_path, monkeypatch):
    proj = tmp_path / "proj"
    for sub in ("playbooks", "inventories"):
        (proj / sub).mkdir(parents=True)
    shutil.copytree(REPO / "drills", proj / "drills")
    reports = proj / "reports"
    write_run(reports, "carrier-outage", utc(2026, 3, 14, 2), "passed", monkeypatch=monkeypatch,
              records=[_measure("trading", 4.25, 30.0, True)])
    write_run(reports, "single-line", utc(2026, 8, 8, 2), "failed", monkeypatch=monkeypatch,
              records=[_measure("market_data", 14.0, 10.0, False),
                       ("objective", {"name": "market_data.rto", "target": "10s", "measured": "14s",
                                      "passed": False, "detail": "W00002TF"})])
    # 2026-12-31 20:00Z is 2027-01-01 04:00 in Shanghai: next year's filing.
    write_run(reports, "single-line", utc(2026, 12, 31, 20), "passed", year=2027, monkeypatch=monkeypatch)
    write_run(reports, "single-line", utc(2026, 5, 1), "passed", environment="prod",
              kind="production", monkeypatch=monkeypatch)
    return proj


def summary(capsys, project, *args):
    # The fixture's runs are lab runs: no evidence, listed only with --include-test (issue 17).
    code = main(["summary", "--project", str(project), "--inventory", str(LAB_INVENTORY),
                 "--include-test", *args])
    out = capsys.readouterr()
    assert code == 0, out.err
    return out.out


def test_markdown_in_chinese_lists_runs_rto_and_follow_ups(capsys, project):
    md = summary(capsys, project, "--year", "2026", "--lang", "zh")
    assert md.startswith("# 年度演练情况报告（2026）")
    assert "| 2 | 1 | 1 | 0 | 0 |" in md                      # totals: only this environment's 2026 runs
    assert ("2026-03-14 10:00 | 单运营商故障演练 | 《技术规范》第三章第1条 | 通过（实验环境，不作为报送依据） | "
            "交易 4.2 s / 30 s（达标）") in md
    assert "不得作为报送依据" in md.split("## 一")[0]  # the note under the title
    assert "未通过" in md and "行情 14.0 s / 10 s（未达标）" in md
    assert "market_data.rto" in md                                # the failed objective is a follow-up
    assert "2027" not in md.split("## 二")[1].split("## 三")[0].replace("2026", "")
    coverage = md.split("## 三、按季度完成情况")[1]
    assert "| 单运营商故障演练 | quarterly | 通过 | — | — | — |" in coverage
    assert "| 单线路故障演练 | quarterly | — | — | 未通过 | — |" in coverage
    assert "演练负责人" in md and "合规负责人" in md


def test_english_html(capsys, project):
    html = summary(capsys, project, "--year", "2026", "--lang", "en", "--format", "html")
    assert "<title>Yearly drill summary 2026 — lab</title>" in html
    assert "Single-carrier outage" in html and "trading 4.2 s / 30 s（met）" in html


def test_new_year_run_belongs_to_the_local_year(capsys, project):
    md = summary(capsys, project, "--year", "2027", "--lang", "en")
    assert "2027-01-01 04:00" in md and "| 1 | 1 | 0 | 0 | 0 |" in md


def test_pdf_holds_the_chinese_summary(capsys, project, tmp_path):
    pdftotext = require_tool("pdftotext")
    out = tmp_path / "summary.pdf"
    assert summary(capsys, project, "--year", "2026", "--format", "pdf", "--out", str(out)).strip() == str(out)
    assert out.read_bytes().startswith(b"%PDF")
    text = subprocess.run([pdftotext, str(out), "-"], capture_output=True, text=True, check=True,
                          timeout=120).stdout
    assert "年度演练情况报告" in text and "单运营商故障演练" in text


def test_a_pass_that_measured_no_gateway_does_not_cover_its_quarter(capsys, project, monkeypatch):
    """As `drill due` (issue 13): an older journal's "passed" with an empty `rto_s` put no
    gateway on the failed path; it is listed, yet its quarter is not covered."""
    from orchestrator.compliance.cadence import DrillCadence
    from orchestrator.compliance.summary import build

    reports = project / "reports"
    write_run(reports, "centre-outage", utc(2026, 11, 2, 2), None, monkeypatch=monkeypatch,
              records=[("run.end", {"status": "passed", "exit_code": 0, "summary": "",
                                    "artifacts": {}, "rto_s": {}})])
    centre = DrillCadence("centre-outage", "主中心整体故障演练", "Centre outage", "quarterly")
    carrier = DrillCadence("carrier-outage", "运营商故障演练", "Carrier outage", "quarterly")
    year = build(reports, 2026, environment="lab", timezone="Asia/Shanghai", lang="en",
                 drills=[centre, carrier], now=utc(2026, 12, 5), include_test=True)
    cov = {c.drill: c.quarters for c in year.coverage}
    assert any(r.drill == "centre-outage" and r.status == "passed" for r in year.rows)
    assert cov["centre-outage"] == ("none", "none", "none", "failed")
    assert cov["carrier-outage"] == ("passed", "none", "none", "none")
