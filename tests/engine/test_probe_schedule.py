"""Periodic probes: every sampling slot is either sampled or reported as missed."""

from __future__ import annotations

import asyncio
import itertools
import time

from orchestrator.probes import Sample, run_periodic

PERIOD_S = 0.02


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


def test_overrun_slots_are_sampled_late_or_reported_missed():
    got: list[Sample] = []

    async def go() -> tuple[int, int]:
        start = time.monotonic_ns()
        task = asyncio.create_task(run_periodic(SlowSometimes(), PERIOD_S, got.append))
        await asyncio.sleep(40 * PERIOD_S)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return start, time.monotonic_ns()

    start, end = asyncio.run(go())
    real = [s for s in got if not (s.value and "missed" in s.value)]
    reported = sum(s.value["missed"] for s in got if s.value and "missed" in s.value)
    assert reported > 0  # the 3.2-period sample overran whole slots
    # Slots from the first sample to the last one begun: each sampled once or reported.
    last_start = max(s.mono_ns for s in real)
    slots_before_last = (last_start - start) // int(PERIOD_S * 1e9) + 1
    assert len(real) + reported >= slots_before_last
    assert len(real) + reported <= (end - start) // int(PERIOD_S * 1e9) + 1
