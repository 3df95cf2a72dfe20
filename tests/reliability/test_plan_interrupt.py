"""`drill plan` runs its check-mode playbooks side by side (issue 19, P10): Ctrl-C, SIGTERM
or a closing terminal while they run ends every one of them (each runs in its own
session, where the signal never reaches it)."""

from __future__ import annotations

import signal

import pytest
from drill_proc import DrillRun, _cmdline, all_procs, leftovers
from support import poll

from orchestrator.lab.testing import make_lab_inventory


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
def test_an_interrupted_plan_leaves_no_check_running(tmp_path, sig):
    inv = make_lab_inventory(tmp_path / "inv")
    home = tmp_path / "home"
    run = DrillRun.start(["plan", "carrier-outage", "--inventory", str(inv)], home=home,
                         workdir=tmp_path, tag=sig.name)
    try:
        def checks_running():
            if run.proc.poll() is not None:
                raise AssertionError(f"drill plan ended before its checks ran:\n{run.output[-2000:]}")
            return [p for p in all_procs() if "ansible-playbook" in _cmdline(p.pid)
                    and str(inv) in _cmdline(p.pid)]

        poll(checks_running, 120, "drill plan's check-mode ansible-playbook")
        run.interrupt(sig)
        code = run.wait(120)
        assert code != 0, run.output
        assert leftovers(home) == [], run.output
        assert not [p for p in all_procs() if str(inv) in _cmdline(p.pid) and p.state != "Z"]
    finally:
        run.kill()
