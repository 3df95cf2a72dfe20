"""The lab's network: the router (the firm's edge, carrying flows over lines) and the
multicast/satellite feed (UDP unicast emulation, loopback only).

A gateway opens each flow with `CONNECT <addr>:<port> <gateway-id>\\n`; the router picks
the line by `orchestrator.inventory.route`, connects to the centre's real socket, answers
`OK\\n` and forwards bytes. A blackholed line holds its flows' bytes (as a dead carrier
does; TCP would deliver them if the line returns before either end gives up); a shutdown
line resets both ends with RST. A service black-holed at a centre (`service_down`, the
firm's routers dropping one service's addresses) stalls that service's flows to that
centre the same way, on every line, and leaves every other service alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import time
from dataclasses import dataclass, field

from orchestrator.lab.state import LabState
from orchestrator.lab.wire import tick_lines

_LINGER_RST = struct.pack("ii", 1, 0)
_STALL_CAP = 4 << 20  # bytes held per direction before a stalled flow is given up


def reset(transport: asyncio.BaseTransport | None) -> None:
    """Close with RST (SO_LINGER 0), as a downed interface does to a TCP flow."""
    if transport is None or transport.is_closing():
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RST)
    transport.abort()


@dataclass(eq=False)
class Flow:
    id: int
    gateway: str
    centre: str
    service: str
    line: str | None
    down: DownSide
    up: UpSide | None = None
    state: str = "connecting"  # connecting | open | stalled | void | closed
    lost: bool = False  # path_lost recorded; `detected` not yet
    held_down: list[bytes] = field(default_factory=list)  # stalled bytes towards the gateway
    held_up: list[bytes] = field(default_factory=list)
    held: int = 0
    up_peer: tuple[str, int] | None = None

    def hold(self, chunk: bytes, towards_gateway: bool) -> None:
        self.held += len(chunk)
        if self.held > _STALL_CAP:
            self.held_down.clear()
            self.held_up.clear()
            return
        (self.held_down if towards_gateway else self.held_up).append(chunk)


class DownSide(asyncio.Protocol):
    """The gateway's connection to the router."""

    def __init__(self, router: Router):
        self.router = router
        self.transport: asyncio.Transport | None = None
        self.flow: Flow | None = None
        self.buf = b""

    def connection_made(self, transport):  # type: ignore[override]
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        flow = self.flow
        if flow is None:
            self.buf += data
            if b"\n" in self.buf:
                line, rest = self.buf.split(b"\n", 1)
                self.buf = b""
                self.router.connect(self, line.decode(errors="replace").strip(), rest)
            elif len(self.buf) > 4096:
                reset(self.transport)
            return
        if flow.state == "open" and flow.up and flow.up.transport:
            flow.up.transport.write(data)
        elif flow.state == "stalled":
            flow.hold(data, towards_gateway=False)
        elif flow.state == "connecting":
            flow.held_up.append(data)

    def connection_lost(self, exc):  # type: ignore[override]
        if self.flow is not None:
            self.router.gateway_closed(self.flow)


class UpSide(asyncio.Protocol):
    """The router's connection to the centre's service."""

    def __init__(self, router: Router, flow: Flow):
        self.router = router
        self.flow = flow
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport):  # type: ignore[override]
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        flow = self.flow
        if flow.state == "open" and flow.down.transport:
            flow.down.transport.write(data)
        elif flow.state == "stalled":
            flow.hold(data, towards_gateway=True)

    def connection_lost(self, exc):  # type: ignore[override]
        self.router.exchange_closed(self.flow)


class Router:
    def __init__(self, lab: LabState):
        self.lab = lab
        self.inv = lab.inv
        self.dest: dict[tuple[str, int], tuple[str, str]] = {}
        for c in self.inv.centres:
            for svc, ep in c.services.items():
                self.dest[(ep.address, ep.port)] = (c.id, svc)
        self.flows: set[Flow] = set()
        self.by_peer: dict[tuple[str, int], Flow] = {}
        self.counter = 0
        self.server: asyncio.base_events.Server | None = None

    async def start(self) -> None:
        assert self.inv.lab is not None
        ep = self.inv.lab.router
        self.server = await asyncio.get_running_loop().create_server(
            lambda: DownSide(self), ep.address, ep.port, reuse_address=True, backlog=1024)

    def close(self) -> None:
        if self.server:
            self.server.close()
        for flow in list(self.flows):
            for t in (flow.down.transport, flow.up.transport if flow.up else None):
                if t:
                    t.abort()

    def line_of_peer(self, peer: tuple[str, int] | None) -> str | None:
        flow = self.by_peer.get(peer) if peer else None
        return flow.line if flow else None

    def flow_of(self, gateway: str) -> Flow | None:
        """The gateway's current (newest live) flow."""
        live = [f for f in self.flows if f.gateway == gateway and f.state == "open"]
        return max(live, key=lambda f: f.id) if live else None

    def connect(self, down: DownSide, line: str, rest: bytes) -> None:
        truth = self.lab.truth
        parts = line.split()
        target = None
        if len(parts) == 3 and parts[0] == "CONNECT":
            host, _, port = parts[1].rpartition(":")
            with contextlib.suppress(ValueError):
                target = self.dest.get((host, int(port)))
        if target is None:
            if down.transport:
                down.transport.write(b"ERR unknown destination\n")
                down.transport.close()
            return
        centre, service = target
        gateway = parts[2]
        for old in self.flows:
            if old.gateway == gateway and old.lost:
                old.lost = False
                truth.write("router", "detected", gateway=gateway, flow=old.id, by="new_connect")
        self.counter += 1
        lid = self.lab.route(centre)
        flow = Flow(self.counter, gateway, centre, service, lid, down)
        down.flow = flow
        self.flows.add(flow)
        if rest:
            flow.held_up.append(rest)
        truth.write("router", "connect", gateway=gateway, flow=flow.id, centre=centre,
                    service=service, line=lid)
        if lid is None:
            modes = {self.lab.line_mode[x] for x in self.lab.down_lines()}
            if modes == {"shutdown"}:
                reset(down.transport)  # every path's interface is down: refused
            else:
                flow.state = "void"  # nowhere to send the SYN: no answer
            return
        if centre in self.lab.down_centres or (centre, service) in self.lab.down_services:
            flow.state = "void"  # the centre does not answer, or the SYN goes nowhere
            return
        asyncio.get_running_loop().create_task(self._open(flow, host, int(port)))

    async def _open(self, flow: Flow, host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        try:
            _, up = await loop.create_connection(lambda: UpSide(self, flow), host, port)
        except OSError:
            reset(flow.down.transport)
            flow.state = "closed"
            self.flows.discard(flow)
            return
        flow.up = up
        if flow.state != "connecting" or flow.down.transport is None or \
                flow.down.transport.is_closing():
            up.transport.close()  # type: ignore[union-attr]
            return
        peer = up.transport.get_extra_info("sockname")  # type: ignore[union-attr]
        flow.up_peer = (peer[0], peer[1])
        self.by_peer[flow.up_peer] = flow
        flow.state = "open"
        flow.down.transport.write(b"OK\n")
        for chunk in flow.held_up:
            up.transport.write(chunk)  # type: ignore[union-attr]
        flow.held_up.clear()
        if not self.lab.line_up(flow.line):
            # The line failed while we were connecting.
            self._lose(flow, self.lab.line_mode[flow.line or ""] or "blackhole", time.time_ns())

    def gateway_closed(self, flow: Flow) -> None:
        if flow.lost:
            flow.lost = False
            self.lab.truth.write("router", "detected", gateway=flow.gateway, flow=flow.id,
                                 by="close")
        flow.down.transport = None
        up = flow.up.transport if flow.up else None
        if flow.state == "stalled" and up is not None:
            return  # the FIN never reaches the centre; the exchange times the session out
        if flow.state == "open" and up is not None:
            up.close()
        self._forget(flow)

    def exchange_closed(self, flow: Flow) -> None:
        if flow.up:
            flow.up.transport = None
        if flow.state == "stalled" and flow.down.transport is not None:
            return  # the gateway hears nothing over a dead line
        if flow.state == "open" and flow.down.transport is not None:
            flow.down.transport.close()
        self._forget(flow)

    def _forget(self, flow: Flow) -> None:
        flow.state = "closed"
        self.flows.discard(flow)
        if flow.up_peer is not None:
            self.by_peer.pop(flow.up_peer, None)

    # -- faults

    def _lose(self, flow: Flow, how: str, ns: int) -> None:
        truth = self.lab.truth
        truth.write("router", "path_lost", ts_ns=ns, gateway=flow.gateway, flow=flow.id,
                    line=flow.line, centre=flow.centre, service=flow.service,
                    how={"shutdown": "reset", "blackhole": "stalled"}.get(how, how))
        if how == "shutdown":
            flow.state = "closed"
            reset(flow.down.transport)
            reset(flow.up.transport if flow.up else None)
            truth.write("router", "detected", ts_ns=ns, gateway=flow.gateway, flow=flow.id,
                        by="reset")
            self.flows.discard(flow)
        elif how == "blackhole":
            flow.state = "stalled"
            flow.lost = True
        else:  # centre_down: the exchange stalls; the path itself is intact
            flow.lost = True

    def line_down(self, lid: str, mode: str, ns: int) -> int:
        hit = 0
        for flow in sorted(self.flows, key=lambda f: f.id):
            if flow.line != lid:
                continue
            if flow.state == "open" or (flow.state == "stalled" and mode == "shutdown"):
                hit += 1
                self._lose(flow, mode, ns)
            elif flow.state in ("connecting", "void") and mode == "shutdown":
                reset(flow.down.transport)
        return hit

    def line_up(self, lid: str) -> None:
        # Held bytes go through, as TCP would retransmit them, if both ends are still there.
        for flow in sorted(self.flows, key=lambda f: f.id):
            if (flow.line == lid and flow.state == "stalled"
                    and (flow.centre, flow.service) not in self.lab.down_services):
                self._release(flow)

    def _release(self, flow: Flow) -> None:
        """A stalled flow's path is back: its held bytes go through, if both ends remain."""
        if flow.down.transport is None or flow.up is None or flow.up.transport is None:
            for t in (flow.down.transport, flow.up.transport if flow.up else None):
                if t is not None:
                    t.close()
            self._forget(flow)
            return
        flow.state = "open"
        for chunk in flow.held_down:
            flow.down.transport.write(chunk)
        for chunk in flow.held_up:
            flow.up.transport.write(chunk)
        flow.held_down.clear()
        flow.held_up.clear()
        flow.held = 0
        self.lab.truth.write("router", "path_restored", gateway=flow.gateway, flow=flow.id,
                             line=flow.line)

    def service_down(self, centre: str, services: set[str], ns: int) -> int:
        """Black-hole services at a centre: their open flows stall (on whatever line)."""
        hit = 0
        for flow in sorted(self.flows, key=lambda f: f.id):
            if flow.centre == centre and flow.service in services and flow.state == "open":
                hit += 1
                self._lose(flow, "blackhole", ns)
        return hit

    def service_up(self, centre: str, services: set[str]) -> None:
        for flow in sorted(self.flows, key=lambda f: f.id):
            if (flow.centre == centre and flow.service in services and flow.state == "stalled"
                    and self.lab.line_up(flow.line)):
                self._release(flow)

    def centre_down(self, centre: str, ns: int) -> int:
        hit = 0
        for flow in sorted(self.flows, key=lambda f: f.id):
            if flow.centre == centre and flow.state == "open" and not flow.lost:
                hit += 1
                self._lose(flow, "centre_down", ns)
        return hit

    def line_flows(self, lid: str) -> int:
        return sum(1 for f in self.flows if f.line == lid and f.state in ("open", "stalled"))


class Feed(asyncio.DatagramProtocol):
    """The multicast/satellite feed: `JOIN <id> <udp-port>` / `LEAVE <id>` by UDP; ticks out."""

    def __init__(self, lab: LabState):
        self.lab = lab
        self.line = lab.inv.multicast.line if lab.inv.multicast else None
        self.subs: dict[str, tuple[str, int]] = {}
        self.started: set[str] = set()
        self.transport: asyncio.DatagramTransport | None = None

    async def start(self) -> None:
        mc = self.lab.inv.multicast
        if mc is None:
            return
        await asyncio.get_running_loop().create_datagram_endpoint(
            lambda: self, local_addr=(mc.address, mc.port))

    def connection_made(self, transport):  # type: ignore[override]
        self.transport = transport

    def close(self) -> None:
        if self.transport:
            self.transport.close()

    def datagram_received(self, data: bytes, addr) -> None:  # type: ignore[override]
        parts = data.decode(errors="replace").split()
        truth = self.lab.truth
        if len(parts) == 3 and parts[0] == "JOIN":
            gw = parts[1]
            self.subs[gw] = (addr[0], int(parts[2]))
            self.started.discard(gw)
            truth.write("feed", "md_join", gateway=gw, line=self.line)
        elif len(parts) == 2 and parts[0] == "LEAVE" and parts[1] in self.subs:
            del self.subs[parts[1]]
            truth.write("feed", "md_leave", gateway=parts[1])

    def on_tick(self, msg: bytes, ticks: list[tuple[int, int, int]]) -> None:
        if not self.subs or self.transport is None or not self.lab.line_up(self.line):
            return
        for gw, addr in self.subs.items():
            sent = time.time_ns()  # each datagram carries its own send time (issue 19 P1)
            self.transport.sendto(tick_lines(ticks, sent), addr)
            if gw not in self.started:
                self.started.add(gw)
                ch, seq, _ = ticks[0]
                self.lab.truth.write("feed", "md_first_tick", ts_ns=sent, gateway=gw, centre="multicast",
                                     channel=ch, seq=seq, retransmit=False)

    def line_down(self, ns: int) -> None:
        for gw in self.subs:
            self.lab.truth.write("feed", "path_lost", ts_ns=ns, gateway=gw, flow=None,
                                 line=self.line, centre="multicast", service="multicast",
                                 how="stalled")
            self.started.discard(gw)
