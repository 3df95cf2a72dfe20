"""A lab gateway process: `python -m orchestrator.lab.gateway CONFIG`.

Reads its XML server list, logs in through the lab router, heartbeats, declares a dead
link on heartbeat timeout, walks its server list with the reconnect interval, and serves
its monitor (docs/monitor-api.md). Market-data gateways fall back to the multicast feed
while TCP is down; settlement gateways fetch the CCNET test file every second.
Stdlib only, and little work per message: 200 of these share two cores.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from orchestrator.journal.chain import iso_ns
from orchestrator.lab.gateway_config import GatewayConfig, Server, load_config
from orchestrator.lab.gateway_md import MarketData, McastProtocol, MdState, server_time
from orchestrator.lab.gateway_vendorlog import NAME as VENDOR_LOG
from orchestrator.lab.gateway_vendorlog import VendorLog
from orchestrator.lab.monitor import EventStream, Monitor
from orchestrator.lab.wire import TEST_FILE, sm_cipher

TRANSFER_PERIOD_S = 1.0


class LinkLost(Exception):
    def __init__(self, reason: str, detail: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


class GatewayProcess(MarketData):
    def __init__(self, cfg: GatewayConfig):
        self.cfg = cfg
        self.events = EventStream()
        self.started_ns = time.time_ns()
        self.state = "starting"
        self.centre: str | None = None
        self.address: str | None = None
        self.session_id: str | None = None
        self.login_ns: int | None = None
        self.last_hb_ns: int | None = None
        self.md = MdState() if cfg.kind == "market_data" else None
        self.settlement: dict[str, Any] | None = {} if cfg.kind == "settlement" else None
        self.variant = "standard"
        self.off_hours = False  # the exchange says no flows now (LOGON_OK ... off)
        self.writer: asyncio.StreamWriter | None = None
        self.udp: asyncio.DatagramTransport | None = None
        self.pending: asyncio.Future[bytes] | None = None
        self.stop_event = asyncio.Event()
        self.log_fh = open(cfg.log, "a", encoding="utf-8", buffering=1) if cfg.log else sys.stderr  # noqa: SIM115
        # the vendor-style log beside it, for drill's log observer (gateway_vendorlog.py)
        self.vendor = VendorLog(cfg.log.with_name(VENDOR_LOG), cfg.id, cfg.kind,
                                {s.centre: f"{s.address}:{s.port}" for s in cfg.servers}
                                ) if cfg.log else None
        self.loop = asyncio.get_running_loop()

    # -- reporting

    def log(self, msg: str) -> None:
        self.log_fh.write(f"{iso_ns(time.time_ns())} {self.cfg.id} {msg}\n")

    def emit(self, type_: str, **data: Any) -> None:
        self.events.seq += 1
        ns = time.time_ns()
        self.events.publish({"seq": self.events.seq, "ts": iso_ns(ns), "ts_ns": ns,
                             "gateway": self.cfg.id, "type": type_, "data": data})
        self.log(f"{type_} {json.dumps(data, separators=(',', ':'))}")
        if self.vendor is not None:
            self.vendor.event(ns, type_, data)

    def set_state(self, to: str, reason: str) -> None:
        if to != self.state:
            old, self.state = self.state, to
            self.emit("state", **{"from": old, "to": to, "reason": reason})

    def status(self) -> dict[str, Any]:
        cfg = self.cfg
        md = None
        if self.md is not None:
            m = self.md
            md = {"source": m.source, "last_seq": {str(k): v for k, v in m.last_seq.items()},
                  "last_seq_time": iso_ns(m.last_seq_time_ns) if m.last_seq_time_ns else None,
                  "last_seq_time_ns": m.last_seq_time_ns,
                  "gaps": len(m.gaps), "gap_ranges": [g.as_dict() for g in m.gaps[-100:]],
                  "stalled": m.stalled}
        return {
            "gateway": cfg.id, "kind": cfg.kind, "pid": os.getpid(),
            "started_at": iso_ns(self.started_ns),
            "config": {"path": str(cfg.path), "sha256": cfg.sha256,
                       "servers": [{"centre": s.centre, "address": s.address, "port": s.port}
                                   for s in cfg.servers]},
            "state": self.state, "centre": self.centre, "address": self.address,
            "session_id": self.session_id,
            "login_time": iso_ns(self.login_ns) if self.login_ns else None,
            "login_time_ns": self.login_ns,
            "last_heartbeat": iso_ns(self.last_hb_ns) if self.last_hb_ns else None,
            "last_heartbeat_ns": self.last_hb_ns,
            "md": md,
            "settlement": (self.settlement or None) if self.settlement is not None else None,
            "event_seq": self.events.seq,
        }

    def snapshot_event(self) -> dict[str, Any]:
        ns = time.time_ns()
        return {"seq": self.events.seq, "ts": iso_ns(ns), "ts_ns": ns, "gateway": self.cfg.id,
                "type": "snapshot", "data": self.status()}

    # -- life cycle

    async def run(self) -> None:
        cfg = self.cfg
        for sig in (signal.SIGTERM, signal.SIGINT):
            self.loop.add_signal_handler(sig, self.stop_event.set)
        monitor = Monitor(self.status, self.events, self.snapshot_event)
        await monitor.start(*cfg.monitor)
        if self.md is not None and cfg.multicast:
            self.udp, _ = await self.loop.create_datagram_endpoint(
                lambda: McastProtocol(self), local_addr=("127.0.0.1", 0))
        self.emit("config", path=str(cfg.path), sha256=cfg.sha256,
                  servers=[{"centre": s.centre, "address": s.address, "port": s.port}
                           for s in cfg.servers])
        self.log(f"started pid {os.getpid()}")
        parent = os.getppid()
        self._watch_parent(parent)
        walker = self.loop.create_task(self.walk())
        await self.stop_event.wait()
        self.set_state("stopping", "signal")
        await _cancelled(walker)
        if self.writer is not None and not self.writer.transport.is_closing():
            self.writer.write(b"LOGOUT\n")
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.writer.drain(), 0.5)
            self.writer.close()
        self._mcast_leave()
        monitor.close()
        self.log("stopped")

    def _watch_parent(self, parent: int) -> None:
        # The supervisor owns us: if it vanished, stop rather than linger as an orphan.
        if os.getppid() != parent:
            self.stop_event.set()
            return
        self.loop.call_later(1.0, self._watch_parent, parent)

    async def walk(self) -> None:
        i = 0
        servers = self.cfg.servers
        while servers:
            server = servers[i % len(servers)]
            try:
                await self.session(server)
            except LinkLost as e:
                self.link_down(e.reason, server.centre, e.detail)
            i += 1
            await asyncio.sleep(self.cfg.reconnect_interval)

    def link_down(self, reason: str, centre: str, detail: str = "") -> None:
        was_up = self.state == "logged_in"
        self.emit("link_down", reason=reason, centre=centre, detail=detail)
        self.set_state("down", reason)
        self.centre = self.address = self.session_id = None
        self.login_ns = None
        if self.writer is not None:
            self.writer.transport.abort() if reason != "heartbeat_timeout" else self.writer.close()
            self.writer = None
        if self.md is not None and (was_up or self.md.source == "none"):
            self._mcast_join()

    # -- one session

    async def _open(self, server: Server) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        writer = None
        try:
            if self.cfg.router:
                reader, writer = await asyncio.open_connection(*self.cfg.router, limit=1 << 20)
                writer.write(f"CONNECT {server.address}:{server.port} {self.cfg.id}\n".encode())
                answer = await reader.readline()
                if answer != b"OK\n":
                    raise LinkLost("connect_failed", answer.decode(errors="replace").strip()
                                   or "refused")
            else:
                reader, writer = await asyncio.open_connection(server.address, server.port,
                                                               limit=1 << 20)
            return reader, writer
        except BaseException:
            if writer is not None:
                writer.transport.abort()
            raise

    async def session(self, server: Server) -> None:
        cfg = self.cfg
        self.set_state("connecting", f"server {server.centre}")
        timeout = cfg.heartbeat_timeout
        try:
            reader, writer = await asyncio.wait_for(self._open(server), timeout)
        except TimeoutError:
            raise LinkLost("connect_failed", "no answer") from None
        except OSError as e:
            raise LinkLost("connect_failed", str(e)) from None
        self.writer = writer
        seqs = "-"
        if self.md is not None and self.md.last_seq:
            seqs = ",".join(f"{k}:{v}" for k, v in sorted(self.md.last_seq.items()))
        writer.write(f"LOGON {cfg.id} {cfg.kind} {seqs}\n".encode())
        try:
            answer = await asyncio.wait_for(reader.readline(), timeout)
        except TimeoutError:
            raise LinkLost("logon_timeout") from None
        except OSError as e:
            raise LinkLost("reset", str(e)) from None
        text = answer.decode(errors="replace").strip()
        if text.startswith("LOGOUT"):
            reason = text[len("LOGOUT"):].strip()
            self.emit("login_refused", centre=server.centre, reason=reason)
            raise LinkLost("logon_refused", reason)
        parts = text.split()
        if len(parts) < 2 or parts[0] != "LOGON_OK":
            raise LinkLost("reset", text or "connection closed during logon")
        self.session_id = parts[1]
        self.variant = parts[2] if len(parts) > 2 else "standard"
        self.off_hours = len(parts) > 5 and parts[5] == "off"  # no flows now (exchange.py)
        if self.md is not None and len(parts) > 3:
            self.md.interval = 1.0 / float(parts[3])
        self.centre, self.address = server.centre, f"{server.address}:{server.port}"
        self.login_ns = self.last_hb_ns = time.time_ns()
        self.last_rx = self.loop.time()
        self.set_state("logged_in", f"login {server.centre}")
        self.emit("login", centre=server.centre, address=self.address,
                  session_id=self.session_id, **server_time(parts[4] if len(parts) > 4 else None))
        if self.md is not None:
            self._md_to_tcp(writer)
        await self._serve(reader, writer)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        lost: asyncio.Future[tuple[str, str]] = self.loop.create_future()
        timeout = self.cfg.heartbeat_timeout

        def watchdog() -> None:
            # Runs one loop turn after the timer, so bytes that arrived in the same turn
            # (a busy machine wakes us with both) are read first.
            if lost.done():
                return
            due = self.last_rx + timeout
            if self.loop.time() >= due:
                lost.set_result(("heartbeat_timeout", ""))
            else:
                self.loop.call_at(due, self.loop.call_soon, watchdog)

        async def read() -> None:
            try:
                while line := await reader.readline():
                    self.last_rx = self.loop.time()
                    if line.startswith(b"T "):
                        self.on_tick(line, "tcp")
                    elif line == b"HB\n":
                        self.last_hb_ns = time.time_ns()
                    elif line.startswith(b"DATA ") or line.startswith(b"ERR "):
                        if self.pending is not None and not self.pending.done():
                            self.pending.set_result(line)
                    elif line.startswith(b"LOGOUT"):
                        reason = line.decode(errors="replace")[6:].strip()
                        if not lost.done():
                            lost.set_result(("logout", reason))
                        return
                if not lost.done():
                    lost.set_result(("reset", "connection closed"))
            except OSError as e:
                if not lost.done():
                    lost.set_result(("reset", str(e)))

        async def heartbeat() -> None:
            while True:
                await asyncio.sleep(self.cfg.heartbeat_interval)
                writer.write(b"HB\n")

        self.loop.call_at(self.last_rx + timeout, self.loop.call_soon, watchdog)
        tasks = [self.loop.create_task(read()), self.loop.create_task(heartbeat())]
        if self.settlement is not None and not self.off_hours:
            tasks.append(self.loop.create_task(self._transfers(writer)))
        try:
            reason, detail = await lost
        finally:
            for t in tasks:
                t.cancel()
        raise LinkLost(reason, detail)

    # -- settlement

    async def _transfers(self, writer: asyncio.StreamWriter) -> None:
        while True:
            self.pending = self.loop.create_future()
            writer.write(f"GET {TEST_FILE}\n".encode())
            try:
                line = await asyncio.wait_for(self.pending, self.cfg.heartbeat_timeout)
            except TimeoutError:
                line = b""
            self._transfer_done(line)
            await asyncio.sleep(TRANSFER_PERIOD_S)

    def _transfer_done(self, line: bytes) -> None:
        parts = line.split()
        ok, size, digest, sent = False, 0, None, {}
        if len(parts) in (5, 6) and parts[0] == b"DATA":
            sent = server_time(parts[5].decode() if len(parts) == 6 else None)
            payload = base64.b64decode(parts[4])
            if self.variant == "sm":
                payload = sm_cipher(payload)
            size = len(payload)
            digest = hashlib.sha256(payload).hexdigest()
            ok = digest == parts[3].decode() and size == int(parts[2])
        ns = time.time_ns()
        assert self.settlement is not None
        self.settlement.update({"last_transfer_time": iso_ns(ns), "last_transfer_time_ns": ns,
                                "last_transfer_ok": ok, "file": TEST_FILE, "sha256": digest,
                                "bytes": size, "variant": self.variant, "centre": self.centre})
        self.emit("transfer", ok=ok, file=TEST_FILE, bytes=size, sha256=digest,
                  variant=self.variant, centre=self.centre, **sent)


async def _cancelled(task: asyncio.Task) -> None:
    # Python 3.11's wait_for swallows a cancel() that lands in the loop step where the
    # awaited read completes, so one cancel() can be lost: ask until the task has ended.
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=0.1)
    if not task.cancelled():
        task.result()  # an error of its own is raised, as `await task` would


async def _main(path: Path) -> None:
    gw = GatewayProcess(load_config(path))
    await gw.run()


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m orchestrator.lab.gateway CONFIG", file=sys.stderr)
        return 2
    asyncio.run(_main(Path(argv[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
