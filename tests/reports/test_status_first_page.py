"""A passed, failed or aborted run says so plainly on the report's first page."""

from __future__ import annotations

import subprocess

import pytest
from report_runs import require_tool, write_run

from orchestrator.reports import render_report

WORDS = {
    "zh": {"passed": "通过", "failed": "未通过", "aborted": "已中止"},
    "en": {"passed": "PASSED", "failed": "FAILED", "aborted": "ABORTED"},
}


@pytest.mark.parametrize("outcome", ["passed", "failed", "aborted"])
def test_html_status_banner_comes_before_any_section(tmp_path, drill_home, outcome):
    run = write_run(tmp_path / "reports", outcome)
    html = (run.run_dir / "report.html").read_text(encoding="utf-8")
    banner = html.index('<div id="status"')
    assert banner < html.index("<h2")
    assert f'class="status {outcome}"' in html
    assert f"<strong>{WORDS['en'][outcome]}</strong>" in html[banner:html.index("<h2")]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("outcome", ["failed", "aborted"])
def test_pdf_first_page_names_the_outcome(tmp_path, drill_home, outcome, lang):
    pdftotext = require_tool("pdftotext")
    run = write_run(tmp_path / "reports", outcome)
    pdf = render_report(run.run_dir, "pdf", lang, tmp_path / f"r-{lang}.pdf")
    first = subprocess.run([pdftotext, "-f", "1", "-l", "1", "-layout", str(pdf), "-"],
                           capture_output=True, text=True, check=True).stdout
    assert WORDS[lang][outcome] in first
    if lang == "zh":
        assert "演练结论" in first
    # The status is stated once as the verdict, not only buried in a table.
    head = first[:first.index("一、演练目的" if lang == "zh" else "1. Purpose")]
    assert WORDS[lang][outcome] in head


def test_a_refused_run_says_so_and_that_no_fault_was_injected(tmp_path, drill_home):
    from orchestrator.journal.chain import Journal
    from orchestrator.reports import write_run_reports

    run_dir = tmp_path / "reports" / "2026" / "20261125T120000Z-carrier-outage-abcdef"
    j = Journal(run_dir / "journal.jsonl", run_dir.name)
    j.append("run.start", {"drill": {"id": "carrier-outage", "title": {"zh": "单运营商故障演练",
                                                                      "en": "Single-carrier outage"}},
                           "inventory": {"environment": "lab", "kind": "lab", "timezone": "Asia/Shanghai"}})
    j.append("steady_state", {"when": "gate", "ok": False, "checks": [
        {"gateway": "W000001T", "check": "logged_in", "ok": False, "detail": "state connecting"}]})
    write_run_reports(run_dir, lang="zh", journal_digest=j.digest)
    j.close()
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    head = html[:html.index("<h2")]
    assert "<strong>未启动（演练前检查未通过）</strong>" in head and "未注入故障" in head
    assert "state connecting" in html
