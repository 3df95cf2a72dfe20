"""Gateway profiles and `drill profile check` (issue 14): the one reader, the line parser."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from orchestrator.cli import main
from orchestrator.config.profile import load_profile
from orchestrator.errors import InputError
from orchestrator.probes.gateway_log import ClockCorrection, LineSplitter, LogParser, replay

REPO = Path(__file__).resolve().parents[2]
LAB_PROFILE = REPO / "profiles" / "lab-gateway.yaml"

# A day of a vendor gateway's log, as the vendor writes it: local time, Chinese, CRLF.
VENDOR_LOG = """\
2026-12-04 09:14:59.870 [信息] 网关编号: 000123 进程启动 版本 3.2.1
2026-12-04 09:15:00.012 [信息] 正在连接 交易主机 198.18.1.10:9000
2026-12-04 09:15:00.131 [信息] 登录成功 会话: A77F 服务器 198.18.1.10:9000
2026-12-04 10:02:11.504 [警告] 心跳超时 链路中断
2026-12-04 10:02:11.990 [信息] 切换服务器 198.18.2.10:9000
2026-12-04 10:02:12.020 [错误] 登录被拒绝: 重复登录
2026-12-04 10:02:13.250 [信息] 登录成功 会话: B001 服务器 198.18.2.10:9000
2026-12-04 10:02:13.900 [信息] 行情恢复 序号: 4711
2026-12-04 10:05:00.000 [信息] 文件接收完成: zqjsmx.dbf
无时间的续行 登录成功 (ignored: no time of its own)
"""


def _shanghai_ns(text: str) -> int:
    dt = datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    return int(dt.replace(microsecond=0).timestamp()) * 10**9 + dt.microsecond * 1000


@pytest.fixture(name="gb_log")
def gb_log_fixture(tmp_path):
    path = tmp_path / "gateway.log"
    path.write_bytes(VENDOR_LOG.replace("\n", "\r\n").encode("gb18030"))
    return path


def test_lab_profile_reads():
    prof = load_profile(LAB_PROFILE)
    assert prof.name == "lab-gateway" and prof.encoding == "gb18030"
    assert prof.detects_double_logon
    assert {e.name for e in prof.events} >= {"logged_in", "link_lost", "md_resumed"}


def test_gb18030_crlf_log_gives_the_expected_events(gb_log, capsys):
    assert main(["profile", "check", str(LAB_PROFILE), str(gb_log), "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["line"], r["event"], r["type"]) for r in rows] == [
        (2, "connecting", "connecting"), (3, "logged_in", "login"), (4, "link_lost", "link_down"),
        (5, "switching", "switching"), (6, "logon_refused", "logon_refused"),
        (7, "logged_in", "login"), (8, "md_resumed", "md_flow"), (9, "file_received", "transfer")]
    assert {r["gateway"] for r in rows} == {"000123"}
    assert rows[1]["ts_ns"] == _shanghai_ns("2026-12-04 09:15:00.131")
    assert rows[1]["time"] == "2026-12-04T01:15:00.131000000Z"
    assert rows[1]["data"]["session_id"] == "A77F"
    assert rows[1]["data"]["address"] == "198.18.1.10:9000"
    assert rows[2]["data"]["reason"] == "心跳超时"
    assert rows[6]["data"]["state"] == "flowing" and rows[6]["data"]["seq"] == 4711
    assert rows[7]["data"]["file"] == "zqjsmx.dbf" and rows[7]["data"]["ok"] is True


def test_profile_check_prints_a_table(gb_log, capsys):
    assert main(["profile", "check", str(LAB_PROFILE), str(gb_log)]) == 0
    out = capsys.readouterr().out
    assert "2026-12-04T02:02:11.504000000Z" in out and "link_lost" in out
    assert out.strip().splitlines()[-1].startswith("8 event(s)")
    assert "gateway id(s): 000123" in out


def test_malformed_profile_names_every_problem_with_file_and_line(tmp_path, gb_log, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("profile: x\n"
                   "encoding: latin1\n"
                   "timestamp:\n"
                   "  regex: '(?P<when>\\d+)'\n"
                   "  format: '%H'\n"
                   "  zone: Mars/Base\n"
                   "identity: 'id (\\S+)'\n"
                   "events:\n"
                   "  logged_in: '登录['\n"
                   "  lost: 断开\n", encoding="utf-8")
    assert main(["profile", "check", str(bad), str(gb_log)]) == 2
    err = capsys.readouterr().err
    for expected in (f"{bad}:2: encoding: expected one of: utf-8, gb18030",
                     f"{bad}:4: timestamp.regex: expected a regex with a named group (?P<ts>",
                     f"{bad}:6: timestamp.zone: expected an IANA zone",
                     f"{bad}:7: identity: expected a regex with a named group (?P<gateway>",
                     f"{bad}:8: events.link_lost: required; missing",
                     f"{bad}:9: events.logged_in: expected a Python regex",
                     f"{bad}:10: events.lost: unknown key"):
        assert expected in err, err
    assert "Traceback" not in err
    with pytest.raises(InputError) as e:
        load_profile(bad)
    assert len(e.value.problems) == 7


def test_lines_split_across_reads_and_clock_offset_applied():
    prof = load_profile(LAB_PROFILE)
    raw = VENDOR_LOG.replace("\n", "\r\n").encode("gb18030")
    splitter = LineSplitter(prof.encoding)
    lines = []
    for i in range(0, len(raw), 7):  # chunks that split multi-byte characters and CRLF
        lines += splitter.feed(raw[i:i + 7])
    assert lines == VENDOR_LOG.splitlines()
    parser = LogParser(prof, ClockCorrection(offset_ns=250_000_000, uncertainty_ns=3_000_000),
                       centres={"198.18.1.10:9000": "FT", "198.18.2.10": "NF"})
    events = [e for line in lines for e in parser.parse(line)]
    login = [e for e in events if e.type == "login"]
    assert login[0].ts_ns == _shanghai_ns("2026-12-04 09:15:00.131") - 250_000_000
    assert login[0].uncertainty_ms == pytest.approx(4.0)  # 3 ms offset + 1 ms resolution
    assert [e.data["centre"] for e in login] == ["FT", "NF"]
    assert replay(prof, raw)[0].gateway == "000123"


def test_utf8_lf_profile_with_fixed_offset_and_service(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("profile: other\nencoding: utf-8\n"
                    "timestamp: {regex: '^\\[(?P<ts>[^]]+)\\]', format: '%d/%m/%Y %H:%M:%S', zone: '+08:00'}\n"
                    "identity: 'gw=(?P<gateway>\\w+)'\n"
                    "events:\n  logged_in: {pattern: 'LOGON OK', service: trading}\n"
                    "  link_lost: 'LINK DOWN'\n", encoding="utf-8")
    prof = load_profile(path)
    raw = b"[04/12/2026 09:15:00] gw=T9 LOGON OK\n[04/12/2026 09:16:00] LINK DOWN\n"
    events = replay(prof, raw)
    assert [(e.type, e.gateway) for e in events] == [("login", "T9"), ("link_down", "T9")]
    assert events[0].ts_ns == _shanghai_ns("2026-12-04 09:15:00.000")
    assert events[0].uncertainty_ms == 1000.0  # whole seconds
    md_parser = LogParser(prof, service="market_data")
    assert md_parser.parse("[04/12/2026 09:15:00] gw=T9 LOGON OK") == []
