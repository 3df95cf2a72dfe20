"""A lab gateway's vendor-style log, beside its UTC log: what SSCC's gateway software
writes, so drill's log observer is exercised without root (profiles/lab-gateway.yaml).

Local time (Asia/Shanghai) with milliseconds, Chinese messages, GB18030, CRLF; rotated to
`vendor.log.1` when it passes `DRILL_LAB_VENDOR_LOG_BYTES` (default 1 MiB). Every file
starts with the gateway's id (`网关编号: …`), as vendor logs name their gateway.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

NAME = "vendor.log"
ZONE = ZoneInfo("Asia/Shanghai")
DEFAULT_MAX_BYTES = 1 << 20
DUPLICATE = "login not allowed now"  # the exchange's refusal of a second logon (lab/wire.py)
LOST = {"heartbeat_timeout": "心跳超时", "reset": "连接断开", "connect_failed": "链路中断 连接失败",
        "logon_timeout": "链路中断 登录超时", "logon_refused": "链路中断 登录被拒绝"}


def local_stamp(ns: int) -> str:
    dt = datetime.fromtimestamp(ns // 1_000_000_000, ZONE)
    return f"{dt:%Y-%m-%d %H:%M:%S}.{(ns // 1_000_000) % 1000:03d}"


class VendorLog:
    """Writes one line per gateway event in the vendor's wording; rotates by size."""

    def __init__(self, path: Path, gateway: str, kind: str,
                 servers: Mapping[str, str], max_bytes: int | None = None) -> None:
        self.path = Path(path)
        self.gateway = gateway
        self.kind = kind
        self.servers = dict(servers)  # centre -> "address:port"
        env = os.environ.get("DRILL_LAB_VENDOR_LOG_BYTES", "")
        self.max_bytes = max_bytes or (int(env) if env.isdigit() else DEFAULT_MAX_BYTES)
        self._fh = self._open()

    def _open(self):
        fh = open(self.path, "ab", buffering=0)  # noqa: SIM115 - kept open, closed in close()
        fh.write(self._encode(time.time_ns(), "信息", f"网关编号: {self.gateway} 日志开始 类型 {self.kind}"))
        return fh

    @staticmethod
    def _encode(ns: int, level: str, text: str) -> bytes:
        return f"{local_stamp(ns)} [{level}] {text}\r\n".encode("gb18030")

    def write(self, ns: int, level: str, text: str) -> None:
        self._fh.write(self._encode(ns, level, text))
        if self._fh.tell() >= self.max_bytes:
            self._fh.close()
            os.replace(self.path, self.path.with_name(self.path.name + ".1"))
            self._fh = self._open()

    def event(self, ns: int, type_: str, data: Mapping[str, Any]) -> None:
        """The vendor's line for one of the gateway's monitor events (none for the rest)."""
        line = self._line(type_, data)
        if line is not None:
            self.write(ns, *line)

    def _line(self, type_: str, data: Mapping[str, Any]) -> tuple[str, str] | None:
        if type_ == "state" and data.get("to") == "connecting":
            centre = str(data.get("reason", "")).removeprefix("server ")
            return "信息", f"正在连接 主机 {centre} {self.servers.get(centre, '?')}"
        if type_ == "login":
            return "信息", f"登录成功 会话: {data.get('session_id')} 服务器 {data.get('address')}"
        if type_ == "link_down":
            return "警告", f"{LOST.get(str(data.get('reason')), '链路中断')} 主机 {data.get('centre')}"
        if type_ == "login_refused":
            why = "重复登录" if data.get("reason") == DUPLICATE else str(data.get("reason"))
            return "错误", f"登录被拒绝: {why}"
        if type_ == "md_flow":
            if data.get("state") == "flowing":
                return "信息", f"行情恢复 来源 {data.get('source')} 序号: {data.get('seq')}"
            return "警告", f"行情中断 来源 {data.get('source')}"
        if type_ == "md_source":
            return "信息", f"行情来源切换 {data.get('from')} -> {data.get('to')}"
        if type_ == "transfer":
            if data.get("ok"):
                return "信息", f"文件接收完成: {data.get('file')} 字节 {data.get('bytes')}"
            return "错误", f"文件接收失败: {data.get('file')}"
        return None

    def close(self) -> None:
        self._fh.close()
