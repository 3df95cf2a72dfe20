"""Mid-drill faults of processes (issue 18), on one shared lab: `ansible-playbook` killed
while the fault step runs, and a lab gateway process killed while the drill holds. In each
case restore runs, the journal says what happened, the lab returns to steady state,
`drill verify` passes and no process is left. (SIGHUP: test_sighup.py and the interrupt
sample; a dropped bastion and a rebooting gateway host: tests/hostbed/test_faults.py.)"""

from __future__ import annotations

import os
import signal

import pytest
from drill_proc import (
    DrillRun,
    descendants,
    journal_records,
    poll,
    process_problem,
    read_proc,
    run_drill,
    run_folders,
    steady_problem,
)

from orchestrator.lab.testing import make_lab_inventory, running_lab


@pytest.fixture(scope="module")
def lab_env(tmp_path_factory):
    root = tmp_path_factory.mktemp("faults-lab")
    home = root / "home"
    inv = make_lab_inventory(root, gateways=3)
    with running_lab(inv, home) as lab:
        yield inv, home, lab


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _after(inv, home, lab, snapshot, reports, problems: list[str]) -> list[dict]:
    [folder] = run_folders(reports)
    verify = run_drill(["verify", str(folder), "--reports", str(reports)], home=home)
    if verify.returncode != 0:
        problems.append("drill verify failed:\n" + verify.stdout[-1500:])
    problems += filter(None, [steady_problem(inv, lab), process_problem(home, lab, snapshot)])
    return journal_records(folder)


def test_ansible_playbook_killed_in_the_fault_step(lab_env, tmp_path):
    inv, home, lab = lab_env
    reports = tmp_path / "reports"
    problems: list[str] = []
    run = DrillRun.start(["run", "single-line", "-i", str(inv), "--reports", str(reports)],
                         home=home, workdir=tmp_path, pause_at="fault:0:start")
    try:
        run.wait_paused()
        run.release()

        def playbook():
            return next((p for p in descendants(run.proc.pid)
                         if "ansible-playbook" in _cmdline(p.pid) and "line.yml" in _cmdline(p.pid)),
                        None)

        victim = poll(playbook, 120, "ansible-playbook of the fault step", every_s=0.01)
        snapshot = descendants(run.proc.pid)
        os.kill(victim.pid, signal.SIGKILL)
        code = run.wait()
    finally:
        run.release()
        run.kill()
    assert code == 3, f"exit {code}, expected 3 (aborted, restore ran):\n{run.output[-3000:]}"
    records = _after(inv, home, lab, snapshot, reports, problems)
    ends = {(r["data"]["phase"], r["data"]["index"]): r["data"] for r in records
            if r["kind"] == "step.end"}
    fault = ends[("fault", 0)]
    assert fault["status"] == "failed" and "killed by SIGKILL" in fault["error"], fault
    assert all(d["status"] == "ok" for (phase, _), d in ends.items() if phase == "restore"), ends
    assert records[-1]["data"]["status"] == "aborted", records[-1]
    assert read_proc(victim.pid) is None or not read_proc(victim.pid).alive
    assert not problems, problems


def test_lab_gateway_killed_while_the_drill_holds(lab_env, tmp_path):
    inv, home, lab = lab_env
    reports = tmp_path / "reports"
    problems: list[str] = []
    # The market-data gateway: off ct-ft's failed path, so its loss is the blast radius.
    status = lab.status()
    victim = next(g for g in status["gateways"] if g["kind"] == "market_data")
    run = DrillRun.start(["run", "single-line", "-i", str(inv), "--reports", str(reports)],
                         home=home, workdir=tmp_path, pause_at="hold:0:start")
    try:
        run.wait_paused()
        snapshot = descendants(run.proc.pid)
        os.kill(victim["pid"], signal.SIGKILL)
        run.release()
        code = run.wait()
    finally:
        run.release()
        run.kill()
    out = run.output
    records = _after(inv, home, lab, snapshot, reports, problems)
    # The supervisor started the dead gateway again (a new process)…
    now = {g["id"]: g for g in lab.status()["gateways"]}[victim["id"]]
    assert now["restarts"] >= 1 and now["pid"] != victim["pid"], now
    # …and the run saw the new process, aborted and restored: a gateway that died during
    # the drill is no pass, whatever its monitor says once it is back.
    assert code == 3, f"exit {code}, expected 3 (aborted, restore ran):\n{out[-3000:]}"
    aborts = [r["data"]["reason"] for r in records if r["kind"] == "abort"]
    assert aborts and victim["id"] in aborts[0] and str(victim["pid"]) in aborts[0], aborts
    assert any(r["kind"] == "gateway.event" and r["data"].get("type") == "snapshot"
               and r["data"].get("gateway") == victim["id"] for r in records)
    assert records[-1]["kind"] == "run.end" and records[-1]["data"]["status"] == "aborted"
    assert not problems, problems
