"""Issue 13: every report shows each objective's state (passed, failed, not applicable,
not tested) in both languages, and the verdict line counts them."""

from __future__ import annotations

import json

from report_runs import write_run

from orchestrator.reports import render_report
from orchestrator.reports.build import load_run


def test_an_untested_objective_makes_the_report_inconclusive_in_both_languages(tmp_path, drill_home):
    run = write_run(tmp_path / "reports", "inconclusive")
    view = load_run(run.run_dir)
    assert view.status == "inconclusive" and view.exit_code == 5
    assert view.objective_counts == {"passed": 2, "failed": 0, "not_applicable": 1, "not_tested": 1}
    en = render_report(run.run_dir, "md", "en", tmp_path / "en.md").read_text(encoding="utf-8")
    zh = render_report(run.run_dir, "md", "zh", tmp_path / "zh.md").read_text(encoding="utf-8")
    assert en.splitlines()[2] == ("**Result: INCONCLUSIVE**: 2 passed, 0 failed, 1 not applicable, "
                                  "1 not tested (Exit code 5)")
    assert "*not applicable*: no gateway of this service" in en and "*not tested*: session table" in en
    assert zh.splitlines()[2].startswith("**演练结论：无法判定**：2 项通过，0 项未通过，1 项不适用，1 项未测")
    assert "*不适用*" in zh and "*未测*" in zh
    # a not tested objective is a finding; a not applicable one is not
    findings = en.split("## 8. Problems and root cause")[1].split("\n## ")[0]
    assert "objective not tested" in findings and "no_double_login" in findings
    assert "settlement.rto" not in findings


def test_report_json_and_html_carry_the_states(tmp_path, drill_home):
    run = write_run(tmp_path / "reports", "inconclusive")
    body = json.loads(render_report(run.run_dir, "json", "en", tmp_path / "r.json").read_text("utf-8"))
    assert body["status"] == "inconclusive"
    assert body["objective_states"] == {"passed": 2, "failed": 0, "not_applicable": 1, "not_tested": 1}
    assert body["verdict"]["zh"].startswith("无法判定：2 项通过")
    assert body["verdict"]["en"] == "INCONCLUSIVE: 2 passed, 0 failed, 1 not applicable, 1 not tested"
    states = {o["name"]: (o["state"], o["state_label"]["zh"]) for o in body["objectives"]}
    assert states["settlement.rto"] == ("not_applicable", "不适用")
    assert states["no_double_login"] == ("not_tested", "未测")
    assert states["trading.rto"] == ("passed", "通过")
    html = render_report(run.run_dir, "html", "zh", tmp_path / "r.html").read_text("utf-8")
    assert 'class="state not_tested"' in html and 'class="state not_applicable"' in html
    assert "无法判定" in html


def test_an_older_journal_without_states_reads_passed_and_failed(tmp_path, drill_home):
    run = write_run(tmp_path / "reports", "failed")
    view = load_run(run.run_dir)
    assert {o.verdict for o in view.objectives} == {"passed", "failed"}
    assert view.status == "failed"


def test_an_unexpected_interruption_is_a_finding_on_the_first_page(tmp_path, drill_home):
    run = write_run(tmp_path / "reports", "unexpected")
    for lang, title, label, shown in (
            ("en", "**Findings**", "settlement interrupted, not expected by the drill", "W00004JS (4.200s)"),
            ("zh", "**重要发现**", "结算业务意外中断（演练未声明）", "W00004JS（4.2 秒）")):
        md = render_report(run.run_dir, "md", lang, tmp_path / f"{lang}.md").read_text(encoding="utf-8")
        banner = md.split("\n## ")[0]  # title and status, before the first section
        assert title in banner and label in banner and shown in banner
        html = render_report(run.run_dir, "html", lang, tmp_path / f"{lang}.html").read_text("utf-8")
        status_div = html.split('<div id="status"')[1].split('<h2 id="summary">')[0]
        assert 'id="findings"' in status_div and label in status_div
    clean = write_run(tmp_path / "reports2", "passed")
    md = render_report(clean.run_dir, "md", "en", tmp_path / "p.md").read_text(encoding="utf-8")
    assert "**Findings**" not in md
