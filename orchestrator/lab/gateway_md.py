"""A lab gateway's market data: TCP feed or the multicast fallback, sequence gaps and their
recovery, and flow/stall events (docs/monitor-api.md `md_*` events)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from orchestrator.journal.chain import iso_ns

STALL_TICKS = 5
STALL_MIN_S = 0.25


def server_time(field: str | None) -> dict[str, Any]:
    """The exchange's own send time from its answer, as monitor event fields (none if the
    answer carries none): the gateway's `ts` says when it read the answer, this says when
    the exchange sent it, which a loaded host's scheduling delay does not move."""
    if field is None or not field.isdigit():
        return {}
    ns = int(field)
    return {"server_time": iso_ns(ns), "server_time_ns": ns}


@dataclass
class Gap:
    channel: int
    first: int
    last: int
    missing: set[int] = field(default_factory=set)

    def as_dict(self) -> dict[str, Any]:
        return {"channel": self.channel, "from_seq": self.first, "to_seq": self.last,
                "recovered": not self.missing}


@dataclass
class MdState:
    source: str = "none"
    last_seq: dict[int, int] = field(default_factory=dict)
    last_seq_time_ns: int | None = None
    gaps: list[Gap] = field(default_factory=list)
    stalled: bool = True
    last_tick: float = 0.0
    timer: asyncio.TimerHandle | None = None
    interval: float = 0.05


class McastProtocol(asyncio.DatagramProtocol):
    def __init__(self, gw: MarketData):
        self.gw = gw

    def datagram_received(self, data: bytes, addr) -> None:  # type: ignore[override]
        for line in data.split(b"\n"):
            if line.startswith(b"T "):
                self.gw.on_tick(line, "multicast")


class MarketData:
    """The market-data half of `GatewayProcess` (a mixin: it uses the gateway's config,
    event stream, loop and multicast socket)."""

    md: MdState | None
    udp: Any
    cfg: Any
    loop: asyncio.AbstractEventLoop
    emit: Callable[..., None]  # the gateway's monitor event

    def _mcast_join(self) -> None:
        md = self.md
        if md is None or self.udp is None or self.cfg.multicast is None:
            return
        port = self.udp.get_extra_info("sockname")[1]
        self.udp.sendto(f"JOIN {self.cfg.id} {port}".encode(), self.cfg.multicast)
        if md.source != "multicast":
            self.emit("md_source", **{"from": md.source, "to": "multicast"})
            md.source = "multicast"

    def _mcast_leave(self) -> None:
        if self.udp is not None and self.cfg.multicast is not None:
            self.udp.sendto(f"LEAVE {self.cfg.id}".encode(), self.cfg.multicast)

    def _md_to_tcp(self, writer: asyncio.StreamWriter) -> None:
        md = self.md
        assert md is not None
        if md.source == "multicast":
            self._mcast_leave()
        if md.source != "tcp":
            self.emit("md_source", **{"from": md.source, "to": "tcp"})
            md.source = "tcp"
        for gap in md.gaps:
            if gap.missing:
                writer.write(f"RESEND {gap.channel} {gap.first} {gap.last}\n".encode())

    def on_tick(self, line: bytes, source: str) -> None:
        md = self.md
        if md is None:
            return
        parts = line.split()
        retransmit = len(parts) > 4
        if source != md.source and not retransmit:
            return  # the old source's last packets after a switch
        ch, seq = int(parts[1]), int(parts[2])
        last = md.last_seq.get(ch, 0)
        if seq <= last:
            if retransmit:
                self._fill(ch, seq)
            return
        if last and seq > last + 1:
            gap = Gap(ch, last + 1, seq - 1, set(range(last + 1, seq)))
            md.gaps.append(gap)
            self.emit("md_gap", **gap.as_dict(), source=source)
        md.last_seq[ch] = seq
        md.last_seq_time_ns = time.time_ns()
        md.last_tick = self.loop.time()
        if md.stalled:
            md.stalled = False
            # A retransmitted tick carries its first send time, not when service came back.
            sent = {} if retransmit else server_time(parts[3].decode() if len(parts) > 3 else None)
            self.emit("md_flow", state="flowing", channel=ch, seq=seq, source=source, **sent)
        if md.timer is None:
            md.timer = self.loop.call_at(md.last_tick + self._stall_after(), self.loop.call_soon,
                                         self._stall)

    def _fill(self, ch: int, seq: int) -> None:
        assert self.md is not None
        for gap in self.md.gaps:
            if gap.channel == ch and seq in gap.missing:
                gap.missing.discard(seq)
                if not gap.missing:
                    self.emit("md_gap", **gap.as_dict(), source="tcp")
                return

    def _stall_after(self) -> float:
        assert self.md is not None
        return max(STALL_TICKS * self.md.interval, STALL_MIN_S)

    def _stall(self) -> None:
        md = self.md
        assert md is not None
        due = md.last_tick + self._stall_after()
        if self.loop.time() < due:
            md.timer = self.loop.call_at(due, self.loop.call_soon, self._stall)
            return
        md.timer = None
        md.stalled = True
        self.emit("md_flow", state="stalled", channel=None,
                  seq={str(k): v for k, v in md.last_seq.items()}, source=md.source)
