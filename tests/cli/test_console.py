"""What `drill run` prints for people (issue 20): the table, the objective lines and the
verdict line, in one language; every terminal message has both languages."""

from __future__ import annotations

import re
import string
from pathlib import Path

from orchestrator.cli._console import result_text, run_verdict
from orchestrator.engine.options import RunOutcome
from orchestrator.journal.observations import Measure, Objective
from orchestrator.model.i18n import LABELS
from orchestrator.model.stamp import Stamp

NS = 1_780_000_000_000_000_000  # 2026-05-28 (UTC)


def _measure(gw, service, affected, before, after, interruption=None, passed=True, phase="failover"):
    return Measure(gateway=gw, service=service, affected=affected, interrupted=affected,
                   centre_before=before, centre_after=after,
                   link_lost=Stamp(NS, "fault-task"), detected=Stamp(NS + 10**9, "gateway-monitor")
                   if affected else None, restored=Stamp(NS + 2 * 10**9, "gateway-monitor")
                   if affected else None, interruption_s=interruption,
                   target_s=30.0 if affected else None, passed=passed, phase=phase)


def _outcome(status="passed", steady=True, abort=None, summary="passed; all 2 measured objectives met"
             ) -> RunOutcome:
    measures = (_measure("W000003T", "trading", False, "NF", "NF", 0.0),
                _measure("W000000T", "trading", True, "FT", "NF", 2.308),
                _measure("W00001TF", "market_data", False, "NF", "NF", 0.0),
                _measure("W00004JS", "settlement", True, "FT", "NF", 2.34))
    objectives = (Objective("rto.trading", 30.0, 2.308, True, "1 gateway(s) within 30s", "passed"),
                  Objective("rto.settlement", 30.0, 2.34, True, "1 gateway(s) within 30s", "passed"),
                  Objective("rto.market_data", 30.0, None, False, "no gateway on the path",
                            "not_applicable"))
    return RunOutcome("run-1", Path("/tmp/run-1"), status, 0, measures, objectives, summary,
                      steady, abort, "Asia/Shanghai")


def test_table_puts_the_failed_path_first_with_centres_and_zone_and_lists_the_rest():
    text = result_text(_outcome(), "en")
    lines = text.splitlines()
    assert lines[0] == "gateways on the failed path (times in Asia/Shanghai (UTC+08:00))"
    assert "centre before → after" in lines[1] and "link lost" in lines[1]
    rows = [ln for ln in lines if ln.startswith("W0")]
    assert [r.split()[0] for r in rows] == ["W000000T", "W00004JS"]
    assert all("FT → NF" in r for r in rows)
    assert "not affected (off the failed path, not interrupted): W000003T (trading), " \
           "W00001TF (market_data)" in lines
    assert "0.000s" not in text


def test_verdict_line_counts_exactly_the_objective_lines_above_it():
    out = _outcome()
    text = result_text(out, "en")
    marks = [ln.split()[0] for ln in text.splitlines() if re.match(r"^  (pass|FAIL|n/a|UNTESTED) ", ln)]
    assert marks == ["pass", "pass", "n/a"]
    assert run_verdict(out, "en") == "PASSED: 2 passed, 0 failed, 1 not applicable, 0 not tested"
    assert "steady state after restore: reached" in text and "  pass     steady" not in text


def test_an_aborted_run_says_why_once_and_its_verdict_in_chinese():
    out = _outcome(status="aborted", abort="interrupted by SIGINT",
                   summary="aborted; aborted: interrupted by SIGINT; all 2 measured objectives met")
    assert "\naborted: interrupted by SIGINT\n" in result_text(out, "en")
    assert "objectives met" not in result_text(out, "en")
    text = result_text(out, "zh")
    assert "原因：已中止：演练程序收到终止信号（SIGINT）" in text  # the journal's English reason, translated
    assert run_verdict(out, "zh") == "已中止：2 项通过，0 项未通过，1 项不适用，0 项未测"
    # the zh table and objective lines carry no English words of drill's own
    for word in ("pass", "FAIL", "gateway", "within", "not affected", "link lost", "run folder"):
        assert word not in text, word


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def test_every_message_has_both_languages_with_the_same_placeholders():
    for key, pair in LABELS.items():
        assert isinstance(pair, tuple) and len(pair) == 2, key
        zh, en = pair
        assert zh.strip() and en.strip(), key
        assert _fields(zh) == _fields(en), key


def test_a_report_speaks_the_language_its_run_ran_in(tmp_path, monkeypatch):
    from orchestrator.cli._options import report_lang, resolve_lang
    from orchestrator.journal.chain import Journal

    run = tmp_path / "run"
    j = Journal(run / "journal.jsonl", "run-1")
    j.append("run.start", {"drill": {"id": "d"}})
    j.append("plan", {"lang": "zh", "steps": [], "on_failed_path": []})
    j.close()
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    assert report_lang(None, run) == "zh" and report_lang("en", run) == "en"
    assert report_lang(None, tmp_path / "none") == "en" == resolve_lang(None)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert resolve_lang(None) == "zh"


def test_the_inventory_language_is_the_default_of_every_command(tmp_path, monkeypatch, capsys):
    import shutil

    from orchestrator.cli._options import resolve_lang

    repo = Path(__file__).resolve().parents[2]
    inv = tmp_path / "lab"
    shutil.copytree(repo / "inventories" / "lab", inv)
    hosts = inv / "hosts.yml"
    hosts.write_text(hosts.read_text(encoding="utf-8").replace(
        "environment: {name: lab, kind: lab, timezone: Asia/Shanghai}",
        "environment: {name: lab, kind: lab, timezone: Asia/Shanghai, language: zh}"), encoding="utf-8")
    monkeypatch.setenv("LC_ALL", "en_US.UTF-8")
    assert resolve_lang(None, inv) == "zh"
    assert resolve_lang("en", inv) == "en"
    assert resolve_lang(None, repo / "inventories" / "lab") == "en"  # none named: the locale
    # validate, check and plan take it from the inventory they load anyway (read once, P10)
    from orchestrator.cli import main

    monkeypatch.setenv("DRILL_HOME", str(tmp_path / "home"))
    for args, zh in ((["validate"], "个演练文件校验通过"), (["check", "--static"], "条款"),
                     (["plan", "carrier-outage", "--no-check"], "演练前检查")):
        main([*args, "-i", str(inv), "--project", str(repo)])
        out = capsys.readouterr().out
        assert zh in out, (args, out[-800:])


def test_the_console_prints_steps_tasks_waits_and_checks_as_the_events_come():
    import io

    from orchestrator.engine.progress import Console, LiveProgress
    from orchestrator.journal import records as jr
    from orchestrator.journal.observations import SteadyCheck, SteadyState
    from orchestrator.model.text import Text

    out = io.StringIO()
    console = Console("en", out)
    name = Text("等待", "Wait until restored")
    for event in (
            jr.RunPlan("en", ({"phase": "recovery", "index": 0, "waits_for": "every gateway on "
                               "the failed path restored (predicted: W000000T)"},), ("W000000T",)),
            jr.PhaseStart("precheck", None), jr.PhaseEnd("precheck", "ok", None, None, 0.1),
            SteadyState("gate", True, ()),
            jr.StepStart("fault", 0, Text("断线", "Cut line"), "playbook", True, None, {}),
            jr.AnsibleTask("fault[0]", "ct-router", "Change the line on its router", "shell",
                           "changed", None, None, 0.4, None, ""),
            jr.StepEnd("fault", 0, Text("断线", "Cut line"), "playbook", True, "ok", None, None,
                       1.5, None),
            jr.StepStart("recovery", 0, name, "wait", True, None, {}),
            SteadyState("after", False, (SteadyCheck("W000001T", "centre", False, "on NF"),))):
        console(event)
    live = LiveProgress("en", out)
    live.update("recovery", "all_restored", 1.0, 60.0, ["W000000T"], ["W000000T"])
    live.update("recovery", "all_restored", 1.1, 60.0, ["W000000T"], ["W000000T"])  # unchanged
    live.update("recovery", "all_restored", 1.2, 60.0, [], [])
    assert out.getvalue().splitlines() == [
        "── pre-check",
        "── steady-state gate: every gateway logged in, lines up",
        "  ✓ steady-state gate",
        "  ▶ fault[0] Cut line",
        "      changed     ct-router    Change the line on its router 0.4s",
        "  ✓ fault[0] ok 1.5s",
        "  ▶ recovery[0] Wait until restored",
        "      waits for: every gateway on the failed path restored (predicted: W000000T)",
        "  ✗ after-check: W000001T: on NF",
        "      … all_restored 1.0s / 60s; still missing: W000000T; down: W000000T",
        "      … all_restored 1.2s / 60s",
    ]
