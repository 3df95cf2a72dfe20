"""The `host` observer's parts without a lab: the local follower across rotation, the log
source feeding a sink, identity, and sessions counted from a log (issue 14)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from orchestrator.config.profile import load_profile
from orchestrator.probes.gateway_log import replay
from orchestrator.probes.host_observer import (
    ROTATED_SUFFIX,
    LocalLogAccess,
    LogSource,
    sessions_in_log,
)
from orchestrator.probes.log import LocalLogFollower, LogTail

REPO = Path(__file__).resolve().parents[2]
PROFILE = load_profile(REPO / "profiles" / "lab-gateway.yaml")


def _line(text: str, ms: int) -> bytes:
    return f"2026-12-05 10:00:{ms // 1000:02d}.{ms % 1000:03d} [信息] {text}\r\n".encode("gb18030")


def _wait(cond, what: str, deadline_s: float = 10.0):
    end = time.monotonic() + deadline_s
    while not (value := cond()):
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.01)
    return value


class Collected:
    """A sink that keeps what a source delivers (the engine's tracker does more)."""

    def __init__(self) -> None:
        self.events: list = []
        self.states: list[tuple[str, bool]] = []
        self.lock = threading.Lock()

    def event(self, rec) -> None:
        with self.lock:
            self.events.append(rec)

    def connected(self, gateway: str, up: bool) -> None:
        self.states.append((gateway, up))


def test_log_tail_reads_on_across_rename_and_truncation(tmp_path):
    log = tmp_path / "vendor.log"
    log.write_bytes(b"a\n")
    tail = LogTail(log)
    assert tail.read() == b"a\n"
    with open(log, "ab") as fh:
        fh.write(b"b\n")
    os.replace(log, str(log) + ROTATED_SUFFIX)  # rotated away after one more line
    log.write_bytes(b"c\n")
    assert tail.read() == b"b\nc\n" and tail.rotations == 1
    log.write_bytes(b"")  # truncated in place (copytruncate), then written again
    assert tail.read() == b"" and tail.rotations == 2
    log.write_bytes(b"d\n")
    assert tail.read() == b"d\n"
    tail.close()


def test_log_source_follows_a_rotating_gb18030_log_and_confirms_identity(tmp_path):
    log = tmp_path / "vendor.log"
    (tmp_path / ("vendor.log" + ROTATED_SUFFIX)).write_bytes(
        _line("网关编号: W000000T 日志开始", 0) + _line("登录成功 会话: S1 服务器 127.0.0.1:7001", 10))
    log.write_bytes(_line("网关编号: W000000T 日志开始", 20))
    follower = LocalLogFollower(str(log), "gb18030", previous=str(log) + ROTATED_SUFFIX)
    source = LogSource("W000000T", PROFILE, follower, f"lab:{log}",
                       centres={"127.0.0.1:7001": "FT"})
    sink = Collected()
    source.start(sink)
    try:
        assert source.wait_identity(5.0) == "W000000T"
        _wait(lambda: sink.events, "the login from the rotated file")
        with open(log, "ab") as fh:
            fh.write(_line("心跳超时 主机 FT", 30))
        os.replace(log, str(log) + ROTATED_SUFFIX)
        log.write_bytes(_line("网关编号: W000000T 日志开始", 40)
                        + _line("登录成功 会话: S2 服务器 127.0.0.1:7001", 50))
        _wait(lambda: len(sink.events) >= 3, "the events after the rotation")
    finally:
        source.close()
    types = [(r.type, r.event["source"]) for r in sink.events]
    assert types == [("login", "gateway-log"), ("link_down", "gateway-log"), ("login", "gateway-log")]
    assert sink.events[0].data["centre"] == "FT" and sink.events[2].data["session_id"] == "S2"
    assert sink.states[0] == ("W000000T", True) and sink.states[-1] == ("W000000T", False)


def test_another_gateways_log_gives_no_events_and_its_id(tmp_path):
    log = tmp_path / "vendor.log"
    log.write_bytes(_line("网关编号: W00003TF 日志开始", 0) + _line("登录成功 会话: S1 服务器 127.0.0.1:7001", 10))
    source = LogSource("W000000T", PROFILE, LocalLogFollower(str(log), "gb18030"), f"lab:{log}")
    sink = Collected()
    source.start(sink)
    try:
        assert source.wait_identity(5.0) == "W00003TF"
        _wait(lambda: source.lines_read >= 2, "both lines read")
    finally:
        source.close()
    assert sink.events == []


def test_an_unreadable_log_is_named(tmp_path):
    from orchestrator.model.inventory import Endpoint, Gateway

    gw = Gateway("W000000T", "trading", "lab", Endpoint("127.0.0.1", 1), "x.xml",
                 observe="host", profile="lab-gateway", log="gateways/W000000T/vendor.log")
    assert "is not a readable file" in LocalLogAccess(tmp_path).unreadable(gw)


@pytest.mark.parametrize(("lines", "expected"), [
    # logged in, lost, refused once as a duplicate, logged in again: one session, one refusal
    (["登录成功 会话: A 服务器 1.1.1.1:1", "心跳超时", "登录被拒绝: 重复登录",
      "登录成功 会话: B 服务器 1.1.1.1:1"], (1, 1)),
    # a second login with the first never lost: two sessions
    (["登录成功 会话: A 服务器 1.1.1.1:1", "登录成功 会话: B 服务器 2.2.2.2:1"], (2, 0)),
    # a restart: a new connection attempt ends the old session in the gateway's view
    (["登录成功 会话: A 服务器 1.1.1.1:1", "正在连接 主机 FT 1.1.1.1:1",
      "登录成功 会话: B 服务器 1.1.1.1:1"], (1, 0)),
])
def test_sessions_counted_from_a_log(lines, expected):
    raw = b"".join(_line(text, 100 * i) for i, text in enumerate(lines))
    assert sessions_in_log(replay(PROFILE, raw)) == expected
