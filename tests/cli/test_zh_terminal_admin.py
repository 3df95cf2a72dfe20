"""The project's and the archive's own commands in zh (issue 20, model/i18n_admin.py): the
zh check of tests/cli/test_zh_terminal.py (its docstring says what it treats as code) over
`drill schedule`, `validate`, `init`, `lab down` and `lab status` with no lab, `recover` with
nothing to recover, `profile check`, `hosts trust/check`'s lines, recover's actions and
review's warning. What needs the lab (`lab up/status/down`, a run's `prune`, `review`, and
`recover` of a SIGKILLed run) is checked on test_zh_terminal.py's one lab; `drill hosts check`
on the host bed (tests/hostbed/test_cli_hosts.py)."""

from __future__ import annotations

import pytest
from test_zh_terminal import REPO, _call, _identifiers, english
from test_zh_terminal import project_fixture as project_fixture  # the same drill project, lab inventory

# `drill schedule` prints its units or cron lines on stdout: a file format (code), as written;
# with --out only their paths. What it scheduled and left out, and why, is on stderr, in zh.
# `drill profile check` prints the profile's event names and drill's event types (the words a
# profile file is written in: identifiers) and the log's own fields as name=value.

def _profile_words() -> set[str]:
    from orchestrator.config.profile import load_profile

    prof = load_profile(REPO / "profiles" / "lab-gateway.yaml")
    return {e.name for e in prof.events} | {e.event_type for e in prof.events} | {prof.encoding}


@pytest.mark.parametrize("args", [("schedule", "--emit", "cron", "--out", "{tmp}/units"),
                                  ("schedule", "--emit", "systemd", "--out", "{tmp}/units"),
                                  ("validate",), ("lab", "down"), ("recover",)])
def test_project_commands_without_a_lab_print_no_english_in_zh(project, args, tmp_path):
    _, folder, inv, ids = project
    args = tuple(a.format(tmp=tmp_path) for a in args)
    code, text, _ = _call(*args, "--lang", "zh", "--project", str(folder), "--inventory", str(inv))
    assert code == 0 and text.strip(), text
    assert english(text, ids) == [], (args, english(text, ids), text)
    if args[0] == "schedule":  # the drills it left out, and why, in Chinese
        assert "已排期：carrier-outage" in text and "未排期：beijing-cutover：步骤 " in text, text
        assert "未排期：sscc-organised-drill：组织方演练按深证通的通知时间进行" in text, text


def test_init_status_of_no_lab_and_profile_check_print_no_english_in_zh(project, tmp_path):
    _, _, inv, ids = project
    code, text, _ = _call("init", str(tmp_path / "firm"), "--lang", "zh")
    assert code == 0 and "已创建演练项目" in text and english(text, ids) == [], text
    code, text, _ = _call("lab", "status", "--lang", "zh", "--inventory", str(inv))
    assert code == 1 and text.startswith("错误：") and english(text, ids) == [], (code, text)
    log = tmp_path / "gw.log"
    log.write_bytes("2026-12-04 09:15:00.131 [信息] 登录成功 会话: A77F 服务器 198.18.1.10:9000\n"
                    "2026-12-04 10:02:11.504 [警告] 心跳超时 链路中断\n".encode("gb18030"))
    code, text, _ = _call("profile", "check", str(REPO / "profiles" / "lab-gateway.yaml"), str(log),
                          "--lang", "zh")
    assert code == 0 and "2 个事件" in text and "网关号" in text, text
    assert english(text, ids | _profile_words()) == [], (english(text, ids | _profile_words()), text)


def test_hosts_lines_read_in_chinese_and_unchanged_in_english():
    """`drill hosts trust/check`'s lines from a decision and a clock record (the SSH hosts
    they need are the bed's: tests/hostbed drives them in English)."""
    from orchestrator.adapters.hosts import TrustDecision
    from orchestrator.cli.hosts import clock_line, trust_line

    row = {"host": "gw-trade-01", "offset_ms": 1.25, "uncertainty_ms": 0.4,
           "ntp": "chrony: +0.120 ms from NTP"}
    assert clock_line(row, "en") == "ok  gw-trade-01      clock offset +1.250 ms (±0.400)  chrony: +0.120 ms from NTP"
    zh = clock_line(row, "zh")
    assert zh.startswith("正常 gw-trade-01") and "与授时服务器相差 +0.120 毫秒" in zh, zh
    assert english(zh, {"gw-trade-01"}) == [], zh
    assert english(clock_line({**row, "ntp": "timedatectl: NTPSynchronized=yes"}, "zh"), {"gw-trade-01"}) == []
    for status in ("unchanged", "added", "replaced", "rejected", "mismatch", "skipped"):
        d = TrustDecision("gw-trade-01", "198.18.1.10", "ssh-ed25519", "SHA256:abc", None, status)
        assert trust_line(d, "en").startswith(f"{status:<10} gw-trade-01"), status
        assert english(trust_line(d, "zh"), {"gw-trade-01", "ssh-ed25519"}) == [], trust_line(d, "zh")


def test_a_network_routers_row_and_the_forward_lines_read_in_chinese():
    """`drill hosts check`'s row for a network router (no login, clock not measured there)
    and `drill hosts forward`'s lines (the bed drives both in English)."""
    from orchestrator.adapters.hosts import MonitorForward
    from orchestrator.cli.hosts import clock_line, forward_line, forward_note

    row = {"host": "ct-r1", "platform": "huawei_vrp", "offset_ms": None, "clock": "not measured"}
    assert clock_line(row, "en").startswith("ok  ct-r1            host key trusted, login not tested (huawei_vrp)")
    ids = {"ct-r1", "huawei_vrp", "gw-trade-01", "W000000T"}
    assert english(clock_line(row, "zh"), ids) == [], clock_line(row, "zh")
    f = MonitorForward("W000000T", "gw-trade-01", "127.0.0.1", 7100)
    assert forward_line(f, "en") == "forwarding 127.0.0.1:7100 → gw-trade-01:127.0.0.1:7100 (W000000T)"
    assert english(forward_line(f, "zh"), ids) == [], forward_line(f, "zh")
    note = forward_note("forward 127.0.0.1:7100 via gw-trade-01: connected again", "zh")
    assert note.startswith('转发连接，原文："') and english(note, ids) == [], note


def test_every_recover_action_reads_in_chinese():
    """Each of recover's English actions (engine/recover.py's wording, the en text of its key)
    is known to recover_text; the SIGKILLed run above drives the real ones it meets."""
    from orchestrator.model.i18n_admin import ADMIN, recover_text

    sample = {"pgid": "4242", "step": "fault[0]", "n": "3", "path": "/srv/home/fallback/x.jsonl",
              "error": "OSError: [Errno 28] No space left on device", "changes": "line ct-ft up",
              "failed": "; failed: restore[1]", "why": "W000000T: logged_in (state down)",
              "holder": "run 20261205T010203Z-carrier-outage-abc123 by ops@host (pid 7) since 2026-12-05T01:02:03Z"}
    keys = [k for k in ADMIN if k.startswith("rec_") and k != "rec_failed_steps"]
    assert len(keys) == 15, keys
    for key in keys:
        en = ADMIN[key][1].format(**sample)
        zh = recover_text("zh", f"20261205T010203Z-carrier-outage-abc123: {en}")
        assert recover_text("en", en) == en
        assert english(zh, {"W000000T", "logged_in", "down", "ops"}) == [], (key, zh)  # a monitor's state: its word
        assert zh != en, key


def test_a_reviews_unsigned_warning_reads_in_chinese():
    from orchestrator.cli.review import _unsigned

    text = "render reviews/review-001.json recorded UNSIGNED: [Errno 2] No such file or directory: '/k'"
    assert _unsigned("en", text) == text
    zh = _unsigned("zh", text)
    assert "未签名" in zh and english(zh, set()) == [], zh


def test_a_production_schedule_says_its_standing_approvals_in_chinese(project, tmp_path):
    """production.example: every drill under its standing approval (a change ticket: an id)."""
    from orchestrator.config.inventory import load_inventory

    _, folder, _, _ = project
    inv = REPO / "inventories" / "production.example"
    ids = _identifiers(inv, folder) | {a.change for a in load_inventory(inv).standing_approvals}
    code, text, _ = _call("schedule", "--emit", "cron", "--out", str(tmp_path), "--lang", "zh",
                          "--project", str(folder), "--inventory", str(inv))
    assert code == 0 and "依据常设审批（变更单号 " in text, text
    assert english(text, ids) == [], (english(text, ids), text)
