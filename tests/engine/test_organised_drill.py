"""An exchange-organised drill (issue 17): run on the lab (the lab plays SSCC's test
environment), it produces the member drill record (会员单位演练记录表) with the line table and,
per switch, the times the journal measured: link lost and trading login restored from the
trading gateways' `measure` records, link restored from the restore step's
`fault.effective`. One lab run, shared by every test here."""

from __future__ import annotations

import csv
import io
import re

import pytest
from engine_fixtures import lab_env_with
from engine_helpers import of_kind, records, run_captured

from orchestrator.cli import main
from orchestrator.reports import load_run
from orchestrator.reports.member_record import (
    LINES_CSV,
    SWITCHES_CSV,
    iso_ms,
    member_record,
)
from orchestrator.reports.model import Stamp
from orchestrator.reports.render import render

NOTICE = "深证通〔2026〕88号"
LINE_HEADER = ["接入中心", "主用/备用", "线路编号", "运营商", "主机地址", "对端地址（深证通）"]
SWITCH_HEADER = ["序号", "交易网关", "切换", "中心（前→后）", "中断线路", "链路中断时间",
                 "链路恢复时间", "交易登录恢复时间", "中断时长（秒）"]
TZ = "Asia/Shanghai"


@pytest.fixture(scope="module", name="lab_env")
def lab_env_fixture(tmp_path_factory):
    yield from lab_env_with(tmp_path_factory)


@pytest.fixture(scope="module", name="ran")
def ran_fixture(lab_env):
    ran = run_captured(lab_env, "sscc-organised-drill", "--set", f"notice={NOTICE}",
                       "--set", "hold=1s")
    assert ran.code == 0, ran.out + ran.err
    return ran


def _csv(path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM, so spreadsheets read the Chinese"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def _journal_switches(recs: list[dict]) -> list[dict]:
    """The journal's own times of every trading switch: (gateway, phase, link lost ns,
    link restored ns or None, trading login restored ns)."""
    restores = sorted(f["at"]["ns"] for f in of_kind(recs, "fault.effective")
                      if f["step"].startswith("restore[") and f["effect"].get("lines_up"))
    out = []
    for m in of_kind(recs, "measure"):
        if m["service"] != "trading" or not m["affected"]:
            continue
        lost = m["link_lost"]["ns"]
        back = next(ns for ns in restores if ns >= lost) if m["phase"] == "failover" else None
        out.append({"gateway": m["gateway"], "phase": m["phase"], "lost": lost, "back": back,
                    "login": m["restored"]["ns"]})
    return sorted(out, key=lambda s: (s["lost"], s["phase"], s["gateway"]))


def test_the_member_record_is_written_bound_and_verified(ran):
    recs = records(ran.run)
    end = of_kind(recs, "run.end")[0]
    assert {LINES_CSV, SWITCHES_CSV} <= set(end["artifacts"]), "run.end binds the record"
    start = of_kind(recs, "run.start")[0]
    assert start["drill"]["organised"] == {"organiser": "SSCC"}
    assert start["params"]["notice"] == NOTICE
    assert main(["verify", str(ran.run)]) == 0


def test_the_line_table_is_the_journaled_topology(ran):
    rows = _csv(ran.run / LINES_CSV)
    assert rows[0] == LINE_HEADER
    lines = of_kind(records(ran.run), "run.start")[0]["topology"]["lines"]
    assert [r[2] for r in rows[1:]] == [ln["id"] for ln in lines]
    assert [(r[4], r[5]) for r in rows[1:]] == [(ln["local_address"], ln["remote_address"])
                                              for ln in lines]
    assert rows[1][:4] == ["福田中心", "主用", "ct-ft", "中国电信"]


def test_every_switch_carries_the_journal_times_exactly(ran):
    recs = records(ran.run)
    want = _journal_switches(recs)
    assert [(s["gateway"], s["phase"]) for s in want] == [("W000000T", "failover"),
                                                          ("W000000T", "failback")]
    # the typed record holds the journal's stamps to the nanosecond
    rec = member_record(load_run(ran.run))
    assert rec is not None and rec.organiser == "SSCC" and rec.notice == NOTICE
    got = [{"gateway": s.gateway, "phase": s.phase, "lost": s.link_lost.ns,
            "back": s.link_restored.ns if s.link_restored else None,
            "login": s.login_restored.ns} for s in rec.switches]
    assert got == want
    # the CSV writes those same stamps, truncated to the millisecond, nothing recomputed
    rows = _csv(ran.run / SWITCHES_CSV)
    assert rows[0] == SWITCH_HEADER
    assert len(rows) == 1 + len(want)
    for row, s in zip(rows[1:], want, strict=True):
        def text(ns):
            return iso_ms(Stamp(ns, "journal", 0.0), TZ) if ns is not None else ""
        assert row[1] == s["gateway"]
        assert row[2] == {"failover": "切换", "failback": "回切"}[s["phase"]]
        assert (row[5], row[6], row[7]) == (text(s["lost"]), text(s["back"]), text(s["login"]))
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+08:00", row[5])
    assert rows[1][4] == "ct-ft"  # the line the notice cut


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_reports_show_the_same_record(ran, lang):
    view = load_run(ran.run)
    rows = _csv(ran.run / SWITCHES_CSV)
    for fmt in ("html", "md"):
        text = render(view, fmt, lang).decode()
        assert ("会员单位演练记录表" if lang == "zh" else "Member drill record") in text
        assert NOTICE in text
        for row in rows[1:]:
            for cell in row[5:8]:
                if cell:
                    assert cell in text, (fmt, lang, cell)
    sealed = (ran.run / "report.html").read_text(encoding="utf-8")
    assert 'id="member-switches"' in sealed


def test_the_notice_steps_are_acknowledged_on_the_lab_and_journaled_so(ran):
    recs = records(ran.run)
    manual = [s for s in of_kind(recs, "step.start") if s["step_kind"] == "manual"]
    assert [f"{s['phase']}[{s['index']}]" for s in manual] == ["precheck[0]", "restore[2]"]
    assert NOTICE in manual[0]["name"]["zh"]
    acks = of_kind(recs, "operator.ack")
    assert [(a["step"], a["how"], a["unattended"]) for a in acks] == [
        ("precheck[0]", "lab-auto", True), ("restore[2]", "lab-auto", True)]


def test_the_plan_lists_every_step_the_run_journaled(ran):
    """As for every shipped drill (tests/engine/test_shipped_drills.py): the journaled plan
    names each step the run took, failback included, in order."""
    recs = records(ran.run)
    (run_plan,) = of_kind(recs, "plan")
    journaled = [(s["phase"], s["index"]) for s in of_kind(recs, "step.start")]
    assert [(s["phase"], s["index"]) for s in run_plan["steps"]] == journaled
    assert ("restore", 4) in journaled  # the failback the drill declares
