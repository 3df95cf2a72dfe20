"""The 演练报告 an inspector accepts (issue 17): every section, for each shipped drill, in
both languages; no English in a Chinese render outside docs/zh-allowlist.txt; no word the
glossary rejects.

The drills' runs are journals captured from lab runs (`drill run ID --yes`): four in
tests/reports/fixture_runs and the single-line run of tests/fixtures/runs; a report is
built from the journal alone, so no lab runs here."""

from __future__ import annotations

import functools
import re
import subprocess
from pathlib import Path

import pytest
from report_runs import require_tool, write_run
from zh_words import foreign_words, visible_text

from orchestrator.model.i18n import LABELS
from orchestrator.reports import load_run
from orchestrator.reports.render import render
from orchestrator.reports.sections import SECTIONS

HERE = Path(__file__).resolve().parent
# Newest captures first: tests/reports/fixture_runs (journals only), then the sealed runs.
RUNS = sorted((HERE / "fixture_runs").iterdir()) + \
    sorted((HERE.parent / "fixtures" / "runs" / "2026").iterdir())
DRILLS = sorted(p.stem for p in (HERE.parents[1] / "drills").glob("*.yaml"))
GLOSSARY = HERE.parents[1] / "docs" / "glossary.md"

HEADINGS = {
    "zh": ["一、演练目的", "二、演练场景", "三、对应应急预案", "四、组织分工", "五、演练方式",
           "六、业务影响", "七、评估结论", "八、问题及原因分析", "九、整改措施及后续跟进事项",
           "十、签字确认"],
    "en": ["1. Purpose", "2. Scenario", "3. Emergency plan exercised", "4. Organisation and roles",
           "5. Method", "6. Business impact", "7. Evaluation conclusion",
           "8. Problems and root cause", "9. Follow-up actions", "10. Sign-off"],
}


def _run_of(drill: str) -> Path:
    return next(p for p in RUNS if f"-{drill}-" in p.name)


@functools.cache
def _view(drill: str):
    return load_run(_run_of(drill))


@functools.cache
def _render(drill: str, fmt: str, lang: str) -> str:
    return render(_view(drill), fmt, lang).decode()


def test_every_shipped_drill_has_a_captured_run():
    assert DRILLS and all(any(f"-{d}-" in p.name for p in RUNS) for d in DRILLS), DRILLS


def _missing(text: str, lang: str) -> list[str]:
    """Headings not found, or found out of order."""
    at, missing = -1, []
    for h in HEADINGS[lang]:
        i = text.find(h, at + 1)
        if i < 0:
            missing.append(h)
        else:
            at = i
    return missing


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("drill", DRILLS)
def test_html_and_markdown_have_every_section_in_order(drill, lang):
    html = _render(drill, "html", lang)
    ids = [m for m in re.findall(r'<h2 id="([a-z]+)"', html) if m in SECTIONS]
    assert ids == list(SECTIONS)
    assert _missing(visible_text(html), lang) == []
    assert _missing(_render(drill, "md", lang), lang) == []
    # A lab run says on its first page that it is no evidence for filing.
    assert ("实验环境，不作为报送依据" if lang == "zh" else "not evidence for filing") in html


def test_zh_pdf_has_every_section(tmp_path, drill_home):
    """A short run here (a shipped drill's PDF takes ~30 s on the CI box, its activity log
    being most of it); each shipped drill's under -m slow. The PDF is the same HTML."""
    run = load_run(write_run(tmp_path / "reports", "failed").run_dir)
    _pdf_sections(run)


@pytest.mark.slow(group="zh-pdf-per-drill")  # CI renders one drill's PDF (seeded); -m slow all
@pytest.mark.parametrize("drill", DRILLS)
def test_zh_pdf_of_each_drill_has_every_section(drill):
    _pdf_sections(load_run(_run_of(drill)))


def _pdf_sections(run) -> None:
    pdftotext = require_tool("pdftotext")
    pdf = render(run, "pdf", "zh")
    text = subprocess.run([pdftotext, "-layout", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode()
    assert _missing(re.sub(r"[ \t]+", "", text), "zh") == [], run.drill.id


def _identifiers(run) -> set[str]:
    """The run's own identifiers and people: gateway and line ids, names."""
    return ({g.id for g in run.topology.gateways} | {ln.id for ln in run.topology.lines}
            | {m.gateway for m in run.measures} | {n for n, _ in run.participants})


def _zh_words(run, html: str | None = None, md: str | None = None) -> dict[str, list[str]]:
    html = visible_text(html or render(run, "html", "zh").decode())
    md = re.sub(r"`[^`]*`", " ", md or render(run, "md", "zh").decode())
    return {fmt: foreign_words(text, _identifiers(run)) for fmt, text in (("html", html), ("md", md))}


@pytest.mark.parametrize("drill", DRILLS)
def test_a_zh_report_has_no_english_outside_the_allow_list(drill):
    assert _zh_words(_view(drill), _render(drill, "html", "zh"), _render(drill, "md", "zh")) == \
        {"html": [], "md": []}


@pytest.mark.parametrize("outcome", ["failed", "aborted", "inconclusive", "unexpected"])
def test_a_zh_report_of_a_failing_run_has_no_english_either(outcome, tmp_path, drill_home):
    run = load_run(write_run(tmp_path / "reports", outcome).run_dir)
    assert _zh_words(run) == {"html": [], "md": []}


def test_the_checker_catches_english_and_raw_ids():
    assert foreign_words("阶段 restore，步骤 restore[0]") == ["restore", "restore"]
    assert foreign_words("FT 中心，运营商 CT") == ["FT", "CT"]
    assert foreign_words("自动化脚本（Ansible Playbook）SHA-256，D+3") == []


def rejected_synonyms() -> dict[str, str]:
    """{rejected word: the glossary's term}, from the glossary's "Rejected words" table."""
    text = GLOSSARY.read_text(encoding="utf-8").split("## Rejected words", 1)[1].split("\n## ", 1)[0]
    out = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0] and not set(cells[0]) <= set("-") and cells[0] != "rejected":
            out[cells[0]] = cells[1]
    return out


def test_the_glossary_lists_rejected_words():
    words = rejected_synonyms()
    assert {"稳态检查", "剧本", "交易所侧", "清单文件", "拒绝执行", "中断信号", "频次"} <= set(words)


def test_no_zh_label_uses_a_rejected_word():
    bad = {key: zh for key, (zh, _) in LABELS.items() for w in rejected_synonyms() if w in zh}
    assert bad == {}


@pytest.mark.parametrize("drill", DRILLS)
def test_no_zh_report_uses_a_rejected_word(drill):
    text = visible_text(_render(drill, "html", "zh")) + _render(drill, "md", "zh")
    assert [w for w in rejected_synonyms() if w in text] == []


def test_the_citation_table_in_code_matches_docs_spec():
    """Every id of docs/spec.md's chapters is cited by chapter and article, in both
    languages; the code points nowhere outside the repository."""
    from orchestrator.model.drill import KNOWN_CLAUSES
    from orchestrator.model.spec import CLAUSES, cite

    spec = (HERE.parents[1] / "docs" / "spec.md").read_text(encoding="utf-8")
    ids = set(re.findall(r"^\| (R-[A-Z]+-\d+[a-c]?) \|", spec, flags=re.M))
    assert ids and ids <= CLAUSES and KNOWN_CLAUSES <= CLAUSES
    assert cite("R-NET-1", "zh") == "《技术规范》第三章第1条"
    assert cite("R-DR-4", "zh") == "《接入指引》三、应用接入指引（表1）"
    assert cite("R-OPS-3", "en") == "Technical Specification, ch. 5, art. 5 (R-OPS-3)"
    for path in (HERE.parents[1] / "orchestrator").rglob("*"):
        if path.is_file() and path.suffix in (".py", ".j2", ".json", ".txt", ".css"):
            assert "/work/" not in path.read_text(encoding="utf-8"), path


def test_the_firm_names_the_documents():
    from orchestrator.model.spec import cite, cited_documents, documents

    docs = documents({"spec": {"full": "某证券公司转述的接入规范",
                               "short": {"zh": "《接入规范》", "en": "Access Spec"}}})
    assert cite("R-NET-1", "zh", docs) == "《接入规范》第三章第1条"
    assert cite("R-NET-1", "en", docs) == "Access Spec, ch. 3, art. 1 (R-NET-1)"
    assert cited_documents(["R-NET-1"], "zh", docs) == ["《接入规范》：某证券公司转述的接入规范"]
    assert cite("R-DR-1", "zh", docs) == "《接入指引》一、总体介绍"


def test_the_inventorys_plan_and_organisation_reach_the_report(tmp_path):
    """inventory `report` → run.start (engine/record.py puts it under `inventory`) → report."""
    from orchestrator.config.inventory import load_inventory
    from orchestrator.journal.chain import Journal

    inv = load_inventory(HERE.parents[1] / "inventories" / "production.example")
    run_dir = tmp_path / "reports" / "2026" / "20261125T120000Z-beijing-cutover-abcdef"
    j = Journal(run_dir / "journal.jsonl", run_dir.name)
    j.append("run.start", {"drill": {"id": "beijing-cutover", "spec": ["R-DR-1"]},
                           "inventory": {"environment": "prod", "kind": "production",
                                         "report": inv.report.for_drill("beijing-cutover")}})
    j.append("run.end", {"status": "passed", "exit_code": 0})
    j.close()
    html = render(load_run(run_dir), "html", "zh").decode()
    plan = html.split('<h2 id="plan">')[1].split("<h2")[0]
    assert "YJYA-DR-2026-01" in plan and "1.2" in plan and "异地灾备切换应急预案" in plan
    org = html.split('<h2 id="organisation">')[1].split("<h2")[0]
    for name in ("张伟", "李娜", "王芳、陈磊", "赵敏"):
        assert name in org, name
    assert "不作为报送依据" not in html  # a production run is evidence
