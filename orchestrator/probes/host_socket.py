"""A gateway's sessions from its host's kernel socket table, over SSH (source `host-socket`).

Nothing is installed on the host and no port is opened: each poll runs one shell command
over the run's `SshPool` connection (through the bastion) that prints `ss -tinpH` (or, on a
host without `ss`, /proc/net/tcp{,6}), /proc/net/udp, /proc/net/igmp, /proc/net/snmp and,
when the gateway's config path is known, the pids whose command line names it. The pure
parsers below read that text; `SocketTracker` turns successive tables into drill's event
types for each watched gateway:

- `login`: an established TCP session to one of the gateway's service addresses appears
  (with bytes received: the logon was answered);
- `link_down`: that session goes (closed, reset, or no longer established), or stays
  established while receiving nothing for `silent_after_s` (`ss`'s `lastrcv` then dates
  the last byte received to the millisecond);
- `md_flow` (market data): flowing while the TCP session's received bytes move, or,
  without it, while the multicast group is joined and UDP datagrams are delivered;
  stalled otherwise, with `source` tcp | multicast.

Times are the runner's own clock (the middle of the SSH exec that read the table), so no
host clock offset applies; an event between two polls is placed in the middle of the
window with `uncertainty_ms` half its width (the poll period), except a silent link,
which `lastrcv` dates (uncertainty: half the exec's round trip).

A table is only read whole or not at all: one in which a read that earlier tables of the
host had (`ss`, a /proc file, the stamps) came back empty or failed is skipped, so a
command that failed once never reads as a session closed, a login or a stall; the next
whole table is compared with the last whole one, its window (and uncertainty) spanning
the skipped one.
"""

from __future__ import annotations

import base64
import re
import shlex
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from orchestrator.adapters.ssh import SshPool
from orchestrator.model.stamp import iso_ns

SOURCE = "host-socket"
_PROC_STATES = {"01": "ESTAB", "02": "SYN-SENT", "03": "SYN-RECV", "04": "FIN-WAIT-1", "05": "FIN-WAIT-2",
                "06": "TIME-WAIT", "07": "UNCONN", "08": "CLOSE-WAIT", "09": "LAST-ACK", "0A": "LISTEN",
                "0B": "CLOSING"}

Addr = tuple[str, int]


@dataclass(frozen=True)
class TcpSocket:
    state: str  # ss's names: ESTAB, SYN-SENT, FIN-WAIT-1, …
    local: Addr
    peer: Addr
    pids: tuple[int, ...] = ()  # owning processes (ss -p, root only); () when unknown or orphaned
    owned: bool | None = None  # a process holds it (False: orphaned, closing); None: unknown
    bytes_received: int | None = None  # ss -i only
    lastrcv_ms: int | None = None  # ms since the last byte received (ss -i only)
    inode: int | None = None  # ss -e, /proc/net/tcp (0: no process holds it)


@dataclass(frozen=True)
class UdpSocket:
    local: Addr
    drops: int = 0


@dataclass(frozen=True)
class SocketTable:
    tcp: tuple[TcpSocket, ...] = ()
    udp: tuple[UdpSocket, ...] = ()
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # interface -> joined groups
    udp_in_datagrams: int | None = None
    pids: Mapping[str, tuple[int, ...]] = field(default_factory=dict)  # config path -> its processes
    inodes: Mapping[str, frozenset[int]] = field(default_factory=dict)  # config path -> its sockets
    ss_ns: int | None = None  # how long reading the tables took on the host (a clock difference: no offset)
    read: frozenset[str] = frozenset()  # the reads that came back whole (`parse_snapshot`, READS)


@dataclass(frozen=True)
class SocketEvent:
    gateway: str
    type: str  # login | link_down | md_flow
    ts_ns: int
    uncertainty_ns: int
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_event(self) -> dict[str, Any]:
        """The event as a monitor-stream event (docs/monitor-api.md) naming its source."""
        unc = round(self.uncertainty_ns / 1e6, 3)
        data = {**self.data, "source_kind": SOURCE, "uncertainty_ms": unc}
        return {"gateway": self.gateway, "type": self.type, "ts": iso_ns(self.ts_ns), "ts_ns": self.ts_ns,
                "source": SOURCE, "uncertainty_ms": unc, "data": data}


# -- parsing ------------------------------------------------------------------------------------

_SS_ADDR = re.compile(r"^\[?(?:::ffff:)?([0-9a-fA-F.:]+?)\]?(?:%\S+)?:(\d+|\*)$")


def _ss_addr(text: str) -> Addr | None:
    m = _SS_ADDR.match(text)
    if not m or m.group(2) == "*":
        return None
    return m.group(1), int(m.group(2))


def parse_ss(text: str) -> list[TcpSocket]:
    """`ss -tinpH` (or `-tinH`, `-tnH`): a socket line, then an indented line of TCP info."""
    out: list[TcpSocket] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if line[0] in " \t":
            if out:
                out[-1] = _with_info(out[-1], line)
            continue
        words = line.split()
        if len(words) < 5 or not words[1].isdigit():
            continue
        local, peer = _ss_addr(words[3]), _ss_addr(words[4])
        if local is None or peer is None:
            continue
        rest = " ".join(words[5:])
        pids = tuple(int(p) for p in re.findall(r"pid=(\d+)", rest))
        ino = re.search(r"\bino:(\d+)", rest)
        inode = int(ino.group(1)) if ino else None
        owned = True if pids else (None if "users:" not in text else False)
        if inode is not None and owned is None:
            owned = inode != 0
        out.append(TcpSocket(words[0], local, peer, pids, owned, inode=inode))
    return out


def _with_info(sock: TcpSocket, info: str) -> TcpSocket:
    # ss prints neither counter while it is zero: no `lastrcv` = a byte this millisecond
    got = dict(re.findall(r"\b(bytes_received|lastrcv):(\d+)", info))
    return replace(sock, bytes_received=int(got.get("bytes_received", 0)), lastrcv_ms=int(got.get("lastrcv", 0)))


def _hex_addr(text: str) -> Addr:
    addr, port = text.split(":")
    raw = bytes.fromhex(addr)
    if len(raw) == 4:
        return ".".join(str(b) for b in raw[::-1]), int(port, 16)
    words = [raw[i:i + 4][::-1] for i in range(0, 16, 4)]  # four host-order 32-bit words
    full = b"".join(words)
    if full[:12] == b"\0" * 10 + b"\xff\xff":
        return ".".join(str(b) for b in full[12:]), int(port, 16)
    return ":".join(full[i:i + 2].hex() for i in range(0, 16, 2)), int(port, 16)


def _proc_rows(text: str):
    """The socket rows of a /proc/net/{tcp,tcp6,udp} table, split into fields."""
    for line in text.splitlines():
        f = line.split()
        if len(f) >= 10 and f[0].endswith(":") and f[0][:-1].isdigit():
            yield f


def parse_proc_tcp(text: str) -> list[TcpSocket]:
    """/proc/net/tcp and tcp6 (no byte counters; inode 0 = no process holds the socket)."""
    out = []
    for f in _proc_rows(text):
        try:
            out.append(TcpSocket(_PROC_STATES.get(f[3].upper(), f[3]), _hex_addr(f[1]), _hex_addr(f[2]),
                                 owned=f[9] != "0", inode=int(f[9]) if f[9].isdigit() else None))
        except ValueError:
            continue
    return out


def parse_proc_udp(text: str) -> list[UdpSocket]:
    out = []
    for f in _proc_rows(text):
        try:
            out.append(UdpSocket(_hex_addr(f[1]), int(f[-1]) if f[-1].isdigit() else 0))
        except ValueError:
            continue
    return out


def parse_igmp(text: str) -> dict[str, tuple[str, ...]]:
    """/proc/net/igmp: the IPv4 multicast groups joined, per interface."""
    out: dict[str, list[str]] = {}
    iface = None
    for line in text.splitlines():
        m = re.match(r"^\d+\s+(\S+)\s*:", line)
        if m:
            iface = m.group(1)
            out.setdefault(iface, [])
            continue
        f = line.split()
        if iface and f and re.fullmatch(r"[0-9A-Fa-f]{8}", f[0]):
            out[iface].append(".".join(str(b) for b in bytes.fromhex(f[0])[::-1]))
    return {k: tuple(v) for k, v in out.items()}


def parse_snmp_udp(text: str) -> int | None:
    """/proc/net/snmp: `Udp: InDatagrams` (datagrams delivered to sockets, host-wide)."""
    head = None
    for line in text.splitlines():
        if line.startswith("Udp: "):
            if head is None:
                head = line.split()[1:]
            else:
                values = dict(zip(head, line.split()[1:], strict=False))
                return int(values["InDatagrams"]) if "InDatagrams" in values else None
    return None


def parse_pids(text: str) -> tuple[int, ...]:
    return tuple(sorted({int(m) for m in re.findall(r"/proc/(\d+)/cmdline", text)}))


def parse_inodes(text: str) -> frozenset[int]:
    """`socket:[N]` links of a process's /proc/PID/fd."""
    return frozenset(int(m) for m in re.findall(r"socket:\[(\d+)\]", text))


def snapshot_command(matches: Iterable[str] = ()) -> str:
    """One shell command printing every section `parse_snapshot` reads."""
    parts = []
    for match in matches:
        # The pattern reaches grep on stdin, so no process's own command line contains it.
        b64 = base64.b64encode(match.encode()).decode()
        # its processes, and their sockets' inodes (so `ss` need not scan every process: no -p)
        parts += [f"echo '@@pids {b64}'",
                  f"for f in $(printf %s {shlex.quote(b64)} | base64 -d | grep -lzFf - /proc/[0-9]*/cmdline"
                  " 2>/dev/null); do echo \"$f\"; ls -l \"${f%/cmdline}/fd\" 2>/dev/null"
                  " | grep -o 'socket:\\[[0-9]*\\]'; done"]
    # The kernel's tables last, between two stamps, so a table's time (the middle of the
    # two, `lastrcv` most of all) is when they were read: the process scan above can take
    # hundreds of milliseconds on a busy host and must not age them.
    parts += ['echo "@@t0 $(date +%s%N)"',
              "echo '@@tcp'", "cat /proc/net/tcp /proc/net/tcp6 2>/dev/null",
              "echo '@@udp'", "cat /proc/net/udp 2>/dev/null",
              "echo '@@igmp'", "cat /proc/net/igmp 2>/dev/null",
              "echo '@@snmp'", "cat /proc/net/snmp 2>/dev/null",
              "echo '@@ss'", "(ss -tineH 2>/dev/null || echo '@@noss')",
              'echo "@@t1 $(date +%s%N)"']
    return "; ".join(parts)


def stream_command(matches: Iterable[str] = (), period_s: float = 0.2) -> str:
    """The snapshot in a loop on the host, each table ended by `@@end` (one long exec)."""
    return f"while :; do {snapshot_command(matches)}; echo '@@end'; sleep {period_s:g}; done"


# each read of the snapshot, and what its whole output always holds
READS = {"tcp": "local_address", "udp": "local_address", "igmp": "Idx", "snmp": "Udp: "}


def parse_snapshot(text: str) -> SocketTable:
    sections: dict[str, list[str]] = {}
    name = ""
    for line in text.splitlines():
        if line.startswith("@@"):
            name = line[2:].strip()
            sections.setdefault(name, [])
        else:
            sections.setdefault(name, []).append(line)

    def get(key: str) -> str:
        return "\n".join(sections.get(key, ()))

    tcp = parse_ss(get("ss")) if "noss" not in sections and "ss" in sections else parse_proc_tcp(get("tcp"))
    pids = {base64.b64decode(k[5:]).decode(errors="replace"): parse_pids(get(k))
            for k in sections if k.startswith("pids ")}
    inodes = {base64.b64decode(k[5:]).decode(errors="replace"): parse_inodes(get(k))
              for k in sections if k.startswith("pids ")}
    stamps = {k[:2]: int(k[3:]) for k in sections if k[:3] in ("t0 ", "t1 ") and k[3:].isdigit()}
    ss_ns = stamps["t1"] - stamps["t0"] if len(stamps) == 2 else None
    read = {k for k, mark in READS.items() if mark in get(k)} | ({"stamps"} if ss_ns is not None else set())
    if "ss" in sections and "noss" not in sections:
        read.add("ss")
    return SocketTable(tuple(tcp), tuple(parse_proc_udp(get("udp"))), parse_igmp(get("igmp")),
                       parse_snmp_udp(get("snmp")), pids, inodes, ss_ns, frozenset(read))


# -- from tables to events ----------------------------------------------------------------------

@dataclass(frozen=True)
class Watch:
    """One gateway's sessions on its host."""

    gateway: str
    service: str  # trading | market_data | settlement
    servers: Mapping[Addr, str]  # service address -> centre id
    match: str | None = None  # its config path, found in its process's command line
    multicast: Addr | None = None  # market data: the fallback group and port
    silent_after_s: float = 2.0  # receiving nothing this long on an established session = link down
    md_stall_s: float = 0.5  # market data: receiving nothing this long on its session = stalled


@dataclass
class _State:
    session: TcpSocket | None = None
    centre: str | None = None
    silent: bool = False
    md: str | None = None  # None (not yet known) | "tcp" | "multicast" | "stalled"


class SocketTracker:
    """Successive socket tables of one host -> events for its watched gateways."""

    def __init__(self, watches: Iterable[Watch]):
        self.watches = tuple(watches)
        self._state = {w.gateway: _State() for w in self.watches}
        self._prev: tuple[int, SocketTable] | None = None
        # gateway -> most established sessions its own process held at once (no_double_login);
        # counted only while its process and its sockets are known (see `sessions`)
        self.max_sessions: dict[str, int] = {}
        self._now_ns: int | None = None
        self._udp_rise_ns: int | None = None  # the last table that saw UDP datagrams delivered
        self._reads: frozenset[str] = frozenset()  # every read a whole table of this host had
        self.skipped = 0  # tables skipped: a read earlier tables had came back empty or failed

    def feed(self, t_ns: int, table: SocketTable, rtt_ns: int = 0) -> list[SocketEvent]:
        if not self._reads <= table.read:
            self.skipped += 1  # not a table of this host's state: nothing told from it
            return []
        self._reads |= table.read
        prev, self._prev = self._prev, (t_ns, table)
        self._now_ns = t_ns
        if (prev is not None and table.udp_in_datagrams is not None and prev[1].udp_in_datagrams is not None
                and table.udp_in_datagrams > prev[1].udp_in_datagrams):
            self._udp_rise_ns = t_ns  # UDP datagrams delivered since the last table
        for w in self.watches:
            n = sessions(w, table)
            if n is not None:
                self.max_sessions[w.gateway] = max(self.max_sessions.get(w.gateway, 0), n)
        if prev is None:
            for w in self.watches:  # the first table only sets the state
                st = self._state[w.gateway]
                st.session = self._session(w, table)
                st.centre = w.servers.get(st.session.peer) if st.session else None
                st.md = self._md(w, table, None, st.session) if w.service == "market_data" else None
            return []
        t0, before = prev
        mid, half = (t0 + t_ns) // 2, (t_ns - t0) // 2
        out: list[SocketEvent] = []
        for w in self.watches:
            out += self._step(w, self._state[w.gateway], table, before, t_ns, mid, half, rtt_ns)
        return out

    def _step(self, w: Watch, st: _State, table: SocketTable, before: SocketTable, t_ns: int, mid: int,
              half: int, rtt_ns: int) -> list[SocketEvent]:
        out = []
        now = self._session(w, table)
        same = st.session is not None and now is not None and (now.local, now.peer) == (st.session.local,
                                                                                          st.session.peer)
        if st.session is not None and not same:
            if not st.silent:
                out.append(SocketEvent(w.gateway, "link_down", mid, half, {
                    "centre": st.centre, "address": _fmt(st.session.peer), "reason": "closed",
                    "service": w.service}))
            st.session, st.centre, st.silent = None, None, False
        if now is not None and st.session is None and (now.bytes_received is None or now.bytes_received > 0):
            st.session, st.centre = now, w.servers.get(now.peer)
            out.append(SocketEvent(w.gateway, "login", mid, half, {
                "centre": st.centre, "address": _fmt(now.peer), "session": _fmt(now.local),
                "service": w.service}))
        elif same and now is not None:
            st.session = now
            quiet = now.lastrcv_ms
            if not st.silent and quiet is not None and quiet >= w.silent_after_s * 1000:
                st.silent = True
                out.append(SocketEvent(w.gateway, "link_down", t_ns - quiet * 1_000_000, rtt_ns // 2, {
                    "centre": st.centre, "address": _fmt(now.peer), "reason": "silent",
                    "last_received_ms_ago": quiet, "service": w.service}))
        if w.service == "market_data":
            md = self._md(w, table, before, None if st.silent else st.session)
            if md != st.md:
                at, unc = mid, half
                quiet = st.session.lastrcv_ms if st.session is not None else None
                if md == "stalled" and st.md == "tcp" and quiet is not None:
                    at, unc = t_ns - quiet * 1_000_000, rtt_ns // 2  # ss dates the last byte
                out.append(SocketEvent(w.gateway, "md_flow", at, unc, {
                    "state": "stalled" if md == "stalled" else "flowing",
                    "source": None if md == "stalled" else md, "centre": st.centre}))
                st.md = md
        return out

    @staticmethod
    def _session(w: Watch, table: SocketTable) -> TcpSocket | None:
        found = [s for s in table.tcp if s.state == "ESTAB" and s.peer in w.servers and s.owned is not False
                 and _mine(w, table, s)]
        return max(found, key=lambda s: s.bytes_received or 0) if found else None

    def _md(self, w: Watch, table: SocketTable, before: SocketTable | None, session: TcpSocket | None) -> str:
        """tcp while its session received within `md_stall_s` (`ss`'s lastrcv; without it,
        bytes received since the last table); multicast while the group is joined, its port
        bound and UDP datagrams were delivered within `md_stall_s`; else stalled. (Tables
        come faster than ticks: "nothing since the last table" alone would flap.)"""
        if session is not None:
            if session.lastrcv_ms is not None:
                if session.lastrcv_ms < w.md_stall_s * 1000:
                    return "tcp"
            else:
                old = next((s for s in (before.tcp if before else ()) if (s.local, s.peer) == (session.local,
                                                                                                session.peer)), None)
                if before is None or old is None or (session.bytes_received or 0) > (old.bytes_received or 0):
                    return "tcp"
        if w.multicast is not None:
            joined = any(w.multicast[0] in groups for groups in table.groups.values())
            bound = any(u.local[1] == w.multicast[1] for u in table.udp)
            delivered = (self._udp_rise_ns is not None and self._now_ns is not None
                         and self._now_ns - self._udp_rise_ns < w.md_stall_s * 1e9)
            if joined and bound and delivered:
                return "multicast"
        return "stalled"


def sessions(w: Watch, table: SocketTable) -> int | None:
    """How many established sessions to its service addresses the gateway's own process
    holds (by its sockets' inodes); None when that cannot be told (no config path to find
    its process by, the process not found, or its sockets unknown)."""
    inodes = table.inodes.get(w.match) if w.match else None
    if not inodes:
        return None
    return sum(1 for s in table.tcp if s.state == "ESTAB" and s.peer in w.servers and s.inode in inodes)


def _mine(w: Watch, table: SocketTable, s: TcpSocket) -> bool:
    """The socket belongs to the watched gateway's process (by inode, else pid), or no
    process filter applies (no config path, or nothing to tell the owner by)."""
    if not w.match or w.match not in table.pids:
        return True
    inodes = table.inodes.get(w.match)
    if s.inode and inodes:
        return s.inode in inodes
    if s.pids:
        return bool(set(s.pids) & set(table.pids[w.match]))
    return True


def _fmt(addr: Addr) -> str:
    return f"{addr[0]}:{addr[1]}"


# -- polling over SSH ---------------------------------------------------------------------------

class HostSocketObserver:
    """Polls one gateway host's socket table over the run's SSH pool every `period_s`."""

    def __init__(self, pool: SshPool, host: str, watches: Iterable[Watch], period_s: float = 0.2,
                 timeout_s: float = 10.0):
        self.pool = pool
        self.host = host
        self.tracker = SocketTracker(watches)
        self.period_s = period_s
        self.timeout_s = timeout_s
        self.tables = 0  # socket tables read so far (the first one only sets the state)
        self.matches = sorted({w.match for w in self.tracker.watches if w.match})
        self.command = snapshot_command(self.matches)

    def poll(self) -> list[SocketEvent]:
        res = self.pool.run(self.host, self.command, timeout_s=self.timeout_s)
        self.tables += 1
        t_ns = (res.started_ns + res.ended_ns) // 2
        return self.tracker.feed(t_ns, parse_snapshot(res.stdout), res.ended_ns - res.started_ns)

    def run(self, stop: threading.Event, on_event: Callable[[SocketEvent], None]) -> None:
        """Stream tables from one long exec on the host until `stop` is set, handing each
        event on. A table is dated when it arrives, less half of `ss`'s own run time."""
        chan = self.pool.transport(self.host).open_session(timeout=self.timeout_s)
        try:
            chan.settimeout(0.2)
            chan.exec_command(stream_command(self.matches, self.period_s))
            buf = b""
            while not stop.is_set():
                try:
                    data = chan.recv(1 << 16)
                except TimeoutError:
                    continue
                if not data:
                    raise ConnectionError(f"{self.host}: the socket-table stream ended")
                buf += data
                while b"@@end\n" in buf:
                    block, buf = buf.split(b"@@end\n", 1)
                    now = time.time_ns()
                    table = parse_snapshot(block.decode(errors="replace"))
                    self.tables += 1
                    ss = table.ss_ns or 0
                    for ev in self.tracker.feed(now - ss // 2, table, ss + 2_000_000):
                        on_event(ev)
        finally:
            chan.close()
