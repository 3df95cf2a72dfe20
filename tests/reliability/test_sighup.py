"""SIGHUP (the operator's terminal closed) behaves like SIGTERM: the run's stop flag is set,
the signal is named, restore runs (the lab matrix, tests/reliability/test_interrupts.py,
samples SIGHUP at a step boundary of every drill). Here, fast: the handler itself."""

from __future__ import annotations

import os
import signal

from orchestrator.engine.safety import STOP_SIGNALS, Safety
from orchestrator.engine.state import RunState


def test_sighup_stops_the_fault_phases_like_sigterm():
    assert signal.SIGHUP in STOP_SIGNALS and signal.SIGTERM in STOP_SIGNALS
    state = RunState()
    state.phase = "fault"
    safety = Safety(state, lambda _e: None)
    before = signal.getsignal(signal.SIGHUP)
    safety.signals.install()
    try:
        os.kill(os.getpid(), signal.SIGHUP)
        assert safety.signals.received == ["SIGHUP"]
        assert safety.stop_flag.is_set() and safety.cancel.is_set()
        assert str(safety.interrupted("fault", "fault[0]")) == "interrupted by SIGHUP"
    finally:
        safety.signals.restore()
    assert signal.getsignal(signal.SIGHUP) == before


def test_sighup_during_restore_does_not_stop_it(capfd):
    state = RunState()
    state.phase = "restore"
    safety = Safety(state, lambda _e: None)
    safety.signals.install()
    try:
        os.kill(os.getpid(), signal.SIGHUP)
    finally:
        safety.signals.restore()
    assert safety.signals.received == ["SIGHUP"] and not safety.stop_flag.is_set()
    # stderr here is a pipe or file, not the lost terminal: it stays and says why
    assert "restore is running and will finish" in capfd.readouterr().err
