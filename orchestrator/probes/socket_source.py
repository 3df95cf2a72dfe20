"""The host-socket source in a run: each `observe: host` gateway's TCP sessions to the
centres' service addresses (and, for market data, its multicast reception) read from its
host's kernel over the run's SSH connection (`probes/host_socket.py`), beside its log.

One `SocketSource` per gateway host streams that host's socket tables (one long exec,
nothing installed, no port opened) and hands each event on as a `Received` naming its
source `host-socket`. The engine keeps these events apart from the log's (the log is the
primary source the verdict rests on; the socket table is the independent second source
measured beside it, docs/observers.md "Two sources").
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from orchestrator.model.inventory import Gateway, Inventory
from orchestrator.probes.host_socket import SOURCE, HostSocketObserver, SocketEvent, Watch
from orchestrator.probes.monitor import Received

log = logging.getLogger(__name__)

RETRY_S = 1.0  # a broken stream is opened again after this long


class SocketSink(Protocol):
    def socket_event(self, rec: Received) -> None: ...


def watch_of(inv: Inventory, gw: Gateway) -> Watch:
    """What the socket table shows of one gateway: its service's addresses at every centre
    (a settlement gateway's include the SM variant), its process by its config path in its
    command line, and for market data the multicast group of the inventory."""
    svc = gw.service_name
    servers = {(ep.address, ep.port): c.id for c in inv.centres for name, ep in c.services.items()
               if name == svc or name.startswith(svc + "_")}
    mcast = (inv.multicast.address, inv.multicast.port) if (
        inv.multicast is not None and gw.kind == "market_data") else None
    return Watch(gw.id, svc, servers, gw.config or None, mcast)


@dataclass
class SocketSource:
    """One host's socket tables for the watched gateways on it (`host-socket`)."""

    host: str
    observer: HostSocketObserver
    gateways: tuple[str, ...]
    source: str = SOURCE
    events: int = 0
    error: str | None = None  # the last reason the stream broke
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    @property
    def where(self) -> str:
        return f"{self.host}:/proc/net"

    def start(self, sink: SocketSink) -> None:
        self._thread = threading.Thread(target=self._run, args=(sink,), daemon=True,
                                        name=f"host-socket {self.host}")
        self._thread.start()

    def _run(self, sink: SocketSink) -> None:
        def deliver(ev: SocketEvent) -> None:
            self.events += 1
            sink.socket_event(Received(ev.gateway, ev.to_event(), time.time_ns()))

        while not self._stop.is_set():
            try:
                self.observer.run(self._stop, deliver)
            except Exception as e:  # the host is away for a moment: the next stream goes on
                self.error = f"{type(e).__name__}: {e}"
                log.warning("host-socket %s: %s", self.host, self.error)
                self._stop.wait(RETRY_S)

    def wait_tables(self, timeout_s: float) -> bool:
        """Whether the first table (which sets the state) was read in time."""
        deadline = time.monotonic() + timeout_s
        while self.observer.tables == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.observer.tables > 0

    def max_sessions(self) -> dict[str, int]:
        return dict(self.observer.tracker.max_sessions)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def socket_sources(inv: Inventory, access: Any, gateways: Iterable[Gateway],
                   period_s: float = 0.1) -> list[SocketSource]:
    """A socket source per gateway host, when the target reaches hosts over SSH (`access`
    has the run's `pool`); none otherwise (the lab: its exchange's session table decides)."""
    pool = getattr(access, "pool", None)
    if pool is None:
        return []
    by_host: dict[str, list[Gateway]] = {}
    for gw in gateways:
        by_host.setdefault(gw.host, []).append(gw)
    return [SocketSource(host, HostSocketObserver(pool, host, [watch_of(inv, g) for g in gws], period_s=period_s),
                         tuple(g.id for g in gws))
            for host, gws in by_host.items()]
