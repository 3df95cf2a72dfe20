"""The exchange side of the lab: trading, market-data and CCNET servers on every centre.

Line protocol (one message per line, ASCII):
  gateway → exchange: LOGON <id> <kind> <ch:seq,…|->, HB, RESEND <ch> <from> <to>,
                      LIST, GET <file>, LOGOUT
  exchange → gateway: LOGON_OK <session> <variant> <md_rate_hz> <sent_ns> [off],
                      LOGOUT <reason…>,
                      HB, T <ch> <seq> <ts_ns> [R], FILES <name> <bytes> <sha256>,
                      DATA <name> <bytes> <sha256> <base64> <sent_ns>
`sent_ns` is the exchange's own send time (Unix ns, its clock), as FIX SendingTime(52)
or STEP's sending time: the same nanosecond its truth record carries, so a gateway can
report when the exchange answered, not only when it got round to reading the answer.
FT and NF (role production) share one session table, so one login per gateway id across
both; each DR centre has its own.
Off-hours mode (`lab.off_hours`, docs/lab.md): the exchange sends no ticks (nor the
multicast feed, which carries the same ticks) and says `off` in LOGON_OK, so CCNET
gateways request no transfers: sessions and heartbeats only, as at night or on a holiday.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from orchestrator.lab.state import LabState
from orchestrator.lab.wire import LOGIN_NOT_ALLOWED, TEST_FILE, sm_cipher, test_file, tick_lines


@dataclass(eq=False)
class Session:
    gateway: str
    centre: str
    service: str
    session_id: str
    conn: ExchangeConn
    login_ns: int
    last_rx: float = field(default_factory=time.monotonic)


@dataclass(eq=False)
class SessionTable:
    name: str
    sessions: dict[str, Session] = field(default_factory=dict)
    counter: int = 0


class ExchangeConn(asyncio.Protocol):
    def __init__(self, ex: Exchange, centre: str, service: str):
        self.ex = ex
        self.centre = centre
        self.service = service
        self.variant = "sm" if service == "settlement_sm" else "standard"
        self.transport: asyncio.Transport | None = None
        self.session: Session | None = None
        self.dead = False
        self.md_started = False
        self.buf = b""
        self.peer: tuple[str, int] | None = None

    def connection_made(self, transport):  # type: ignore[override]
        self.transport = transport
        self.peer = transport.get_extra_info("peername")
        self.ex.conns.add(self)

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def data_received(self, data: bytes) -> None:
        if self.dead or self.centre in self.ex.lab.down_centres:
            return  # a down centre stalls: it reads nothing and answers nothing
        self.buf += data
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            self._handle(line.decode(errors="replace").strip())
            if self.dead:
                return

    def connection_lost(self, exc):  # type: ignore[override]
        self.ex.conns.discard(self)
        self.ex.md_conns.discard(self)
        s = self.session
        if s is None or self.ex.table(self.centre).sessions.get(s.gateway) is not s:
            return
        if self.centre in self.ex.lab.down_centres:
            return  # a stalled centre notices nothing; the session expires by timeout
        self.ex.end_session(s, "session_closed", reason="connection closed")

    def _handle(self, line: str) -> None:
        parts = line.split()
        if not parts:
            return
        cmd = parts[0]
        if self.session is not None:
            self.session.last_rx = time.monotonic()
        if cmd == "LOGON" and self.session is None and len(parts) >= 3:
            self.ex.logon(self, parts[1], parts[2], parts[3] if len(parts) > 3 else "-")
        elif self.session is None:
            return
        elif cmd == "RESEND" and len(parts) == 4:
            self.ex.resend(self, int(parts[1]), int(parts[2]), int(parts[3]))
        elif cmd == "LIST":
            size, digest = len(self.ex.file), self.ex.file_sha
            self.write(f"FILES {TEST_FILE} {size} {digest}\n".encode())
        elif cmd == "GET" and len(parts) == 2:
            self.ex.serve_file(self, parts[1])
        elif cmd == "LOGOUT":
            self.ex.end_session(self.session, "session_closed", reason="logout")
            self.dead = True
            if self.transport:
                self.transport.close()


class Exchange:
    def __init__(self, lab: LabState, line_of_peer: Callable[[tuple[str, int] | None], str | None]):
        self.lab = lab
        self.inv = lab.inv
        self.line_of_peer = line_of_peer
        self.tables: dict[str, SessionTable] = {}
        shared = SessionTable("shenzhen")
        for c in self.inv.centres:
            self.tables[c.id] = shared if c.role == "production" else SessionTable(c.id)
        self.conns: set[ExchangeConn] = set()
        self.md_conns: set[ExchangeConn] = set()
        settings = self.inv.lab
        assert settings is not None
        self.channels = list(range(1, settings.md_channels + 1))
        self.rate_hz = float(settings.md_rate_hz)
        self.off_hours = bool(settings.off_hours)
        self.seq = dict.fromkeys(self.channels, 0)
        self.ring: dict[int, deque[tuple[int, int]]] = {
            ch: deque(maxlen=max(100, int(self.rate_hz * 120))) for ch in self.channels}
        self.file = test_file(settings.settlement_file_bytes)
        self.file_sha = hashlib.sha256(self.file).hexdigest()
        self.file_b64 = {"standard": base64.b64encode(self.file).decode(),
                         "sm": base64.b64encode(sm_cipher(self.file)).decode()}
        self.servers: list[asyncio.base_events.Server] = []
        self.tick_listeners: list[Callable[[bytes, list[tuple[int, int, int]]], None]] = []

    def table(self, centre: str) -> SessionTable:
        return self.tables[centre]

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        for c in self.inv.centres:
            for svc, ep in c.services.items():
                server = await loop.create_server(
                    lambda c=c, svc=svc: ExchangeConn(self, c.id, svc), ep.address, ep.port,
                    reuse_address=True)
                self.servers.append(server)

    def close(self) -> None:
        for s in self.servers:
            s.close()
        for conn in list(self.conns):
            if conn.transport:
                conn.transport.abort()

    # -- sessions

    def logon(self, conn: ExchangeConn, gateway: str, kind: str, seqs: str) -> None:
        table = self.table(conn.centre)
        truth = self.lab.truth
        if gateway in table.sessions:
            other = table.sessions[gateway]
            truth.write("exchange", "login_refused", gateway=gateway, centre=conn.centre,
                        service=conn.service, reason=LOGIN_NOT_ALLOWED,
                        existing_session=other.session_id, existing_centre=other.centre)
            conn.write(f"LOGOUT {LOGIN_NOT_ALLOWED}\n".encode())
            conn.dead = True
            if conn.transport:
                conn.transport.close()
            return
        table.counter += 1
        sid = f"{conn.centre}-{table.counter:06d}"
        ns = time.time_ns()
        s = Session(gateway, conn.centre, conn.service, sid, conn, ns)
        table.sessions[gateway] = s
        conn.session = s
        off = " off" if self.off_hours else ""
        conn.write(f"LOGON_OK {sid} {conn.variant} {self.rate_hz:g} {ns}{off}\n".encode())
        truth.write("exchange", "login_accepted", ts_ns=ns, gateway=gateway, centre=conn.centre,
                    service=conn.service, session_id=sid, kind=kind,
                    line=self.line_of_peer(conn.peer))
        if conn.service == "market_data":
            last = {}
            if seqs != "-":
                for item in seqs.split(","):
                    ch, _, sq = item.partition(":")
                    last[int(ch)] = int(sq)
            for ch, sq in last.items():
                if sq > 0:
                    self.resend(conn, ch, sq + 1, self.seq.get(ch, 0))
            self.md_conns.add(conn)

    def end_session(self, s: Session, type_: str, **fields) -> None:
        table = self.table(s.centre)
        if table.sessions.get(s.gateway) is s:
            del table.sessions[s.gateway]
            self.lab.truth.write("exchange", type_, gateway=s.gateway, centre=s.centre,
                                 session_id=s.session_id, **fields)
        self.md_conns.discard(s.conn)

    def expire(self, timeout: float) -> None:
        now = time.monotonic()
        seen = set()
        for table in self.tables.values():
            if id(table) in seen:
                continue
            seen.add(id(table))
            for s in [s for s in table.sessions.values() if now - s.last_rx > timeout]:
                self.end_session(s, "session_expired")
                conn = s.conn
                conn.dead = True
                if s.centre not in self.lab.down_centres:
                    conn.write(b"LOGOUT session timeout\n")
                    if conn.transport:
                        conn.transport.close()

    def centre_up(self, centre: str) -> None:
        # A restarted centre knows nothing of old connections: it resets them.
        for conn in list(self.conns):
            stale = conn.dead or conn.session is None
            if conn.centre == centre and stale and conn.transport:
                conn.transport.abort()

    def sessions(self) -> list[Session]:
        out, seen = [], set()
        for table in self.tables.values():
            if id(table) not in seen:
                seen.add(id(table))
                out.extend(table.sessions.values())
        return out

    # -- heartbeats, market data, files

    def heartbeat(self) -> None:
        down = self.lab.down_centres
        for s in self.sessions():
            if s.centre not in down and not s.conn.dead:
                s.conn.write(b"HB\n")

    def tick(self) -> None:
        if self.off_hours:
            return
        ns = time.time_ns()
        ticks = []
        for ch in self.channels:
            self.seq[ch] += 1
            self.ring[ch].append((self.seq[ch], ns))
            ticks.append((ch, self.seq[ch], ns))
        msg = tick_lines(ticks, ns)
        down = self.lab.down_centres
        for conn in list(self.md_conns):
            if conn.dead or conn.centre in down:
                continue
            # Each session's tick carries when it was sent to that session: a fan-out to 200
            # sessions spreads the sends over tens of ms (issue 19 P1).
            sent = time.time_ns()
            conn.write(tick_lines(ticks, sent))
            if not conn.md_started:
                conn.md_started = True
                self._first_tick(conn, ticks[0][0], ticks[0][1], False, sent)
        for listener in self.tick_listeners:
            listener(msg, ticks)

    def _first_tick(self, conn: ExchangeConn, ch: int, seq: int, retransmit: bool,
                    sent_ns: int | None = None) -> None:
        if conn.session:
            self.lab.truth.write("exchange", "md_first_tick", ts_ns=sent_ns, gateway=conn.session.gateway,
                                 centre=conn.centre, channel=ch, seq=seq, retransmit=retransmit)

    def resend(self, conn: ExchangeConn, ch: int, first: int, last: int) -> None:
        ring = self.ring.get(ch)
        if not ring or first > last:
            return
        msg = "".join(f"T {ch} {sq} {t} R\n" for sq, t in ring if first <= sq <= last)
        if msg:
            conn.write(msg.encode())
            if not conn.md_started:
                conn.md_started = True
                self._first_tick(conn, ch, first, True)

    def serve_file(self, conn: ExchangeConn, name: str) -> None:
        s = conn.session
        ok = name == TEST_FILE
        ns = time.time_ns()
        if ok:
            conn.write(f"DATA {TEST_FILE} {len(self.file)} {self.file_sha} "
                       f"{self.file_b64[conn.variant]} {ns}\n".encode())
        else:
            conn.write(f"ERR no such file {name}\n".encode())
        if s:
            self.lab.truth.write("exchange", "transfer", ts_ns=ns, gateway=s.gateway,
                                 centre=conn.centre, variant=conn.variant, ok=ok, file=name)
