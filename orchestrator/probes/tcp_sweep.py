"""Many `tcp` probes on one period, on one shared tick (issue 8 P2 a).

`run_periodic` gives each probe a task, a future and two timers per sample, and asyncio a
selector registration and removal per connect: about 110 µs of CPU per sample, so 1,000
endpoints at 10 Hz needed more than the one core the probe loop has (and far more than
it gets on a loaded host). A sweep keeps the same samples, slots and `missed` accounting as
`run_periodic` (docs/events.md) but does the work itself: one timer for the next due
deadline, raw non-blocking connects, and its own epoll whose one descriptor the asyncio
loop watches. A socket leaves that epoll when it is closed, so there is no unregister
call per sample, and the connect closes with a reset (SO_LINGER 0) like `TcpProbe`.

Linux only (epoll): elsewhere, and for host names, `run_probes` drives probes one task each.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import heapq
import itertools
import logging
import os
import select
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from orchestrator.probes import Sample, spread_phase_ns
from orchestrator.probes.tcp import _LINGER_0, TcpProbe

_NONBLOCK_STREAM = socket.SOCK_STREAM | getattr(socket, "SOCK_NONBLOCK", 0)
log = logging.getLogger(__name__)


def sweepable(probe: object) -> bool:
    """A `tcp` probe on a numeric address (a host name needs the resolver at each sample)."""
    return (hasattr(select, "epoll") and isinstance(probe, TcpProbe)
            and probe._family is not None)


@dataclass(eq=False)
class _Slotted:
    """One probe's place on the grid: slot k starts at origin + k·period."""

    probe: TcpProbe
    target: str
    addr: tuple[str, int]
    family: int
    timeout_ns: int
    origin: int
    slot: int = 0  # the next slot owed a sample
    missed: int = 0  # slots passed without a sample, reported with the next one
    busy: bool = False  # a connect is in flight
    due: bool = False  # its deadline passed while busy: back on the heap when done


@dataclass(eq=False)
class _Attempt:
    slotted: _Slotted
    sock: socket.socket | None
    t_ns: int
    mono: int
    done: bool = False


@dataclass(eq=False)
class TcpSweep:
    probes: Sequence[TcpProbe]
    period_s: float
    on_sample: Callable[[Sample], None]
    _inflight: dict[int, _Attempt] = field(default_factory=dict)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        period = int(self.period_s * 1e9)
        start = time.monotonic_ns()
        grid = [_Slotted(p, p.target, (p.address, p.port), p._family, int(p.timeout_s * 1e9),
                         start + spread_phase_ns(p, period)) for p in self.probes]
        seq = itertools.count()  # heap tie-breaker
        due: list[tuple[int, int, _Slotted]] = [(g.origin, next(seq), g) for g in grid]
        heapq.heapify(due)
        expiry: list[tuple[int, int, _Attempt]] = []
        ep = select.epoll()
        stopped = loop.create_future()
        timer: asyncio.TimerHandle | None = None
        timer_ns = 0

        def arm(when_ns: int) -> None:
            """One pending tick at a time, at the earliest time anything is due."""
            nonlocal timer, timer_ns
            if timer is not None:
                if timer_ns <= when_ns:
                    return
                timer.cancel()
            timer_ns = when_ns
            timer = loop.call_at(loop.time() + max(0, when_ns - time.monotonic_ns()) / 1e9, tick)

        def finish(a: _Attempt, ok: bool, error: str | None) -> None:
            a.done = True
            if a.sock is not None:
                with contextlib.suppress(OSError):
                    a.sock.close()
            g = a.slotted
            g.busy = False
            now = time.monotonic_ns()
            if g.missed:
                self._deliver(Sample(g.probe.kind, g.target, time.time_ns(), now, False, 0.0,
                                     {"missed": g.missed}, "missed samples (probe or loop late)"))
                g.missed = 0
            self._deliver(Sample(g.probe.kind, g.target, a.t_ns, a.mono, ok, (now - a.mono) / 1e6,
                                 None, error))
            if g.due:  # its deadline passed while it was busy: start it at once
                g.due = False
                heapq.heappush(due, (g.origin + g.slot * period, next(seq), g))
                arm(now)

        def begin(g: _Slotted) -> None:
            mono, t_ns = time.monotonic_ns(), time.time_ns()
            current = (mono - g.origin) // period
            if current > g.slot:  # the loop (or the last attempt) let whole slots pass
                g.missed += current - g.slot
            g.slot = max(g.slot, current) + 1
            g.busy = True
            try:
                sock = socket.socket(g.family, _NONBLOCK_STREAM)  # timeout 0: non-blocking
            except OSError as e:  # out of descriptors: a failed sample, not a dead sweep
                return finish(_Attempt(g, None, t_ns, mono), False, f"{type(e).__name__}: {e}")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_0)
            a = _Attempt(g, sock, t_ns, mono)
            err = sock.connect_ex(g.addr)
            if err == errno.EINPROGRESS:
                fd = sock.fileno()
                self._inflight[fd] = a
                ep.register(fd, select.EPOLLOUT)
                heapq.heappush(expiry, (mono + g.timeout_ns, next(seq), a))
            elif err == 0:
                finish(a, True, None)
            else:
                finish(a, False, _error(err))

        def ready() -> None:
            for fd, _ev in ep.poll(0):
                a = self._inflight.pop(fd, None)
                if a is None:
                    continue
                err = a.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                finish(a, err == 0, None if err == 0 else _error(err))

        def tick() -> None:
            nonlocal timer
            timer = None
            now = time.monotonic_ns()
            while expiry and (expiry[0][0] <= now or expiry[0][2].done):
                _, _, a = heapq.heappop(expiry)
                if not a.done and a.sock is not None:
                    self._inflight.pop(a.sock.fileno(), None)
                    finish(a, False, "TimeoutError: ")
            while due and due[0][0] <= now:
                _, _, g = heapq.heappop(due)
                if g.busy:
                    g.due = True
                    continue
                begin(g)
                heapq.heappush(due, (g.origin + g.slot * period, next(seq), g))
            arm(min(due[0][0] if due else now + period, expiry[0][0] if expiry else now + period))

        loop.add_reader(ep.fileno(), ready)
        try:
            tick()
            await stopped  # until cancelled
        finally:
            loop.remove_reader(ep.fileno())
            if timer is not None:
                timer.cancel()
            for a in self._inflight.values():
                if a.sock is not None:
                    with contextlib.suppress(OSError):
                        a.sock.close()
            self._inflight.clear()
            ep.close()

    def _deliver(self, sample: Sample) -> None:
        try:
            self.on_sample(sample)
        except Exception:  # an observer's bug must not stop the sampling
            log.exception("sample handler failed for %s", sample.target)


def _error(err: int) -> str:
    e = OSError(err, os.strerror(err))  # the subclass for the errno: ConnectionRefusedError, …
    return f"{type(e).__name__}: {e}"
