"""Interrupt a real `drill run` at every step boundary with SIGINT, SIGTERM or SIGKILL
(then `drill recover`): the lab ends in steady state, the journal verifies, the report
says aborted and no process is left (issue 6).

The full matrix is slow (`pytest -m slow tests/reliability`); without -m, the seeded
sample in tests/conftest.py runs one case per drill and signal.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from conftest import TOLERANCE_S
from drill_proc import (
    DrillRun,
    boundaries,
    descendants,
    journal_records,
    lab_pids,
    leftovers,
    poll,
    run_drill,
    run_folders,
)

from orchestrator.inventory import load_inventory
from orchestrator.lab.testing import make_lab_inventory, running_lab

DRILLS = ("single-line", "carrier-outage", "centre-outage", "beijing-cutover")
SIGNALS = {"SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM, "SIGKILL": signal.SIGKILL}
GATEWAYS = 3  # one trading, one market-data, one settlement gateway


def _cases():
    for drill in DRILLS:
        for boundary in boundaries(drill):
            for name in SIGNALS:
                yield pytest.param(drill, boundary, name, id=f"{drill}-{boundary}-{name}",
                                   marks=pytest.mark.slow(group=f"{drill}-{name}"))


def _assert_steady(inventory_path: Path, lab) -> None:
    """All gateways logged in once, on their home centre; every line and centre up."""
    from orchestrator.steady import wait_steady

    inv = load_inventory(inventory_path)
    # The engine's after-check already waited; allow one heartbeat timeout for the
    # market-data freshness check to see a tick after the last restart.
    result = wait_steady(inv, lab_status=lab.status, require_home=True,
                         timeout_s=inv.timing.heartbeat_timeout + 4 * TOLERANCE_S)
    assert result.ok, f"lab not in steady state: {result.describe_failures()}"


def _assert_no_process_left(home: Path, lab, snapshot) -> None:
    """Nothing the run started is alive: not the processes seen while it was paused, and
    no other process carrying this test's DRILL_HOME except the lab's own."""
    keep = lab_pids(lab.pid)

    def left():
        return ([p for p in snapshot if p.alive and p.pid not in keep], leftovers(home, keep))

    try:  # a group killed a moment ago may need the kernel a moment to reap
        poll(lambda: left() == ([], []), TOLERANCE_S, "the run's processes to be gone")
    except AssertionError:
        raise AssertionError(f"processes left behind: {left()}") from None


@pytest.mark.parametrize(("drill", "boundary", "signame"), list(_cases()))
def test_interrupt_restores_the_lab(tmp_path, drill, boundary, signame):
    sig = SIGNALS[signame]
    home, reports = tmp_path / "home", tmp_path / "reports"
    inv = make_lab_inventory(tmp_path, gateways=GATEWAYS)
    with running_lab(inv, home) as lab:
        run = DrillRun.start(["run", drill, "-i", str(inv), "--reports", str(reports)],
                             home=home, workdir=tmp_path, pause_at=boundary)
        try:
            run.wait_paused()
            snapshot = descendants(run.proc.pid)
            run.interrupt(sig)
            run.release()
            code = run.wait()
            if sig == signal.SIGKILL:
                assert code == -signal.SIGKILL, run.output[-3000:]
                again = run_drill(["run", drill, "-i", str(inv), "--reports", str(reports)],
                                  home=home)
                assert again.returncode == 4, again.stdout + again.stderr
                assert "recover" in again.stderr
                rec = run_drill(["recover", "-i", str(inv), "--reports", str(reports)], home=home)
                assert rec.returncode == 0, rec.stdout + rec.stderr
            else:
                assert code == 3, f"exit {code}:\n{run.output[-3000:]}"
        finally:
            run.release()
            run.kill()

        folders = run_folders(reports)
        assert len(folders) == 1, folders
        folder = folders[0]
        records = journal_records(folder)
        kinds = [r["kind"] for r in records]
        ends = [r for r in records if r["kind"] == "run.end"]
        assert len(ends) == 1 and ends[0]["data"]["status"] == "aborted", kinds
        if sig == signal.SIGKILL:
            assert "recover" in kinds
        else:
            sigs = [r["data"].get("signal") for r in records if r["kind"] == "signal"]
            assert signame in sigs, kinds

        verify = run_drill(["verify", str(folder), "--reports", str(reports)], home=home)
        assert verify.returncode == 0, verify.stdout + verify.stderr

        report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
        assert report["status"] == "aborted"
        html = (folder / "report.html").read_text(encoding="utf-8")
        assert "已中止" in html or "ABORTED" in html

        _assert_steady(inv, lab)
        _assert_no_process_left(home, lab, snapshot)
