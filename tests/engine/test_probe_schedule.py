"""Periodic probes: every sampling slot is either sampled or reported as missed."""

from __future__ import annotations

import asyncio
import itertools
import os
import socket
import time

from orchestrator.probes import Sample, run_periodic, run_probes
from orchestrator.probes.tcp import TcpProbe
from orchestrator.probes.tcp_sweep import sweepable

PERIOD_S = 0.02
PERIOD_NS = int(PERIOD_S * 1e9)


class SlowSometimes:
    """A probe whose samples sometimes overrun the period (by part of a slot or several)."""

    kind = "fake"
    target = "slow"

    def __init__(self) -> None:
        self._delays = itertools.cycle([0.0, 1.5 * PERIOD_S, 0.0, 0.25 * PERIOD_S, 3.2 * PERIOD_S])

    async def sample(self) -> Sample:
        t, mono = time.time_ns(), time.monotonic_ns()
        await asyncio.sleep(next(self._delays))
        return Sample(self.kind, self.target, t, mono, True, 0.0)


def _run(probe, phase_s: float | None) -> tuple[list[Sample], int]:
    got: list[Sample] = []

    async def go() -> int:
        start = time.monotonic_ns()
        task = asyncio.create_task(run_periodic(probe, PERIOD_S, got.append, phase_s=phase_s))
        await asyncio.sleep(40 * PERIOD_S)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return start

    return got, asyncio.run(go())


def _slots(got: list[Sample]) -> list[tuple[int, int]]:
    """(slot index, start) of each real sample, slot indices counted from the records alone:
    one per real sample plus the `missed` count reported before it."""
    out, k = [], -1
    for s in got:
        if s.value and "missed" in s.value:
            k += s.value["missed"]
        else:
            k += 1
            out.append((k, s.mono_ns))
    return out


def test_every_slot_is_sampled_in_it_or_reported_missed():
    got, start = _run(SlowSometimes(), phase_s=None)
    slots = _slots(got)
    assert sum(s.value["missed"] for s in got if s.value and "missed" in s.value) > 0
    # Exact accounting: one grid origin puts every real sample's start inside its own slot
    # [origin + k·period, origin + (k+1)·period). A slot passed in silence, or two samples
    # in one slot, leaves no such origin.
    earliest = max(mono - (k + 1) * PERIOD_NS for k, mono in slots)
    latest = min(mono - k * PERIOD_NS for k, mono in slots)
    assert earliest < latest
    assert latest >= start  # the grid begins when sampling begins, not before


def test_a_late_sample_does_not_shift_later_slots():
    got, _ = _run(SlowSometimes(), phase_s=0.0)
    slots = _slots(got)
    k0, mono0 = slots[0]
    # After every overrun the schedule returns to the same grid (no drift): each on-time
    # sample starts in the slot the records give it, on the first sample's grid.
    on_time = [(k, mono) for k, mono in slots if (mono - mono0) % PERIOD_NS < PERIOD_NS // 2]
    assert len(on_time) >= len(slots) // 2
    assert all((mono - mono0) // PERIOD_NS == k - k0 for k, mono in on_time)


def test_probes_spread_over_the_period():
    class Quick:
        kind = "fake"

        def __init__(self, target: str) -> None:
            self.target = target

        async def sample(self) -> Sample:
            return Sample(self.kind, self.target, time.time_ns(), time.monotonic_ns(), True, 0.0)

    firsts: list[int] = []

    async def go() -> int:
        start = time.monotonic_ns()
        tasks = [asyncio.create_task(run_periodic(Quick(f"t{i}"), PERIOD_S * 5, firsts.append))
                 for i in range(20)]
        while len(firsts) < 20 * 2:
            await asyncio.sleep(PERIOD_S)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return start

    start = asyncio.run(go())
    offsets = {(s.mono_ns - start) * 4 // int(PERIOD_S * 5e9) for s in firsts[:20]}
    assert len(offsets) >= 3  # 20 probes started together begin in at least 3 quarters


def _listener(backlog: int = 64) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(backlog)
    return s


def _sweep(probes: list[TcpProbe], period_s: float, until) -> list[Sample]:
    """Run `run_probes` on them until `until(samples)` holds (or 10 s), then cancel."""
    got: list[Sample] = []

    async def go() -> None:
        task = asyncio.create_task(run_probes(probes, period_s, got.append))
        deadline = time.monotonic() + 10
        while not until(got) and time.monotonic() < deadline:
            await asyncio.sleep(period_s)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(go())
    return got


def test_shared_tick_samples_each_tcp_endpoint_once_a_slot_and_names_refusals():
    with _listener() as up1, _listener() as up2:
        closed = _listener()
        closed_port = closed.getsockname()[1]
        closed.close()
        probes = [TcpProbe("127.0.0.1", s.getsockname()[1]) for s in (up1, up2)]
        probes.append(TcpProbe("127.0.0.1", closed_port))
        assert all(sweepable(p) for p in probes)
        got = _sweep(probes, PERIOD_S, lambda g: len(g) >= 3 * 30)
    by_target: dict[str, list[Sample]] = {}
    for s in got:
        by_target.setdefault(s.target, []).append(s)
    assert set(by_target) == {p.target for p in probes}
    for target, samples in by_target.items():
        real = [s for s in samples if not (s.value and "missed" in s.value)]
        refused = target.endswith(f":{closed_port}")
        assert all(s.ok != refused for s in real)
        assert not refused or all("ConnectionRefusedError" in s.error for s in real)
        slots = _slots(samples)
        earliest = max(mono - (k + 1) * PERIOD_NS for k, mono in slots)
        latest = min(mono - k * PERIOD_NS for k, mono in slots)
        assert earliest < latest  # every slot sampled in it or reported missed


def test_shared_tick_reports_a_connect_that_never_completes_as_a_timeout():
    # A listener that never accepts, its backlog full: further SYNs are dropped.
    with _listener(backlog=0) as srv:
        port = srv.getsockname()[1]
        fillers = []
        for _ in range(4):
            f = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            f.setblocking(False)
            f.connect_ex(("127.0.0.1", port))
            fillers.append(f)
        try:
            probe = TcpProbe("127.0.0.1", port, timeout_s=0.05)
            got = _sweep([probe], 0.1, lambda g: any(s.error and "Timeout" in s.error for s in g))
        finally:
            for f in fillers:
                f.close()
    timeouts = [s for s in got if s.error and s.error.startswith("TimeoutError")]
    assert timeouts and all(not s.ok and s.latency_ms >= 50 for s in timeouts)


def test_cancelled_sweep_leaves_no_socket_open():
    fds_before = len(os.listdir("/proc/self/fd"))
    with _listener() as srv:
        _sweep([TcpProbe("127.0.0.1", srv.getsockname()[1])], PERIOD_S, lambda g: len(g) >= 5)
    assert len(os.listdir("/proc/self/fd")) == fds_before


def test_shared_tick_reports_slots_a_stalled_loop_let_pass():
    got: list[Sample] = []

    def stall_once(s: Sample) -> None:  # an observer that blocks the loop for 3.5 slots once
        got.append(s)
        if len(got) == 5:
            until = time.monotonic() + 3.5 * PERIOD_S
            while time.monotonic() < until:
                pass

    async def go(port: int) -> None:
        task = asyncio.create_task(run_probes([TcpProbe("127.0.0.1", port)], PERIOD_S, stall_once))
        deadline = time.monotonic() + 10
        while len(got) < 20 and time.monotonic() < deadline:
            await asyncio.sleep(PERIOD_S)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    with _listener() as srv:
        asyncio.run(go(srv.getsockname()[1]))
    assert sum(s.value["missed"] for s in got if s.value and "missed" in s.value) >= 2
    slots = _slots(got)
    assert max(mono - (k + 1) * PERIOD_NS for k, mono in slots) < min(mono - k * PERIOD_NS for k, mono in slots)
