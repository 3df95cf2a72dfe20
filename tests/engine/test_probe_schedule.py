"""Periodic probes: every sampling slot is either sampled or reported as missed."""

from __future__ import annotations

import asyncio
import itertools
import time

from orchestrator.probes import Sample, run_periodic

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
