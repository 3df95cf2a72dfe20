"""Files for other tools (issue 17) and predicted beside measured (issue 19).

CSV: one table per file, UTF-8 with BOM, a header and rows only, ISO-8601 times with zone.
Markdown: every section and column the HTML has, the activity log linked, not inlined.
Prediction: journaled before the fault, shown beside the measurement, flagged when the
measurement is much longer (reports.model.much_longer).

One real lab run (the session's, tests/lab_run_fixture.py) for what needs the engine; the captured journals of
tests/reports/fixture_runs for the rest."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from datetime import datetime
from pathlib import Path

import pytest
from lab_run_fixture import drill_home
from zh_words import visible_text

from orchestrator.cli import main
from orchestrator.journal.chain import read_records
from orchestrator.reports import load_run, render_report_files
from orchestrator.reports.model import PREDICTION_FACTOR, PREDICTION_MARGIN_S, much_longer
from orchestrator.reports.render import render, render_files
from orchestrator.reports.sections import SECTIONS
from orchestrator.reports.tables import TABLES

REPO = Path(__file__).resolve().parents[2]
FIXTURES = sorted((Path(__file__).resolve().parent / "fixture_runs").iterdir())
BOM = b"\xef\xbb\xbf"


def _rows(data: bytes) -> list[list[str]]:
    assert data.startswith(BOM)
    return list(csv.reader(io.StringIO(data[len(BOM):].decode("utf-8"), newline="")))


def _iso_with_zone(text: str) -> datetime:
    at = datetime.fromisoformat(text)
    assert at.tzinfo is not None and at.utcoffset() is not None, text
    return at


# -- the lab run --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lab_run(shared_lab_run, tmp_path_factory):
    """This module's copy of the session's lab run (tests/lab_run_fixture.py): `drill report`
    and `drill verify` below write into the copy's run folder, never into the shared one."""
    tmp = tmp_path_factory.mktemp("files-for-tools")
    run = shared_lab_run.copy(tmp)
    with drill_home(tmp / "home"):
        yield run.code, run.run_dir, run.reports


def test_a_lab_run_journals_a_prediction_and_every_format_shows_it(lab_run, capsys):
    code, run_dir, reports = lab_run
    assert code == 0
    recs = list(read_records(run_dir / "journal.jsonl"))
    kinds = [r.kind for r in recs]
    predicted = {(r.data["gateway"], r.data["service"]): r.data for r in recs if r.kind == "prediction"}
    # before any change: right after the plan, before the first phase starts
    assert kinds.index("plan") < min(i for i, k in enumerate(kinds) if k == "prediction") \
        < kinds.index("phase.start")
    on_path = [r.data for r in recs if r.kind == "measure" and r.data["affected"]
               and r.data.get("phase", "failover") == "failover"]
    assert on_path and {(m["gateway"], m["service"]) for m in on_path} <= set(predicted)
    for p in predicted.values():
        assert 0 < p["low_s"] <= p["high_s"] and p["basis"]["zh"] and p["basis"]["en"]

    # HTML: each on-path failover row carries the prediction's upper bound
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    for m in on_path:
        row = re.search(rf'<tr data-gateway="{m["gateway"]}" data-service="{m["service"]}" '
                        rf'data-phase="failover"[^>]*>', html).group(0)
        high = predicted[(m["gateway"], m["service"])]["high_s"]
        assert f'data-predicted-high="{high}"' in row

    # `drill report` writes the CSV tables and the Markdown with its activity log into the
    # run folder; each is recorded in renders.jsonl and `drill verify` checks them
    capsys.readouterr()
    assert main(["report", str(run_dir), "--format", "csv"]) == 0
    assert main(["report", str(run_dir), "--format", "md"]) == 0
    written = capsys.readouterr().out.split()
    assert sorted(Path(p).name for p in written) == sorted(
        [f"report-{t}.csv" for t in TABLES] + ["report.md", "report-activity.csv"])
    assert main(["verify", str(run_dir), "--reports", str(reports)]) == 0

    rows = _rows((run_dir / "report-switches.csv").read_bytes())
    col = {name: i for i, name in enumerate(rows[0])}
    for m in on_path:
        row = next(r for r in rows[1:] if (r[0], r[col["切换"]]) == (m["gateway"], "切换"))
        p = predicted[(m["gateway"], m["service"])]
        assert float(row[col["预计最短中断时长（秒）"]]) == pytest.approx(p["low_s"])
        assert float(row[col["预计最长中断时长（秒）"]]) == pytest.approx(p["high_s"])
        assert row[col["明显超出预计"]] in ("是", "否")
        assert float(row[col["中断时长 (秒)"]]) == pytest.approx(m["interruption_s"], abs=5e-4)
        lost = _iso_with_zone(row[col["链路中断时间"]])
        assert abs(lost.timestamp() * 1e9 - m["link_lost"]["ns"]) < 1e6  # to the millisecond
    md = (run_dir / "report.md").read_text(encoding="utf-8")
    table = md.split("## 各网关切换情况", 1)[1].split("\n## ", 1)[0]
    for m in on_path:
        line = next(ln for ln in table.splitlines() if ln.startswith(f"| {m['gateway']} |") and "| 切换 |" in ln)
        assert "| 故障路径上 |" in line and "秒" in line.split("|")[10], line  # predicted column


def test_the_lab_runs_csv_tables_load_in_the_csv_module(lab_run):
    _, run_dir, _ = lab_run
    run = load_run(run_dir)
    files = render_files(run, "csv", "en", "t")
    assert list(files) == ["t-switches.csv", *(f"t-{t}.csv" for t in TABLES if t != "switches")]
    for name, data in files.items():
        rows = _rows(data)
        assert len(rows) >= 2, name  # a header and at least one row
        assert all(len(r) == len(rows[0]) for r in rows), name  # one table: no footer, no blank
        assert rows[0][0] and all(rows[0]), name
    switches = _rows(files["t-switches.csv"])
    col = {n: i for i, n in enumerate(switches[0])}
    stamped = 0
    for row in switches[1:]:
        for name in ("Link lost", "Detected", "Link restored", "Login restored"):
            if row[col[name]]:
                at = _iso_with_zone(row[col[name]])
                assert at.utcoffset().total_seconds() == 8 * 3600  # the inventory's zone
                stamped += 1
    assert stamped >= 4
    meta = dict(_rows(files["t-run.csv"])[1:])
    assert meta["Run id"] == run.run_id and meta["Journal final digest (SHA-256)"] == run.digest
    _iso_with_zone(meta["Start"]), _iso_with_zone(meta["End"])
    activity = _rows(files["t-activity.csv"])
    assert len(activity) - 1 == run.records
    assert activity[1][2] == "run.start" and _iso_with_zone(activity[1][1])


# -- captured runs: no lab ----------------------------------------------------------------


def _html_parts(html: str) -> tuple[list[str], list[str]]:
    """Headings and column/row headers of the HTML report, the activity log left out."""
    body = html.split('<h2 id="log"', 1)[0]
    heads = [visible_text(h).strip() for h in re.findall(r"<h[23][^>]*>(.*?)</h[23]>", body, re.S)]
    ths = [visible_text(h).strip() for h in re.findall(r"<th[^>]*>(.*?)</th>", body, re.S)]
    return [h for h in heads if h], sorted({t for t in ths if t})


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("run_dir", [FIXTURES[0], FIXTURES[-1]], ids=lambda p: p.name.split("-", 1)[1])
def test_markdown_has_every_html_section_and_column(run_dir, lang):
    run = load_run(run_dir)
    html = render(run, "html", lang).decode()
    md = render(run, "md", lang).decode()
    ids = [i for i in re.findall(r'<h2 id="([a-z]+)"', html) if i in SECTIONS]
    assert ids == list(SECTIONS)  # the section list the HTML tests use
    heads, columns = _html_parts(html)
    md_heads = [h.strip() for h in re.findall(r"^#{2,3} (.+)$", md, re.M)]
    missing = [h for h in heads if not any(h.split("：")[0].split(": ")[0] in m for m in md_heads)]
    assert missing == []
    assert [c for c in columns if c not in md] == []
    # the facts HTML shows beside the columns: on the failed path or not, centre before →
    # after, ticket and approver, the plan reference, the evaluation
    on, off = ("故障路径上", "非故障路径") if lang == "zh" else ("on the failed path", "off the failed path")
    assert on in md and off in md
    assert "→" in md
    assert ("审批人" if lang == "zh" else "Approver") in md or not run.approver
    assert ("变更单号" if lang == "zh" else "Change ticket") in md


@pytest.mark.parametrize("run_dir", [FIXTURES[0]], ids=lambda p: p.name.split("-", 1)[1])
def test_markdown_links_the_activity_log_and_inlines_no_record(run_dir, tmp_path):
    run = load_run(run_dir)
    paths = render_report_files(run_dir, "md", "en", tmp_path / "r.md")
    assert [p.name for p in paths] == ["r.md", "r-activity.csv"]
    md = paths[0].read_text(encoding="utf-8")
    assert "[`r-activity.csv`](r-activity.csv)" in md
    log = md.split("Appendix: activity log", 1)[1]
    assert len(log.strip().splitlines()) == 1  # one sentence, no table
    # no raw record of the journal in the Markdown: not its kinds as rows, not its summaries
    assert not re.search(r"^\| \d+ \| .* \| `(run\.start|step\.end|measure|probe\.transition)` \|", md, re.M)
    assert len(_rows(paths[1].read_bytes())) - 1 == run.records == len(run.log)


# -- the flag, on real report-model objects ------------------------------------------------


def test_much_longer_is_factor_times_the_upper_bound_plus_the_margin():
    assert (PREDICTION_FACTOR, PREDICTION_MARGIN_S) == (1.5, 1.0)
    assert not much_longer(4.75, 2.5) and much_longer(4.76, 2.5)
    assert much_longer(None, 2.5)  # never restored
    assert not much_longer(100.0, None)  # no bound: nothing to compare with


def test_a_gateway_much_longer_than_predicted_is_flagged_in_every_format():
    run = load_run(FIXTURES[0])  # carrier-outage, captured before predictions were journaled
    assert run.predictions == ()
    from orchestrator.reports.model import PredictionView, Text

    slow, quick = [m for m in run.measures if m.affected and m.phase == "failover"][:2]
    predictions = (
        PredictionView(slow.gateway, slow.service, 1.0, 1.5, Text("心跳超时", "heartbeat timeout")),
        PredictionView(quick.gateway, quick.service, 1.0, quick.interruption_s, Text("心跳超时", "heartbeat timeout")))
    limit = PREDICTION_FACTOR * 1.5 + PREDICTION_MARGIN_S
    i = run.measures.index(slow)
    measures = tuple(dataclasses.replace(m, interruption_s=limit + 0.5) if m is slow else m
                     for m in run.measures)
    run = dataclasses.replace(run, predictions=predictions, measures=measures)
    assert run.longer_than_predicted(measures[i])
    assert not run.longer_than_predicted(quick)
    for lang, word in (("zh", "明显超出预计"), ("en", "much longer than predicted")):
        html = render(run, "html", lang).decode()
        flagged = re.findall(r'<tr data-gateway="([^"]+)"[^>]*data-much-longer="yes"', html)
        assert flagged == [slow.gateway]
        md = render(run, "md", lang).decode()
        rows = [ln for ln in md.splitlines() if ln.startswith("| ") and f"**{word}**" in ln]
        assert [r.split("|")[1].strip() for r in rows] == [slow.gateway], md
        sw = _rows(render_files(run, "csv", lang, "x")["x-switches.csv"])
        col = {n: i for i, n in enumerate(sw[0])}
        yes = "是" if lang == "zh" else "yes"
        assert [r[0] for r in sw[1:] if r[col[word]] == yes] == [slow.gateway]
