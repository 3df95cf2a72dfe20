"""The `host` observer: a gateway seen through its host alone (docs/observers.md).

A `GatewaySource` is one way of learning what a gateway does without its help; it delivers
the events drill times (login, link_down, md_flow, transfer) as `Received` records, the
monitor stream's shape, so the engine's `GatewayTracker` and timing work unchanged. This
module has the log source (`LogSource`: the gateway's own log, followed live across
rotation and read through its profile) and the two ways of reaching a log: locally
(`LocalLogAccess`, the lab) and over SSH through the bastion (`SshLogAccess`). A second
source (the host's socket table, `host-socket`) plugs in through the same Protocol.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from orchestrator.model.inventory import Gateway, Inventory
from orchestrator.model.profile import Profile
from orchestrator.probes.gateway_log import ClockCorrection, LogParser
from orchestrator.probes.monitor import Received

if TYPE_CHECKING:
    from orchestrator.adapters.ssh import SshSupplier

log = logging.getLogger(__name__)

ROTATED_SUFFIX = ".1"  # where a rotated-away log goes (read once at start)


class ObserverSink(Protocol):
    """Where a source delivers: the engine's tracker and journal."""

    def event(self, rec: Received) -> None: ...

    def connected(self, gateway: str, up: bool) -> None: ...


class GatewaySource(Protocol):
    """One way of watching one gateway from its host."""

    gateway: str
    source: str  # the journal's name for it: gateway-log, host-socket
    where: str  # what it reads, for messages (host:path)

    def start(self, sink: ObserverSink) -> None:
        """Begin delivering (a thread of its own); never raises for the host's sake."""

    def wait_identity(self, timeout_s: float) -> str | None:
        """The gateway id the host reports (its log, its config); None when none by then."""

    def close(self) -> None: ...


class LineFollower(Protocol):
    """A followed log (probes/log.py LocalLogFollower, probes/ssh.py SshLogFollower):
    `LogLine`s into `lines`, None when it stopped."""

    lines: queue.Queue

    def start(self) -> Any: ...

    def close(self) -> None: ...


class LogAccess(Protocol):
    """How a target reaches gateway logs: is one readable, follow it, the host's clock."""

    def unreadable(self, gw: Gateway) -> str | None:
        """Why the gateway's log cannot be read (None: it can)."""

    def follower(self, gw: Gateway, encoding: str) -> LineFollower: ...

    def clock(self, gw: Gateway) -> ClockCorrection: ...

    def close(self) -> None: ...


def centre_addresses(inv: Inventory) -> dict[str, str]:
    """Every centre service address ("a.b.c.d:port" and bare "a.b.c.d") -> centre id."""
    out: dict[str, str] = {}
    for c in inv.centres:
        for ep in c.services.values():
            out[f"{ep.address}:{ep.port}"] = c.id
            out.setdefault(ep.address, c.id)
    return out


@dataclass
class LogSource:
    """The gateway's own log through its profile (`gateway-log`)."""

    gateway: str
    profile: Profile
    follower: LineFollower
    where: str
    clock: ClockCorrection = field(default_factory=ClockCorrection)
    centres: Mapping[str, str] = field(default_factory=dict)
    service: str | None = None
    source: str = "gateway-log"
    reported: str | None = None  # the id the log declared last
    lines_read: int = 0
    _identified: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self, sink: ObserverSink) -> None:
        self.follower.start()
        sink.connected(self.gateway, True)
        self._thread = threading.Thread(target=self._run, args=(sink,), daemon=True,
                                        name=f"gateway-log {self.gateway}")
        self._thread.start()

    def _run(self, sink: ObserverSink) -> None:
        parser = LogParser(self.profile, self.clock, self.centres, self.service)
        seq = 0
        while True:
            line = self.follower.lines.get()
            if line is None:
                sink.connected(self.gateway, False)
                return
            self.lines_read += 1
            try:
                events = parser.parse(line.text)
            except Exception:  # one odd line must not end the watch of this gateway
                log.exception("gateway log %s: line %d not parsed", self.where, self.lines_read)
                continue
            if parser.gateway is not None and parser.gateway != self.reported:
                self.reported = parser.gateway
                self._identified.set()
            if self.reported != self.gateway:
                continue  # another gateway's log (or none declared yet): never its events
            for e in events:
                seq += 1
                sink.event(Received(self.gateway, {**e.as_event(seq), "gateway": self.gateway},
                                    line.received_ns))

    def wait_identity(self, timeout_s: float) -> str | None:
        self._identified.wait(timeout_s)
        return self.reported

    def close(self) -> None:
        self.follower.close()
        if self._thread is not None:
            self._thread.join(timeout=5)


@dataclass
class LocalLogAccess:
    """Logs on this machine (the lab): a relative `log:` is under `root` (the lab state)."""

    root: Path

    def path(self, gw: Gateway) -> Path:
        return self.root / str(gw.log)

    def unreadable(self, gw: Gateway) -> str | None:
        p = self.path(gw)
        if not p.is_file() or not os.access(p, os.R_OK):
            return f"log {p} is not a readable file"
        return None

    def follower(self, gw: Gateway, encoding: str) -> LineFollower:
        from orchestrator.probes.log import LocalLogFollower

        p = self.path(gw)
        return LocalLogFollower(str(p), encoding, from_start=True,
                                previous=str(p) + ROTATED_SUFFIX)

    def clock(self, gw: Gateway) -> ClockCorrection:
        return ClockCorrection(0, 0)  # one clock

    def close(self) -> None:
        return None


class SshLogAccess:
    """Logs on the gateway hosts, over one SSH connection per host through the bastion
    (`adapters/ssh.py` SshPool); each host's clock offset measured once, on that session."""

    def __init__(self, inventory_path: str | Path,
                 measure: Callable[[Any, str], Any] | None = None, ssh: SshSupplier | None = None) -> None:
        from orchestrator.adapters.hosts import load_topology, measure_clock_offset
        from orchestrator.adapters.ssh import SshPool

        # the run's pool when given (`ssh()`, closed by the run), else one of our own
        self._own = ssh is None
        self.pool = SshPool(load_topology(inventory_path)) if ssh is None else ssh()
        self._measure = measure or measure_clock_offset
        self._clocks: dict[str, ClockCorrection] = {}

    def unreadable(self, gw: Gateway) -> str | None:
        from orchestrator.probes.ssh import _quote

        try:
            res = self.pool.run(gw.host, f"test -f {_quote(str(gw.log))} -a -r {_quote(str(gw.log))}",
                                timeout_s=10)
        except Exception as e:  # unreachable, unknown key: the gateway cannot be observed
            return f"host {gw.host}: {type(e).__name__}: {e}"
        return None if res.exit_status == 0 else f"log {gw.host}:{gw.log} is not a readable file"

    def follower(self, gw: Gateway, encoding: str) -> LineFollower:
        from orchestrator.probes.ssh import SshLogFollower

        return SshLogFollower(self.pool, gw.host, str(gw.log), from_start=True,
                              encoding=encoding, previous=str(gw.log) + ROTATED_SUFFIX)

    def clock(self, gw: Gateway) -> ClockCorrection:
        if gw.host not in self._clocks:
            off = self._measure(self.pool, gw.host)
            self._clocks[gw.host] = ClockCorrection(off.offset_ns, off.uncertainty_ns)
        return self._clocks[gw.host]

    def close(self) -> None:
        if self._own:
            self.pool.close()


def sessions_in_log(events) -> tuple[int, int]:
    """(most sessions the gateway held at once, duplicate logons the exchange refused), by
    its own log's events in order: a login while a session is live (no link loss and no new
    connection attempt since) is a second session; `logon_refused` is the exchange
    refusing one (the profile's duplicate-logon pattern)."""
    live, most, refused = 0, 0, 0
    for e in events:
        if e.type == "login":
            live += 1
            most = max(most, live)
        elif e.type in ("link_down", "connecting"):
            live = 0
        elif e.type == "logon_refused":
            refused += 1
    return most, refused


def host_sources(inv: Inventory, access: LogAccess, gateways: list[Gateway],
                 load_profile: Callable[[str], Profile]) -> tuple[list[GatewaySource], dict[str, str]]:
    """Every source of the `observe: host` gateways, and why each gateway without one has
    none: the engine's one entry point (a second source, the socket table, joins here)."""
    sources, why_not = log_sources(inv, access, gateways, load_profile)
    return list(sources), why_not


def log_sources(inv: Inventory, access: LogAccess, gateways: list[Gateway],
                load_profile: Callable[[str], Profile]) -> tuple[list[LogSource], dict[str, str]]:
    """A log source for each gateway that can have one, and why each other cannot."""
    sources: list[LogSource] = []
    why_not: dict[str, str] = {}
    centres = centre_addresses(inv)
    for gw in gateways:
        if not gw.profile:
            why_not[gw.id] = "observe: host, but no profile: in the inventory"
            continue
        if not gw.log:
            why_not[gw.id] = "observe: host, but no log: in the inventory"
            continue
        try:
            prof = load_profile(gw.profile)
        except Exception as e:  # a profile that does not read: this gateway cannot be observed
            why_not[gw.id] = f"profile {gw.profile}: {e}"
            continue
        problem = access.unreadable(gw)
        if problem is not None:
            why_not[gw.id] = problem
            continue
        try:
            clock = access.clock(gw)
        except Exception as e:
            why_not[gw.id] = f"clock offset of host {gw.host}: {type(e).__name__}: {e}"
            continue
        sources.append(LogSource(gw.id, prof, access.follower(gw, prof.encoding),
                                 f"{gw.host}:{gw.log}", clock, centres, gw.service_name))
    return sources, why_not
