"""The clock-offset estimator (issue 14) over a real request/answer channel: a local
process running the same shell loop drill runs on a host over SSH."""

from __future__ import annotations

import subprocess
import sys

import pytest

from orchestrator.adapters.hosts import CLOCK_LOOP, estimate_offset


def _asker(argv: list[str]):
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
    assert proc.stdin is not None and proc.stdout is not None

    def ask() -> str:
        proc.stdin.write(b"\n")
        return proc.stdout.readline().decode()

    return proc, ask


@pytest.fixture(name="loop")
def loop_fixture():
    proc, ask = _asker(["sh", "-c", CLOCK_LOOP])
    yield ask
    proc.stdin.close()
    proc.wait(timeout=5)


def test_the_shell_loop_brackets_a_shared_clock_within_its_stated_bound(loop):
    est = estimate_offset(loop, samples=30)
    # One clock: the true offset is 0, and the estimate must bracket it by its own bound.
    assert abs(est.offset_ns) <= est.uncertainty_ns
    assert est.samples == 30 and est.best_rtt_ns > 0


def test_a_skewed_clock_is_found_within_the_bound():
    skew_ns = 7_250_000_000  # the other clock runs 7.25 s ahead
    code = ("import sys, time\n"
            "for _ in sys.stdin:\n"
            f"    print(time.time_ns() + {skew_ns}, flush=True)\n")
    proc, ask = _asker([sys.executable, "-u", "-c", code])
    try:
        est = estimate_offset(ask, samples=30)
    finally:
        proc.stdin.close()
        proc.wait(timeout=5)
    assert abs(est.offset_ns - skew_ns) <= est.uncertainty_ns


def test_an_answer_that_is_no_clock_reading_is_an_error():
    with pytest.raises(ValueError, match="not a clock reading"):
        estimate_offset(lambda: "bash: command not found", samples=3)
