"""Markdown, CSV (exchange drill-record shape) and JUnit carry the same facts."""

from __future__ import annotations

import csv
import io
import json
from xml.etree import ElementTree as ET

import pytest
from report_runs import write_run

from orchestrator.errors import InputError
from orchestrator.journal.chain import read_records
from orchestrator.model.i18n import LABELS
from orchestrator.reports import render_report, write_junit


def _table(path):
    text = path.read_text(encoding="utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_csv_has_the_line_table_and_one_row_per_switch(tmp_path, passed_run):
    """One file per table (issue 17): the line table and the per-switch table."""
    out = render_report(passed_run.run_dir, "csv", "zh", tmp_path / "r.csv")
    assert out == tmp_path / "r-switches.csv"
    rows = _table(tmp_path / "r-lines.csv")
    header = rows[0]
    assert header[:4] == ["接入中心", "主用/备用", "线路编号", "运营商"]
    lines = rows[1:]
    assert [r[2] for r in lines] == ["ct-ft", "cu-nf", "ct-nf", "sat-1"]
    assert lines[0][:4] == ["福田中心", "主用", "ct-ft", "中国电信"]
    assert lines[2][1] == "备用"
    assert lines[0][6:8] == ["127.1.1.1", "127.1.1.2"]
    rows = _table(out)
    col = {name: i for i, name in enumerate(rows[0])}
    assert {"链路中断时间", "链路恢复时间", "登录恢复时间", "是否在故障路径上"} <= set(col)
    switches = [r for r in rows[1:] if r[col["是否在故障路径上"]] == "是"]
    affected = [m for m in passed_run.measures if m["affected"]]
    assert [r[0] for r in switches] == [m["gateway"] for m in affected]
    for row, m in zip(switches, affected, strict=True):
        assert float(row[col["中断时长 (秒)"]]) == pytest.approx(m["interruption_s"], abs=5e-4)
        assert all(row[col[c]] for c in ("链路中断时间", "链路恢复时间", "登录恢复时间"))


def test_markdown_report_states_result_and_table(tmp_path, drill_home):
    run = write_run(tmp_path / "reports", "failed")
    md = render_report(run.run_dir, "md", "en", tmp_path / "r.md").read_text(encoding="utf-8")
    # issue 13: the verdict line counts each objective state
    assert md.splitlines()[2] == ("**Result: FAILED**: 3 passed, 1 failed, 0 not applicable, "
                                  "0 not tested (Exit code 1)")
    assert "| W000000T | trading | failover |" in md
    assert "34.75 s" in md


def test_junit_marks_the_failed_switch(tmp_path, drill_home):
    run = write_run(tmp_path / "reports", "failed")
    root = ET.parse(write_junit(run.run_dir, tmp_path / "junit.xml")).getroot()
    failed = [c.get("name") for c in root.iter("testcase") if c.find("failure") is not None]
    assert "W000000T trading" in failed
    assert "trading.rto" in failed
    assert int(root.get("failures")) == len(failed)
    assert root.find("testsuite/properties/property[@name='status']").get("value") == "failed"


def test_junit_reports_an_abort_as_an_error(tmp_path, drill_home):
    run = write_run(tmp_path / "reports", "aborted")
    root = ET.parse(write_junit(run.run_dir, tmp_path / "junit.xml")).getroot()
    assert int(root.get("errors")) == 1
    assert "blast_radius" in root.find(".//error").get("message")


def test_a_later_render_never_overwrites_the_sealed_report(passed_run):
    before = (passed_run.run_dir / "report.json").read_bytes()
    out = render_report(passed_run.run_dir, "json", "zh")
    assert out.name == "report.zh.json"
    assert (passed_run.run_dir / "report.json").read_bytes() == before
    assert json.loads(out.read_text(encoding="utf-8"))["lang"] == "zh"


def test_an_unfinished_run_is_reported_as_unfinished(tmp_path, drill_home):
    run = write_run(tmp_path / "reports", "passed", finish=False)
    assert [r.kind for r in read_records(run.run_dir / "journal.jsonl")][-1] != "run.end"
    html = render_report(run.run_dir, "html", "en", tmp_path / "r.html").read_text(encoding="utf-8")
    assert "UNFINISHED" in html[:html.index("<h2")]


def test_unknown_format_is_bad_input(passed_run):
    with pytest.raises(InputError) as err:
        render_report(passed_run.run_dir, "docx", "en")
    assert "--format" in str(err.value)


def test_every_label_exists_in_both_languages():
    for key, (zh, en) in LABELS.items():
        assert zh.strip() and en.strip(), key


def test_zh_report_headings_are_chinese(passed_run, tmp_path):
    import re

    html = render_report(passed_run.run_dir, "html", "zh", tmp_path / "zh.html").read_text(encoding="utf-8")
    headings = re.findall(r"<h[123][^>]*>(.*?)</h[123]>", html)
    assert len(headings) > 12
    for h in headings:
        assert re.search(r"[\u4e00-\u9fff]", h), h


def test_dates_and_numbers_follow_the_locale_in_the_inventory_time_zone():
    from orchestrator.journal.chain import parse_iso_ns
    from orchestrator.model.i18n import locale

    ns = parse_iso_ns("2026-11-25T16:05:07.250Z")  # 00:05 the next day in Shanghai
    zh, en = locale("zh", "Asia/Shanghai"), locale("en", "Asia/Shanghai")
    assert zh.datetime(ns, ms=True) == "2026年11月26日 00:05:07.250"
    assert en.datetime(ns, ms=True) == "26 Nov 2026, 00:05:07.250"
    assert zh.seconds(12.5) == "12.5 秒" and en.seconds(12.5) == "12.5 s"
    assert en.number(12345) == "12,345"
    assert zh.tz_label(ns) == "Asia/Shanghai (UTC+08:00)"
    assert locale("en", "UTC").datetime(ns) == "25 Nov 2026, 16:05:07"


def test_a_large_lab_gets_its_timeline_in_page_sized_pictures(passed_run):
    from orchestrator.model.i18n import locale
    from orchestrator.reports.build import load_run
    from orchestrator.reports.timeline import lanes, render_svgs

    run = load_run(passed_run.run_dir)
    svgs = render_svgs(run, locale("en", run.timezone), per=2)
    assert len(svgs) == 3  # 5 lanes, 2 per picture
    assert sum(s.count('class="lane"') for s in svgs) == len(lanes(run)) == 5
    assert all('class="mark fault"' in s for s in svgs)
