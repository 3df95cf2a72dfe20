#!/usr/bin/python3
"""A vendor-style SSCC access gateway for the test bed (no code shared with orchestrator/lab).

    /usr/bin/python3 sscc_gw.py /path/to/gateway.ini

Stdlib only, run by the system python3 as a service (`sscc-gw`, an init script with
start-stop-daemon). It knows nothing of drill: no monitor API; what it does shows in its
own log (local time with milliseconds, Chinese messages, GB18030, CRLF; rotated by size),
its sockets and its receive directory. One process serves one service of one gateway id:
it walks the service's server list in the order SSCC assigned (Server1, Server2, …),
logs in, heartbeats, declares the link lost on heartbeat timeout or reset, and moves to
the next server. A market-data gateway joins the multicast (satellite) group while its
TCP feed is down; a settlement gateway fetches the CCNET test file every second into its
receive directory. Wire protocol: the bed's exchange side (tests/hostbed/centre.py).
"""

from __future__ import annotations

import asyncio
import base64
import configparser
import contextlib
import hashlib
import os
import signal
import socket
import struct
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

VERSION = "3.2.1"
SERVICE_SECTIONS = {"trading": "Trading", "market_data": "MarketData", "settlement": "Settlement"}
SERVICE_NAMES = {"trading": "交易", "market_data": "行情", "settlement": "结算"}
DUPLICATE = "login not allowed now"
TEST_FILE = "test.dat"


class ConfigError(Exception):
    pass


class Config:
    def __init__(self, path: Path):
        cp = configparser.ConfigParser(inline_comment_prefixes=(";", "#"), interpolation=None)
        cp.optionxform = str  # keys keep their case, as the vendor writes them
        try:
            with open(path, encoding="gb18030") as fh:
                cp.read_file(fh)
        except (OSError, configparser.Error) as e:
            raise ConfigError(f"{path}: {e}") from None
        self.path = path
        self.raw = path.read_bytes()
        sysx = cp["System"] if cp.has_section("System") else {}
        self.gateway_id = sysx.get("GatewayID", "").strip()
        self.service = sysx.get("Service", "trading").strip()
        self.tz = sysx.get("TimeZone", "Asia/Shanghai").strip()
        if not self.gateway_id or self.service not in SERVICE_SECTIONS:
            raise ConfigError(f"{path}: [System] needs GatewayID and Service (trading|market_data|settlement)")
        sect = cp[SERVICE_SECTIONS[self.service]] if cp.has_section(SERVICE_SECTIONS[self.service]) else {}
        numbered = sorted((int(k[6:]), v) for k, v in sect.items() if k.startswith("Server") and k[6:].isdigit())
        self.servers: list[tuple[str, int]] = []
        for _, value in numbered:
            host, _, port = value.strip().rpartition(":")
            self.servers.append((host, int(port)))
        if not self.servers:
            raise ConfigError(f"{path}: [{SERVICE_SECTIONS[self.service]}] lists no Server1=address:port")
        self.mcast = None
        if sect.get("McastGroup"):
            self.mcast = (sect["McastGroup"].strip(), int(sect.get("McastPort", "7400")),
                          sect.get("McastInterface", "0.0.0.0").strip())
        self.recv_dir = Path(sect.get("RecvDir", "recv").strip())
        self.recv_keep = int(sect.get("RecvKeep", "20"))
        link = cp["Link"] if cp.has_section("Link") else {}
        self.hb_interval = int(link.get("HeartbeatInterval", "1000")) / 1000
        self.hb_timeout = int(link.get("HeartbeatTimeout", "5000")) / 1000
        self.reconnect = int(link.get("ReconnectInterval", "1000")) / 1000
        self.connect_timeout = int(link.get("ConnectTimeout", "3000")) / 1000
        log = cp["Log"] if cp.has_section("Log") else {}
        self.log_file = Path(log.get("LogFile", "gateway.log").strip())
        self.log_max = int(log.get("MaxSize", "10485760"))
        self.log_backups = int(log.get("Backups", "3"))


def _zone(name: str):
    try:
        from zoneinfo import ZoneInfo
        return ZoneInfo(name)
    except Exception:  # no tz database: China Standard Time has no DST
        return timezone(timedelta(hours=8))


class Log:
    """The gateway's log: `YYYY-MM-DD HH:MM:SS.mmm [LEVEL] message`, GB18030, CRLF, rotated by size."""

    def __init__(self, cfg: Config):
        self.path = cfg.log_file
        self.max = cfg.log_max
        self.backups = cfg.log_backups
        self.tz = _zone(cfg.tz)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = self._open()

    def _open(self):
        return open(self.path, "a", encoding="gb18030", errors="replace", newline="\r\n")

    def write(self, level: str, msg: str) -> None:
        now = datetime.fromtimestamp(time.time(), self.tz)
        self.fh.write(f"{now:%Y-%m-%d %H:%M:%S}.{now.microsecond // 1000:03d} [{level:<5}] {msg}\n")
        self.fh.flush()
        if self.fh.tell() >= self.max:
            self.rotate()

    def rotate(self) -> None:
        self.fh.close()
        for i in range(self.backups - 1, 0, -1):
            src = self.path.with_name(f"{self.path.name}.{i}")
            if src.exists():
                src.replace(self.path.with_name(f"{self.path.name}.{i + 1}"))
        if self.backups > 0:
            self.path.replace(self.path.with_name(f"{self.path.name}.1"))
        else:
            self.path.unlink()
        self.fh = self._open()

    def info(self, msg: str) -> None:
        self.write("INFO", msg)

    def warn(self, msg: str) -> None:
        self.write("WARN", msg)

    def error(self, msg: str) -> None:
        self.write("ERROR", msg)


class LinkLost(Exception):
    pass


class Mcast(asyncio.DatagramProtocol):
    def __init__(self, gw: Gateway):
        self.gw = gw

    def datagram_received(self, data: bytes, addr) -> None:  # type: ignore[override]
        for line in data.split(b"\n"):
            if line.startswith(b"T "):
                self.gw.tick(line, "multicast")


class Gateway:
    def __init__(self, cfg: Config):
        self.cfg = cfg
        self.log = Log(cfg)
        self.loop = asyncio.get_running_loop()
        self.stop = asyncio.Event()
        self.last_rx = 0.0
        self.last_seq: dict[int, int] = {}
        self.md_source = "无"
        self.md_flowing = False
        self.md_last = 0.0
        self.md_interval = 0.05
        self.mcast_sock: socket.socket | None = None
        self.mcast_transport: asyncio.DatagramTransport | None = None
        self.pending: asyncio.Future | None = None
        self.variant = "standard"

    @property
    def svc(self) -> str:
        return SERVICE_NAMES[self.cfg.service]

    async def run(self) -> None:
        cfg = self.cfg
        for sig in (signal.SIGTERM, signal.SIGINT):
            self.loop.add_signal_handler(sig, self.stop.set)
        self.log.info(f"网关程序启动 版本：{VERSION} 进程号：{os.getpid()}")
        self.log.info(f"网关编号：{cfg.gateway_id} 服务：{self.svc} 配置文件：{cfg.path} "
                      f"校验：{hashlib.sha256(cfg.raw).hexdigest()[:16]}")
        self.log.info("服务器列表：" + "，".join(f"{h}:{p}" for h, p in cfg.servers))
        walker = self.loop.create_task(self.walk())
        stall = self.loop.create_task(self.watch_md()) if cfg.service == "market_data" else None
        await self.stop.wait()
        for t in (walker, stall):
            if t is not None:
                await cancelled(t)
        self.mcast_leave()
        self.log.info("网关程序停止")

    async def walk(self) -> None:
        i, previous = 0, None
        servers = self.cfg.servers
        while True:
            server = servers[i % len(servers)]
            if previous is not None and previous != server:
                self.log.warn(f"切换服务器 {previous[0]}:{previous[1]} -> {server[0]}:{server[1]}")
            previous = server
            with contextlib.suppress(LinkLost):
                await self.session(server, i % len(servers) + 1)
            if self.cfg.service == "market_data":
                self.mcast_join()
            i += 1
            await asyncio.sleep(self.cfg.reconnect)

    async def session(self, server: tuple[str, int], index: int) -> None:
        cfg, host, port = self.cfg, server[0], server[1]
        where = f"{host}:{port}"
        self.log.info(f"正在连接服务器 {where} （第{index}个，共{len(cfg.servers)}个）")
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port, limit=1 << 20),
                                                    cfg.connect_timeout)
        except (TimeoutError, OSError) as e:
            self.log.error(f"连接失败 服务器：{where} 原因：{str(e) or '连接超时'}")
            raise LinkLost from None
        try:
            await self._logged_in(reader, writer, where)
        finally:
            writer.transport.abort()

    async def _logged_in(self, reader, writer, where: str) -> None:
        cfg = self.cfg
        seqs = ",".join(f"{k}:{v}" for k, v in sorted(self.last_seq.items())) or "-"
        writer.write(f"LOGON {cfg.gateway_id} {cfg.service} {seqs}\n".encode())
        try:
            answer = await asyncio.wait_for(reader.readline(), cfg.hb_timeout)
        except (TimeoutError, OSError):
            self.log.error(f"登录超时 服务器：{where}")
            raise LinkLost from None
        parts = answer.decode(errors="replace").split()
        if parts[:1] == ["LOGOUT"]:
            reason = " ".join(parts[1:])
            why = "重复登录" if reason == DUPLICATE else "服务器拒绝"
            self.log.error(f"登录被拒绝 服务器：{where} 原因：{why}（{reason}）")
            raise LinkLost
        if len(parts) < 2 or parts[0] != "LOGON_OK":
            self.log.error(f"连接断开 服务器：{where} 原因：登录应答无效")
            raise LinkLost
        self.variant = parts[2] if len(parts) > 2 else "standard"
        if len(parts) > 3:
            self.md_interval = 1 / float(parts[3])
        self.log.info(f"登录成功 会话：{parts[1]} 服务器：{where}")
        self.last_rx = self.loop.time()
        if cfg.service == "market_data":
            self.mcast_leave()
            self.set_md_source("TCP")
        tasks = [self.loop.create_task(self._heartbeat(writer))]
        if cfg.service == "settlement":
            tasks.append(self.loop.create_task(self._transfers(writer)))
        try:
            await self._read(reader, where)
        finally:
            for t in tasks:
                t.cancel()

    async def _read(self, reader, where: str) -> None:
        timeout = self.cfg.hb_timeout
        while True:
            left = self.last_rx + timeout - self.loop.time()
            try:
                line = await asyncio.wait_for(reader.readline(), max(left, 0.001))
            except TimeoutError:
                if self.loop.time() - self.last_rx >= timeout:
                    self.log.error(f"心跳超时 服务器：{where} 已{int(timeout * 1000)}毫秒未收到数据，链路中断")
                    raise LinkLost from None
                continue
            except OSError as e:
                self.log.error(f"连接断开 服务器：{where} 原因：{e}")
                raise LinkLost from None
            if not line:
                self.log.error(f"连接断开 服务器：{where} 原因：对端关闭连接")
                raise LinkLost
            self.last_rx = self.loop.time()
            if line.startswith(b"T "):
                self.tick(line, "TCP")
            elif line.startswith(b"DATA ") or line.startswith(b"ERR "):
                if self.pending is not None and not self.pending.done():
                    self.pending.set_result(line)
            elif line.startswith(b"LOGOUT"):
                why = line.decode(errors="replace")[6:].strip()
                self.log.error(f"连接断开 服务器：{where} 原因：服务器要求退出（{why}）")
                raise LinkLost

    async def _heartbeat(self, writer) -> None:
        while True:
            await asyncio.sleep(self.cfg.hb_interval)
            writer.write(b"HB\n")

    # -- market data

    def set_md_source(self, source: str) -> None:
        if source != self.md_source:
            self.log.info(f"行情来源切换 {self.md_source} -> {source}")
            self.md_source = source
            self.md_flowing = False

    def tick(self, line: bytes, source: str) -> None:
        if source != self.md_source:
            return
        parts = line.split()
        try:
            ch, seq = int(parts[1]), int(parts[2])
        except (IndexError, ValueError):
            return
        self.md_last = self.loop.time()
        if seq > self.last_seq.get(ch, 0) or source == "multicast":
            self.last_seq[ch] = seq
        if not self.md_flowing:
            self.md_flowing = True
            src = "组播" if source == "multicast" else "TCP"
            self.log.info(f"行情恢复 来源：{src} 通道：{ch} 序号：{seq}")

    async def watch_md(self) -> None:
        while True:
            await asyncio.sleep(0.05)
            quiet = max(5 * self.md_interval, 0.25)
            if self.md_flowing and self.loop.time() - self.md_last > quiet:
                self.md_flowing = False
                last = ",".join(f"{k}:{v}" for k, v in sorted(self.last_seq.items()))
                self.log.warn(f"行情中断 来源：{self.md_source} 最后序号：{last}")

    def mcast_join(self) -> None:
        if self.cfg.mcast is None or self.mcast_transport is not None:
            return
        group, port, iface = self.cfg.mcast
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((group, port))
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                        struct.pack("4s4s", socket.inet_aton(group), socket.inet_aton(iface)))
        sock.setblocking(False)
        self.mcast_sock = sock
        self.set_md_source("multicast")
        self.log.warn(f"加入组播 {group}:{port} 接口：{iface}（TCP行情不可用，启用组播备份）")

        async def attach() -> None:
            self.mcast_transport, _ = await self.loop.create_datagram_endpoint(lambda: Mcast(self), sock=sock)

        self.loop.create_task(attach())
        self.mcast_transport = True  # type: ignore[assignment]  # joining

    def mcast_leave(self) -> None:
        if self.mcast_transport is None:
            return
        if self.mcast_transport is not True:
            self.mcast_transport.close()
        elif self.mcast_sock is not None:
            self.mcast_sock.close()
        self.mcast_transport = self.mcast_sock = None
        group, port, _ = self.cfg.mcast
        self.log.info(f"退出组播 {group}:{port}")

    # -- settlement (CCNET)

    async def _transfers(self, writer) -> None:
        while True:
            self.pending = self.loop.create_future()
            writer.write(f"GET {TEST_FILE}\n".encode())
            try:
                line = await asyncio.wait_for(self.pending, self.cfg.hb_timeout)
            except TimeoutError:
                self.log.warn(f"文件接收超时：{TEST_FILE}")
            else:
                self._received(line)
            await asyncio.sleep(1.0)

    def _received(self, line: bytes) -> None:
        parts = line.split()
        if len(parts) < 5 or parts[0] != b"DATA":
            self.log.error(f"文件接收失败：{line.decode(errors='replace').strip()}")
            return
        payload = base64.b64decode(parts[4])
        digest = hashlib.sha256(payload).hexdigest()
        if self.variant != "standard" or digest != parts[3].decode():
            self.log.error(f"文件校验失败：{TEST_FILE}")
            return
        d = self.cfg.recv_dir / datetime.now(self.log.tz).strftime("%Y%m%d")
        d.mkdir(parents=True, exist_ok=True)
        now = datetime.now(self.log.tz)
        path = d / f"{now:%H%M%S}{now.microsecond // 1000:03d}_{TEST_FILE}"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(payload)
        tmp.replace(path)
        self.log.info(f"文件接收完成：{path} 大小：{len(payload)}字节 校验：{digest[:16]}")
        for old in sorted(d.glob(f"*_{TEST_FILE}"))[:-self.cfg.recv_keep]:
            old.unlink(missing_ok=True)


async def cancelled(task: asyncio.Task) -> None:
    """Cancel task and wait until it has ended.

    Python 3.11's asyncio.wait_for returns the result, swallowing the cancellation, when
    the awaited read completes in the same loop step (a heartbeat arriving as SIGTERM does),
    so one cancel() can be lost: ask again until the task is done.
    """
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=0.1)
    if not task.cancelled():
        task.result()  # an error of its own is raised, as `await task` would


async def _main(path: Path) -> None:
    await Gateway(Config(path)).run()


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("用法: sscc_gw.py gateway.ini", file=sys.stderr)
        return 2
    try:
        asyncio.run(_main(Path(argv[0])))
    except ConfigError as e:
        print(f"配置错误: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
