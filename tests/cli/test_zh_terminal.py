"""One language per run (issue 20): every command's terminal output in zh passes the audit
issue's zh check (docs/zh-allowlist.txt, the checker tests/reports/test_report_contents.py
uses), over stdout and stderr together; every shipped playbook task has a zh label; every
message key has a zh and an en text.

One lab (started and stopped by `drill lab up/down` in zh) and one lab run (ZH_DRILL, hold
1 s) serve every command here, `drill review` of that run last; a second run of ZH_DRILL,
SIGKILLed once its fault step ended (its own archive), is what `drill recover` finishes.

What the check treats as not prose, beside the allow-list (the terminal's `<code>`):
- identifiers: the inventory's gateway, line, centre, carrier, router and host ids, the
  environment's name, drill ids, parameter names and values, objective ids, run ids;
- file paths (a word with a `/` in it) and spans in backticks (a command to type); SSH host
  key fingerprints (`SHA256:…`); the lab's session ids (`FT-000002`);
- code: a drill file's fragments and a playbook's variables (quoted strings and JSON `{…}`
  / `[…]` as `drill show` and `drill plan` print them), config lines of a plan's diff
  (`+ <server …/>`);
- log lines the CLI marks as the library's own English (`运行日志（原文）：…`).

`drill check` (its evidence built as message keys, orchestrator/compliance/clauses.py),
`drill due`, `drill history` and `drill coverage` are checked too. Text a host, a device or
a library wrote (an error, a log's settings) is shown after `原文：` in quotes: quoted, it
is code to the check.

Bad-input error lines (`file:line: field: what is expected`) stay English in every
language: they are printed before the language is known (the inventory that names it may be
the bad input) and are made of paths, field names and schema words
(test_input_errors_are_english_by_design below).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import string
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reports"))
from zh_words import foreign_words

from orchestrator.cli import main
from orchestrator.compliance.clauses import TITLES
from orchestrator.lab.testing import make_lab_inventory, running_lab
from orchestrator.model.i18n import LABELS
from orchestrator.model.i18n_tasks import TASK_LABELS

REPO = Path(__file__).resolve().parents[2]
DRILL = "carrier-outage"
LOG_MARK = LABELS["console_log"][0].split("{", 1)[0]


def _call(*args: str) -> tuple[int, str, str]:
    """The exit code, stdout and stderr together (what the operator sees), stdout alone."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue() + err.getvalue(), out.getvalue()


def _identifiers(inventory: Path, project: Path) -> set[str]:
    from orchestrator.config.inventory import load_inventory

    inv = load_inventory(inventory)
    ids = {inv.environment.name, inv.driver}
    ids.update(c.id for c in inv.centres)
    ids.update(c.id for c in inv.carriers)
    for ln in inv.lines:
        ids.update(x for x in (ln.id, ln.router, ln.interface) if x)
    for g in inv.gateways:
        ids.update(x for x in (g.id, g.host, g.config_format) if x)
    for path in (project / "drills").glob("*.yaml"):
        ids.add(path.stem)
        d = yaml.safe_load(path.read_text(encoding="utf-8"))
        ids.update(d.get("spec") or ())
        params = d.get("params") or {}
        ids.update(params)  # parameter names, defaults and choices: the drill file's words
        ids.update(str(p.get("default")) for p in params.values())
        ids.update(str(c) for p in params.values() for c in p.get("choices") or ())
    ids.update(k[4:] for k in LABELS if k.startswith("obj_"))  # objective ids
    ids.update(TITLES)  # clause ids (docs/spec.md's R-…, and drill's own DRILL-ARCHIVE row)
    return ids


_CODE = (re.compile(r"`[^`]*`"), re.compile(r"\{.*\}"), re.compile(r"\[[^\]\u4e00-\u9fff]*\]"),
         re.compile(r'"[^"]*"'), re.compile(r"\S*/\S*"), re.compile(r"^\s*[+-] .*$", re.M),
         re.compile(r"^\s*--- .*$", re.M), re.compile(r"[\w.-]+\.(ya?ml|xml|json|jsonl|md|html|csv)\b"),
         re.compile(r"[\w.]+=[^\s,，；]+"),  # file names; parameters as name=value
         re.compile(r"\d{8}T\d{6}Z-[\w-]+|\d{4}-\d\d-\d\dT[\d:.]+Z"),  # run ids, ISO times
         re.compile(r"[\w.-]+@[\w.-]+"),  # user@host
         re.compile(r"\bSHA256:\S+"),  # an SSH host key's fingerprint
         re.compile(r"\b[A-Z]{2}-\d{6}\b"))  # a lab session's id (`drill lab status`)


def prose(text: str) -> str:
    """The text a Chinese reader reads as prose: code, paths and marked log lines out."""
    text = "\n".join(ln for ln in text.splitlines() if LOG_MARK not in ln)
    for pattern in _CODE:
        text = pattern.sub(" ", text)
    return text


def english(text: str, ids: set[str]) -> list[str]:
    return sorted(set(foreign_words(prose(text), ids)))


# A shipped-playbook drill with Chinese step names and few steps (the lab run's cost):
# cut one carrier, wait, hold 1 s, restore, and the failback the run adds (repoint.yml).
ZH_DRILL = """\
id: zh-console
title: {zh: 终端中文测试演练, en: Terminal language test drill}
description: {zh: 测试, en: test}
spec: [R-NET-1]
cadence: quarterly
params:
  carrier: {type: carrier, default: CT}
targets:
  trading: {rto: 30s}
  market_data: {rto: 30s}
  settlement: {rto: 30s}
  no_double_login: true
abort: {blast_radius: true, recovery_margin: 10s}
failback: true
phases:
  fault:
    - name: {zh: "中断运营商 {{ carrier }} 的全部线路", en: "Cut carrier {{ carrier }}"}
      playbook: line.yml
      vars: {lines: "{{ lines_of_carrier(carrier) }}", state: down}
      effect: {lines_down: "{{ lines_of_carrier(carrier) }}"}
      timeout: 120s
  recovery:
    - name: {zh: 等待全部受影响网关恢复业务, en: Wait until restored}
      wait: {until: all_restored, timeout: 60s}
  hold:
    - name: {zh: 保持观察, en: Soak}
      wait: {for: 1s, while: no_new_loss}
  restore:
    - name: {zh: "恢复运营商 {{ carrier }} 的全部线路", en: "Restore carrier {{ carrier }}"}
      playbook: line.yml
      vars: {lines: "{{ lines_of_carrier(carrier) }}", state: up}
      effect: {lines_up: "{{ lines_of_carrier(carrier) }}"}
      timeout: 120s
    - name: {zh: 确认全部网关已登录, en: Every gateway logged in}
      wait: {until: all_logged_in, timeout: 60s}
"""


@pytest.fixture(scope="module", name="project")
def project_fixture(tmp_path_factory):
    """A drill project (the shipped drills and playbooks, and ZH_DRILL), a lab inventory
    (not started) and a DRILL_HOME; the identifiers of them all."""
    tmp = tmp_path_factory.mktemp("zhterm")
    mp = pytest.MonkeyPatch()
    mp.setenv("DRILL_HOME", str(tmp / "home"))
    project = tmp / "project"
    for folder in ("drills", "playbooks"):
        shutil.copytree(REPO / folder, project / folder)
    (project / "drills" / "zh-console.yaml").write_text(ZH_DRILL, encoding="utf-8")
    (project / "inventories").mkdir()
    inv = make_lab_inventory(tmp / "inv", gateways=5)
    try:
        yield tmp, project, inv, _identifiers(inv, project)
    finally:
        mp.undo()


def _kill_after_the_fault(tmp: Path, args: tuple[str, ...], deadline_s: float = 120.0) -> None:
    """`drill run` as a process, parked once its fault step ended (the engine's test hook),
    then SIGKILLed: an unfinished run with its line down, for `drill recover`."""
    import signal
    import subprocess
    import time

    pause = tmp / "pause"
    env = dict(os.environ, DRILL_DEBUG_PAUSE_AT="fault:0:end", DRILL_DEBUG_PAUSE_FILE=str(pause))
    proc = subprocess.Popen([sys.executable, "-c", "import sys; from orchestrator.cli import main; "
                             "sys.exit(main(sys.argv[1:]))", *args], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        end = time.monotonic() + deadline_s
        while not pause.exists():
            assert proc.poll() is None, proc.stderr.read().decode(errors="replace")[-3000:]
            assert time.monotonic() < end, "the run did not reach the end of its fault step"
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        pause.unlink(missing_ok=True)


@pytest.fixture(scope="module", name="zh_env")
def zh_env_fixture(project):
    """One lab, one zh run of ZH_DRILL, and every command that reads it, in zh."""
    tmp, project, inv, ids = project
    reports = tmp / "reports"
    base = ("--project", str(project))
    outputs: dict[str, tuple[int, str, str]] = {}
    at = (*base, "--inventory", str(inv))
    zh = ("--lang", "zh")
    # the lab through `drill lab up/status/down` in zh (what running_lab does, by the CLI)
    outputs["lab-up"] = _call("lab", "up", *zh, *at)
    try:
        assert outputs["lab-up"][0] == 0, outputs["lab-up"]
        outputs["lab-up-again"] = _call("lab", "up", *zh, *at)
        outputs["lab-status"] = _call("lab", "status", *zh, *at)
        outputs["run"] = _call("run", "zh-console", *zh, "--yes", "--reports", str(reports), *at)
        outputs["plan"] = _call("plan", "zh-console", *zh, "--no-check", *at)
        outputs["check"] = _call("check", *zh, *at)
        outputs["recover"] = _call("recover", *zh, "--reports", str(reports), *at)
        # a run killed (SIGKILL) once its fault step ended, then `drill recover` in zh
        killed_reports = tmp / "killed"
        _kill_after_the_fault(tmp, ("run", "zh-console", *zh, "--yes", "--reports", str(killed_reports), *at))
        outputs["recover-killed"] = _call("recover", *zh, "--reports", str(killed_reports), *at)
        html = next(killed_reports.glob("*/*/report.html"), None)
        outputs["recover-killed-html"] = (0, html.read_text(encoding="utf-8") if html else "", "")
        # the lab's own fault commands, each change with its time (nothing runs now)
        for name, args in (("lab-line-down", ("line", "down", "ct-nf")), ("lab-line-up", ("line", "up", "ct-nf")),
                           ("lab-service-down", ("service", "down", "BJ", "--service", "market_data")),
                           ("lab-service-up", ("service", "up", "BJ", "--service", "market_data")),
                           ("lab-centre-down", ("centre", "down", "BJ")), ("lab-centre-up", ("centre", "up", "BJ")),
                           ("lab-evidence", ("evidence", "--dest", str(tmp / "evidence"), "W000000T")),
                           ("lab-gateway-restart", ("gateway", "restart", "W000000T"))):
            outputs[name] = _call("lab", *args, *zh, *at)
    finally:
        outputs["lab-down"] = _call("lab", "down", *zh, *at)
        from orchestrator.config.inventory import load_inventory
        from orchestrator.lab.control import lab_down, lab_state_dir

        lab_down(lab_state_dir(load_inventory(inv).environment.name))  # be sure: nothing left
    run_dir = max(p for year in reports.iterdir() if year.is_dir() for p in year.iterdir() if p.is_dir())
    for fmt in ("md", "html", "csv"):
        outputs[f"report-{fmt}"] = _call("report", str(run_dir), "--format", fmt, "--lang", "zh")
    outputs["summary"] = _call("summary", "--year", run_dir.parent.name, "--lang", "zh",
                               "--format", "md", "--out", str(tmp / "summary.md"),
                               "--reports", str(reports), "--inventory", str(inv), *base)
    outputs["verify"] = _call("verify", str(run_dir))
    test = ("--include-test", "--reports", str(reports))  # the lab run is a test run
    outputs["history"] = _call("history", "--lang", "zh", *test, *base)
    outputs["due"] = _call("due", "--lang", "zh", *test, "--inventory", str(inv), *base)
    outputs["coverage"] = _call("coverage", "--year", run_dir.parent.name, "--lang", "zh", *test,
                                "--inventory", str(inv), *base)
    outputs["prune"] = _call("prune", "--older-than", "2y", "--dry-run", *zh, "--reports", str(reports), *at)
    # last: a review writes into the run folder (the reports above are of the run as it ran)
    outputs["review"] = _call("review", run_dir.name, "--reports", str(reports), *base,
                              "--root-cause", "路由跟踪间隔过长", "--followup", "缩短探测间隔|李娜|2026-12-31",
                              "--signoff", "lead=张伟")
    import getpass

    return outputs, ids | {run_dir.name, getpass.getuser()}  # the operator: a login, an id


CHECKED = ("run", "plan", "report-md", "report-html", "report-csv", "summary", "verify", "check",
           "history", "due", "coverage", "lab-up", "lab-up-again", "lab-status", "lab-down",
           "recover", "recover-killed", "prune", "review", "lab-line-down", "lab-line-up",
           "lab-service-down", "lab-service-up", "lab-centre-down", "lab-centre-up", "lab-evidence",
           "lab-gateway-restart")
EXIT_1 = {"due": "overdue drills (the other shipped drills have no run)",
          "check": "a clause the lab does not meet fails the check"}


@pytest.mark.slow(group="zh-terminal-lab-run")  # the one lab run: CI's sample always takes it
def test_every_command_after_a_zh_run_prints_no_english(zh_env):
    outputs, ids = zh_env
    run_id = next(i for i in ids if i.endswith(tuple("0123456789abcdef")) and "-zh-console-" in i)
    code, text, stdout = outputs["run"]
    assert code == 0, text
    lines = text.splitlines()
    assert any(ln.startswith("  ▶ 故障注入[0] 中断运营商") for ln in lines), text
    # each playbook task under its zh label, its status in words
    assert any(ln.strip().startswith("已变更") and "变更实验环境线路" in ln for ln in lines), text
    assert any("按主机清单（Inventory）检查请求" in ln for ln in lines), text
    assert any("生成主站服务器列表并重启实验环境网关" in ln for ln in lines), text  # the failback
    assert any(ln.strip().startswith("… 受影响网关恢复业务") for ln in lines), text
    assert stdout.splitlines()[-1].startswith("通过："), text  # the verdict line, last
    for command in CHECKED:
        code, text, _ = outputs[command]
        assert (code == 0 or (code == 1 and command in EXIT_1)) and text.strip(), (command, text)
        assert english(text, ids) == [], (command, english(text, ids), text)
    # the commands that read the run say it in Chinese (not an empty table)
    assert "本期" in outputs["due"][1] and "zh-console" in outputs["due"][1], outputs["due"][1]
    assert "演练编号" in outputs["history"][1] and run_id in outputs["history"][1], outputs["history"][1]
    assert "依据" in outputs["check"][1] and "通过" in outputs["check"][1], outputs["check"][1]
    assert "实验环境" in outputs["lab-up"][1] and "个网关已登录" in outputs["lab-status"][1]
    assert "实验环境已停止" in outputs["lab-down"][1] and "没有需要恢复的演练" in outputs["recover"][1]
    assert "保留 1 次" in outputs["prune"][1], outputs["prune"][1]  # the run: within retention
    assert "线路 ct-nf 已中断（路由黑洞）" in outputs["lab-line-down"][1], outputs["lab-line-down"][1]
    assert "中心 BJ 的行情服务已恢复，生效时间" in outputs["lab-service-up"][1], outputs["lab-service-up"][1]
    recovered = outputs["recover-killed"][1]  # the killed run: restored, checked, sealed
    assert "正在执行 2 个恢复步骤" in recovered and "已执行恢复阶段（2 个步骤）" in recovered, recovered
    assert "运行状态已恢复" in recovered and "已释放失效的环境锁" in recovered, recovered
    # and the reports recover writes are in the language the run ran in
    killed_html = outputs["recover-killed-html"][1]
    assert '<html lang="zh-CN">' in killed_html, killed_html[:300]
    assert f"整改措施 {run_id}#1：缩短探测间隔（李娜" in outputs["review"][1], outputs["review"][1]


@pytest.mark.slow(sample=False)  # by hand: Ansible's check mode of every playbook step
def test_the_plans_check_mode_results_are_in_chinese(project):
    _, folder, inv, ids = project
    with running_lab(inv, Path(os.environ["DRILL_HOME"])):
        code, text, _ = _call("plan", "zh-console", "--lang", "zh", "--project", str(folder),
                              "--inventory", str(inv))
    assert code == 0, text
    assert "检查模式：通过（" in text and "个任务）" in text, text
    assert "successful" not in text and "tasks)" not in text, text
    assert english(text, ids) == [], text


def test_check_mode_results_read_in_chinese():
    from orchestrator.cli._console import _check_text
    from orchestrator.engine.plan_detail import check_reason

    ok = {"status": "successful", "tasks": 5, "failed": []}
    bad = {"status": "failed", "tasks": 3,
           "failed": ["Check the request against the inventory: not running in lab lab"]}
    assert _check_text(ok, "zh", check_reason) == "通过（5 个任务）"
    assert _check_text(ok, "en", check_reason) == "successful (5 tasks)"
    assert _check_text(bad, "zh", check_reason) == \
        "未通过：按主机清单（Inventory）检查请求：not running in lab lab"  # the playbook's own message


@pytest.mark.parametrize("args", [("list",), ("show", "carrier-outage"), ("show", "beijing-cutover"),
                                  ("show", "zh-console"), ("plan", "carrier-outage", "--no-check"),
                                  ("plan", "centre-outage", "--no-check"),
                                  ("plan", "beijing-cutover", "--no-check")])
def test_commands_without_a_lab_print_no_english_in_zh(project, args):
    _, folder, inv, ids = project
    extra = ("--inventory", str(inv)) if args[0] == "plan" else ()
    code, text, _ = _call(*args, "--lang", "zh", "--project", str(folder), *extra)
    assert code == 0, text
    assert english(text, ids) == [], text


def test_the_console_says_aborts_interrupts_failures_and_checks_in_chinese():
    """What a run prints when it goes wrong, from its events (no lab needed)."""
    from orchestrator.engine.progress import Console, LiveProgress
    from orchestrator.journal import records as jr
    from orchestrator.journal.observations import SteadyCheck, SteadyState
    from orchestrator.model.text import Text

    out = io.StringIO()
    console = Console("zh", out)
    for event in (
            jr.PhaseStart("fault", None),
            jr.StepStart("fault", 0, Text("断线", "Cut line"), "playbook", True, None, {}),
            jr.AnsibleTask("fault[0]", "ct-router", "Change the line on its router", "shell",
                           "failed", None, None, 0.4, None, ""),
            jr.StepEnd("fault", 0, Text("断线", "Cut line"), "playbook", True, "failed", None, None,
                       1.5, "fault[0] Cut line failed: playbook line.yml failed (rc 2): failed"),
            jr.Abort("interrupted by SIGINT", "hold", None),
            jr.Abort("blast radius: W000003T is not on the predicted failed path but lost service "
                     "(link_lost {})", "recovery", None),
            jr.Abort("recovery missed its 30s deadline by more than 10s; still pending: W000000T",
                     "recovery", None),
            SteadyState("after", False, (SteadyCheck("W000001T", "centre", False, "on NF"),))):
        console(event)
    LiveProgress("zh", out).update("recovery", "all_restored", 1.0, 60.0, ["W000000T"], ["W000000T"])
    text = out.getvalue()
    assert "演练程序收到终止信号（SIGINT）" in text and "W000003T 不在预计的故障路径上" in text, text
    assert "  ▶ 故障注入[0] 断线" in text and "      失败" in text and "在路由器上变更线路" in text, text
    assert english(text.replace("Cut line", ""), {"W000000T", "W000001T", "W000003T", "NF",
                                                   "ct-router", "link_lost"}) == [], text
    # the signal during restore and the interrupt lines are the tables' too
    for key in ("console_interrupted", "console_interrupted_unchanged", "signal_restore_running"):
        assert english(LABELS[key][0].format(signal="SIGINT"), set()) == [], key


def _playbook_tasks() -> dict[str, list[str]]:
    """Every task name under playbooks/: name -> the files naming it."""
    found: dict[str, list[str]] = {}

    def walk(node, path: str, play: bool) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item, path, play)
        elif isinstance(node, dict):
            if isinstance(node.get("name"), str) and not (play and "hosts" in node):
                found.setdefault(node["name"], []).append(path)
            for key in ("tasks", "pre_tasks", "post_tasks", "handlers", "block", "rescue", "always"):
                if key in node:
                    walk(node[key], path, False)

    for path in sorted((REPO / "playbooks").rglob("*.y*ml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(doc, list):
            walk(doc, str(path.relative_to(REPO)), True)
    return found


def test_every_playbook_task_has_a_zh_label_in_the_glossarys_words():
    tasks = _playbook_tasks()
    assert len(tasks) > 40, tasks  # the walk finds the shipped playbooks' tasks
    missing = {name: files for name, files in tasks.items() if name not in TASK_LABELS}
    assert not missing, f"tasks without a zh label in orchestrator/model/i18n_tasks.py: {missing}"
    assert not set(TASK_LABELS) - set(tasks), "labels of tasks no playbook names any more"
    for name, zh in TASK_LABELS.items():
        assert "{" not in name, name  # a templated name would never match its key
        assert foreign_words(zh) == [], (name, zh)


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def test_every_message_key_has_a_zh_and_an_en_text():
    for key, (zh, en) in LABELS.items():
        assert zh.strip() and en.strip(), key
        assert _fields(zh) == _fields(en), key
        drivers = {"lab", "linux", "manual"}  # driver ids, as the inventory names them
        assert foreign_words(prose(re.sub(r"\{\w+\}", " ", zh)), drivers) == [], (key, zh)


def test_input_errors_are_english_by_design(tmp_path):
    """A bad --set is bad input: one `field: expected` line, exit 2, in English in every
    language (module docstring), and nothing else printed."""
    code, text, _ = _call("plan", DRILL, "--lang", "zh", "--set", "hold", "--project", str(REPO))
    assert code == 2
    assert text.strip().splitlines() == ["error: --set: hold: expected NAME=VALUE"], text


def test_refusals_say_the_lock_the_unfinished_run_and_the_gate_in_chinese(tmp_path):
    """The engine's refusals (its own English, from the real code paths) on a zh terminal."""
    from orchestrator.cli import _error_line
    from orchestrator.engine.lock import EnvironmentLock
    from orchestrator.model.i18n_terminal import reason_text

    held = EnvironmentLock(tmp_path, "prod")
    held.acquire("20261205T010203Z-carrier-outage-abc123")
    try:
        with pytest.raises(Exception) as refused:
            EnvironmentLock(tmp_path, "prod").acquire("other")
    finally:
        held.release()
    ids = {"prod", "carrier-outage", "W000000T", "logged_in", "home_centre"}
    for english_text in (str(refused.value),
                         "environment 'prod' has an unfinished run (20261205T010203Z-carrier-outage-abc123, "
                         "/srv/reports/2026/x): run `drill recover` first",
                         "steady-state gate failed: W000000T: logged_in (state disconnected); W000000T: "
                         "home_centre (on NF, home FT); drill not started (journal: /srv/reports/2026/x)"):
        zh = reason_text("zh", english_text)
        assert zh != english_text, english_text
        line = _error_line(zh)
        assert line.startswith("错误：") and english(line, ids | {"NF", "FT", "disconnected"}) == [], line
    assert _error_line("bad") == "error: bad"


def test_a_flow_check_that_fails_at_the_gate_reads_in_chinese_hint_included():
    """Market data or CCNET not flowing at the gate (a drill at an hour nothing flows, the
    inventory declaring no service hours): the refusal and its hint on a zh terminal."""
    from orchestrator.cli import _error_line
    from orchestrator.engine.steady import UNDECLARED_HINT
    from orchestrator.model.i18n_terminal import reason_text

    english_text = (f"steady-state gate failed: W00001TF: md_flowing (source tcp, last tick 4.90s "
                    f"ago{UNDECLARED_HINT}); W00004JS: settlement_ok (last transfer ok: None"
                    f"{UNDECLARED_HINT}); drill not started (journal: /srv/reports/2026/x)")
    line = _error_line(reason_text("zh", english_text))
    ids = {"W00001TF", "W00004JS", "md_flowing", "settlement_ok", "tcp"}
    assert line.startswith("错误：") and english(line, ids) == [], line
    assert "4.90 秒前" in line and "无记录" in line and line.count("drill.service_hours") == 2
