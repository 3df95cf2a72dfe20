"""The lab supervisor: exchange, router, feed and control socket in one asyncio loop, and
the gateway processes as its children (docs/lab.md).

Run as `python -m orchestrator.lab.supervisor STATE_DIR` (by `drill lab up`), in its own
session so that `drill lab down` can check and kill the whole process group.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from orchestrator.config.inventory import load_inventory
from orchestrator.journal.chain import iso_ns
from orchestrator.lab.control import unix_path
from orchestrator.lab.exchange import Exchange
from orchestrator.lab.procs import STOP_GRACE_S, GatewayProc, Spawner, log
from orchestrator.lab.router import Feed, Router
from orchestrator.lab.state import LINE_MODES, LabState
from orchestrator.lab.truth import TruthLog

SPAWN_AHEAD = 25  # gateways started but not yet logged in, at most


class BadRequest(Exception):
    def __init__(self, field: str, msg: str):
        super().__init__(msg)
        self.field = field


class Supervisor:
    def __init__(self, state_dir: Path):
        self.state_dir = state_dir
        self.inv = load_inventory(state_dir / "inventory.yml")
        self.truth = TruthLog(state_dir / "truth.jsonl")
        self.lab = LabState(self.inv, self.truth)
        self.router = Router(self.lab)
        self.exchange = Exchange(self.lab, self.router.line_of_peer)
        self.feed = Feed(self.lab)
        self.exchange.tick_listeners.append(self.feed.on_tick)
        self.gateways: dict[str, GatewayProc] = {}
        self.stopping = asyncio.Event()
        self.started_ns = time.time_ns()
        # Bounds the gateway stops/starts in flight (a batch restarts many at once).
        self._restarts = asyncio.Semaphore(SPAWN_AHEAD)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        await self.exchange.start()
        await self.router.start()
        await self.feed.start()
        sock = self.state_dir / "control.sock"
        with contextlib.suppress(FileNotFoundError):
            sock.unlink()
        with unix_path(sock) as path:
            control = await asyncio.start_unix_server(self._control, path=path)
        spawner = Spawner()
        self.gateways = {g.id: GatewayProc(g, self.state_dir, spawner) for g in self.inv.gateways}
        log(f"lab {self.inv.environment.name} serving; starting {len(self.gateways)} gateways")
        tasks = [loop.create_task(c) for c in (
            self._every(1.0 / self.exchange.rate_hz, self.exchange.tick),
            self._every(self.inv.timing.heartbeat_interval, self.exchange.heartbeat),
            self._every(0.01, lambda: self.exchange.expire(self.inv.timing.server_session_timeout)),
        )]
        starting = loop.create_task(self._start_gateways())
        await self.stopping.wait()
        log("stopping")
        starting.cancel()
        await asyncio.gather(*(gp.stop() for gp in self.gateways.values()))
        spawner.quit()
        await spawner.wait(time.monotonic() + STOP_GRACE_S)
        for t in tasks:
            t.cancel()
        control.close()
        self.router.close()
        self.exchange.close()
        self.feed.close()
        with contextlib.suppress(FileNotFoundError):
            sock.unlink()
        self.truth.close()
        log("stopped")

    async def _every(self, period: float, fn) -> None:
        # Absolute schedule: the tick rate does not drift with the work done per tick.
        loop = asyncio.get_running_loop()
        next_t = loop.time()
        while True:
            next_t += period
            delay = next_t - loop.time()
            if delay < -period:
                next_t = loop.time()  # fell behind (machine busy): do not burst
            await asyncio.sleep(max(0.0, delay))
            try:
                fn()
            except Exception as e:  # keep the lab alive; the log says what broke
                log(f"error in {getattr(fn, '__name__', fn)}: {e!r}")

    async def _start_gateways(self) -> None:
        for gp in self.gateways.values():
            await self._spawn_room()
            await gp.start()

    async def _spawn_room(self, max_wait_s: float = 3.0) -> None:
        """Paced starts: a burst of 200 logins would starve this one process of CPU on a busy
        machine, so wait (up to max_wait_s) while SPAWN_AHEAD gateways are still logging in."""
        started = time.monotonic()
        while time.monotonic() - started < max_wait_s:
            logged = {s.gateway for s in self.exchange.sessions()}
            pending = sum(1 for g in self.gateways.values()
                          if g.status == "running" and g.gw.id not in logged)
            if pending < SPAWN_AHEAD:
                return
            await asyncio.sleep(0.02)

    # -- control

    async def _control(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                try:
                    req = json.loads(line)
                    resp = await self._dispatch(req)
                except BadRequest as e:
                    resp = {"ok": False, "bad_input": True, "field": e.field, "error": str(e)}
                except Exception as e:
                    log(f"control error: {e!r}")
                    resp = {"ok": False, "error": repr(e)}
                writer.write((json.dumps(resp) + "\n").encode())
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    def _fault(self, op: str, target: str, ns: int, **extra: Any) -> dict[str, Any]:
        self.truth.write("control", "fault", ts_ns=ns, op=op, target=target, **extra)
        return {"ok": True, "op": op, "target": target, "effective_at": iso_ns(ns),
                "effective_ns": ns, **extra}

    def _line(self, req: dict[str, Any]) -> str:
        lid = str(req.get("line"))
        if lid not in self.lab.line_mode:
            raise BadRequest("line", f"unknown line {lid!r}; expected one of: "
                             + ", ".join(self.lab.line_mode))
        return lid

    def _centre(self, req: dict[str, Any]) -> str:
        cid = str(req.get("centre"))
        ids = [c.id for c in self.inv.centres]
        if cid not in ids:
            raise BadRequest("centre", f"unknown centre {cid!r}; expected one of: {', '.join(ids)}")
        return cid

    def _gateway(self, req: dict[str, Any]) -> GatewayProc:
        gid = str(req.get("gateway"))
        if gid not in self.gateways:
            raise BadRequest("gateway", f"unknown gateway {gid!r}; expected one of: "
                             + ", ".join(list(self.gateways)[:10])
                             + (" …" if len(self.gateways) > 10 else ""))
        return self.gateways[gid]

    async def _dispatch(self, req: dict[str, Any]) -> dict[str, Any]:
        op = req.get("op")
        if op == "status":
            return self.status()
        if op == "shutdown":
            self.stopping.set()
            return {"ok": True, "op": op}
        if op == "batch":
            return await self._batch(req)
        return await self._prepare(req)()

    async def _batch(self, req: dict[str, Any]) -> dict[str, Any]:
        """Several changes in one request: all are checked before any is applied, then the
        network changes are applied in order in one turn of the loop (each with its own
        instant) and gateway stops/starts run concurrently."""
        reqs = req.get("requests")
        if not isinstance(reqs, list) or not reqs:
            raise BadRequest("requests", "expected a non-empty list of requests")
        if any(not isinstance(r, dict) or r.get("op") in ("batch", "status", "shutdown")
               for r in reqs):
            raise BadRequest("requests", "expected change requests (line_*, centre_*, gateway_*)")
        targets = [(str(r.get("op", "")).split("_")[0],
                    r.get("line") or r.get("centre") or r.get("gateway")) for r in reqs]
        twice = sorted({str(t) for kind, t in targets if targets.count((kind, t)) > 1})
        if twice:
            raise BadRequest("requests", f"expected each target once; repeated: {', '.join(twice)}")
        thunks = [self._prepare(r) for r in reqs]
        results = await asyncio.gather(*(t() for t in thunks))
        return {"ok": True, "op": "batch", "results": list(results)}

    def _prepare(self, req: dict[str, Any]):
        """Check one change request; return the coroutine function that applies it."""
        op = req.get("op")
        if op == "line_down":
            lid = self._line(req)
            mode = req.get("mode", "blackhole")
            if mode not in LINE_MODES:
                raise BadRequest("mode", f"unknown mode {mode!r}; expected blackhole or shutdown")

            async def line_down() -> dict[str, Any]:
                ns = time.time_ns()
                self.lab.line_mode[lid] = mode
                resp = self._fault(op, lid, ns, mode=mode)
                resp["flows"] = self.router.line_down(lid, mode, ns)
                if self.feed.line == lid:
                    self.feed.line_down(ns)
                return resp
            return line_down
        if op == "line_up":
            lid = self._line(req)

            async def line_up() -> dict[str, Any]:
                ns = time.time_ns()
                self.lab.line_mode[lid] = None
                resp = self._fault(op, lid, ns)
                self.router.line_up(lid)
                return resp
            return line_up
        if op == "centre_down":
            cid = self._centre(req)

            async def centre_down() -> dict[str, Any]:
                ns = time.time_ns()
                self.lab.down_centres.add(cid)
                resp = self._fault(op, cid, ns)
                resp["flows"] = self.router.centre_down(cid, ns)
                return resp
            return centre_down
        if op == "centre_up":
            cid = self._centre(req)

            async def centre_up() -> dict[str, Any]:
                ns = time.time_ns()
                self.lab.down_centres.discard(cid)
                resp = self._fault(op, cid, ns)
                self.exchange.centre_up(cid)
                return resp
            return centre_up
        if op in ("service_down", "service_up"):
            return _service_change(self, op, self._centre(req), req.get("services"))
        if op in ("gateway_stop", "gateway_start", "gateway_restart"):
            gp = self._gateway(req)

            async def gateway_op() -> dict[str, Any]:
                # At most SPAWN_AHEAD at a time, each start paced as at lab up.
                async with self._restarts:
                    ns = time.time_ns()
                    if op in ("gateway_stop", "gateway_restart"):
                        await gp.stop()
                    if op in ("gateway_start", "gateway_restart") and gp.status != "running":
                        await self._spawn_room()
                        await gp.start()
                resp = self._fault(op, gp.gw.id, ns)
                resp["pid"] = gp.pid
                return resp
            return gateway_op
        raise BadRequest("op", f"unknown op {op!r}")

    def _path_state(self, s: Any) -> str | None:
        """What the network does to the session's flow now: ok, stalled, or centre_down."""
        if s is None:
            return None
        if s.centre in self.lab.down_centres:
            return "centre_down"
        flow = self.router.by_peer.get(s.conn.peer) if s.conn.peer else None
        return "stalled" if flow is not None and flow.state == "stalled" else "ok"

    def status(self) -> dict[str, Any]:
        sessions: dict[str, list[Any]] = {}
        for s in self.exchange.sessions():
            sessions.setdefault(s.gateway, []).append(s)
        gws = []
        for gid, gp in self.gateways.items():
            mine = sessions.get(gid, [])
            s = mine[0] if mine else None
            state = _gateway_state(s is not None, gp.status)
            md = None
            if gp.gw.kind == "market_data":
                md = "multicast" if gid in self.feed.subs else ("tcp" if s else "none")
            gws.append({
                "id": gid, "kind": gp.gw.kind, "process": gp.status,
                "pid": gp.pid, "restarts": gp.restarts,
                "state": state, "centre": s.centre if s else None,
                "session_id": s.session_id if s else None,
                "login_time": iso_ns(s.login_ns) if s else None,
                "sessions": len(mine),
                "line": self.router.line_of_peer(s.conn.peer) if s else None,
                "path": self._path_state(s),
                "md_source": md,
                "monitor": str(gp.gw.monitor),
            })
        centres = []
        for c in self.inv.centres:
            n = sum(1 for s in self.exchange.sessions() if s.centre == c.id)
            centres.append({"id": c.id, "role": c.role, "name": c.name.en, "name_zh": c.name.zh,
                            "state": "down" if c.id in self.lab.down_centres else "up",
                            "sessions": n,
                            "table": self.exchange.tables[c.id].name})
        lines = [{"id": ln.id, "carrier": ln.carrier, "centre": ln.centre, "medium": ln.medium,
                  "preference": ln.preference, "mbps": ln.mbps,
                  "state": "down" if self.lab.line_mode[ln.id] else "up",
                  "mode": self.lab.line_mode[ln.id], "flows": self.router.line_flows(ln.id)}
                 for ln in self.inv.lines]
        return {"ok": True, "environment": self.inv.environment.name, "pid": os.getpid(),
                "started_at": iso_ns(self.started_ns), "state_dir": str(self.state_dir),
                "centres": centres, "lines": lines, "gateways": gws,
                "sessions": [{"gateway": s.gateway, "centre": s.centre, "service": s.service,
                              "session_id": s.session_id, "login_time": iso_ns(s.login_ns)}
                             for s in self.exchange.sessions()],
                "multicast": {"line": self.feed.line, "subscribers": sorted(self.feed.subs)},
                "md_seq": {str(k): v for k, v in self.exchange.seq.items()}}


def _service_change(sup: Supervisor, op: str, cid: str, services: Any):
    """service_down / service_up: black-hole (or give back) services at one centre, as
    the firm's routers do when they drop those services' addresses (router.py)."""
    known = sorted(sup.inv.centre(cid).services)
    if not isinstance(services, list) or not services or any(s not in known for s in services):
        raise BadRequest("services", f"expected a list of services of {cid}: {', '.join(known)}; "
                                     f"got {services!r}")
    # a settlement service includes its SM variant (settlement_sm), as its routes would
    wanted = {s for s in known for name in services if s == name or s.startswith(f"{name}_")}

    async def apply() -> dict[str, Any]:
        ns = time.time_ns()
        pairs = {(cid, s) for s in wanted}
        if op == "service_down":
            sup.lab.down_services |= pairs
        else:
            sup.lab.down_services -= pairs
        resp = sup._fault(op, cid, ns, services=sorted(wanted))
        if op == "service_down":
            resp["flows"] = sup.router.service_down(cid, wanted, ns)
        else:
            sup.router.service_up(cid, wanted)
        return resp
    return apply


def _gateway_state(has_session: bool, process: str) -> str:
    if has_session:
        return "logged_in"
    return "connecting" if process == "running" else process


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m orchestrator.lab.supervisor STATE_DIR", file=sys.stderr)
        return 2
    state_dir = Path(argv[0])
    try:
        sup = Supervisor(state_dir)
    except Exception as e:
        log(f"cannot load the lab: {e}")
        return 1
    try:
        asyncio.run(sup.run())
    except OSError as e:
        log(f"lab failed: {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
