"""The Beijing drill (issue 17): SSCC's D+3 is its commitment to take over, not a limit on
the firm's cutover. The firm's own target is the verdict; D+3 is shown as context in the
drill, the objectives and the report."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from orchestrator.config.scenario import load_drill
from orchestrator.engine import measure
from orchestrator.engine.state import RunState
from orchestrator.reports import load_run
from orchestrator.reports.render import render

REPO = Path(__file__).resolve().parents[2]
S = 1_000_000_000


def _objectives(cut_s: float | None, firm: float | None = 1800.0, sscc: float | None = 3 * 86400):
    st = RunState()
    st.link_lost_ns = 100 * S
    st.cutover_done_ns = None if cut_s is None else int(100 * S + cut_s * S)
    targets = SimpleNamespace(rto_s={}, no_double_login=False, cutover_limit_s=sscc,
                              cutover_firm_s=firm, expected_s={})
    objs = measure.run_objectives(SimpleNamespace(targets=targets), st, [], "")
    return {o.name: o for o in objs if o.name.startswith("cutover")}


def test_the_firms_target_is_the_verdict_and_d3_is_no_objective():
    within = _objectives(600.0)
    assert list(within) == ["cutover.firm"] and within["cutover.firm"].verdict == "passed"
    # Over the firm's target but far inside D+3: failed, whatever SSCC's commitment says.
    over = _objectives(2 * 3600.0)
    assert over["cutover.firm"].verdict == "failed" and over["cutover.firm"].target == 1800.0
    never = _objectives(None)
    assert never["cutover.firm"].verdict == "failed" and never["cutover.firm"].measured is None
    assert _objectives(600.0, firm=None) == {}


def test_the_shipped_drill_sets_the_firms_target_and_d3_as_context():
    drill = load_drill(REPO / "drills" / "beijing-cutover.yaml")
    assert drill.targets.cutover_firm_s == 30 * 60
    assert drill.targets.cutover_limit_s == 3 * 86400
    text = (REPO / "drills" / "beijing-cutover.yaml").read_text(encoding="utf-8")
    assert "limit:" not in text and "sscc_takeover: 3d" in text


def test_the_report_shows_d3_as_context_not_as_a_limit():
    run = load_run(REPO / "tests" / "fixtures" / "runs" / "2026" / "20261205T081327Z-beijing-cutover-57cc9d")
    zh = render(run, "html", "zh").decode()
    context = zh.split('<tr id="cutover-context">')[1].split("</tr>")[0]
    assert "深证通在 D+3 日内承接" in context and "不作为本公司切换时长的评判依据" in context
    assert "《接入指引》一、总体介绍" in context
    assert "上限" not in zh
    en = render(run, "html", "en").decode()
    assert "SSCC takes over within D+3" in en and "not a limit on the firm" in en


def test_a_lab_run_of_the_shipped_drill_judges_only_the_firms_target():
    run_dir = next((REPO / "tests" / "reports" / "fixture_runs").glob("*-beijing-cutover-*"))
    run = load_run(run_dir)
    cut = [o for o in run.objectives if o.name.startswith("cutover")]
    assert [o.name for o in cut] == ["cutover.firm"] and cut[0].target == 1800.0
    assert run.targets["cutover_limit_s"] == 3 * 86400
    zh = render(run, "html", "zh").decode()
    assert '<tr id="cutover-context">' in zh and "BJ" not in zh.split('<h2 id="details"')[0]
