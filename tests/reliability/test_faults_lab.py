"""Mid-drill faults on one shared lab (issue 18): `ansible-playbook` killed while the fault
step runs, a lab gateway process killed while the drill holds, and the run folder's disk
filling up (root: a small tmpfs). In each case restore runs, the journal says what
happened, the lab returns to steady state, `drill verify` passes and no process is left.
(DRILL_HOME read-only: test_fault_disk.py; SIGHUP: test_sighup.py and the interrupt sample;
a dropped bastion and a rebooting gateway host: tests/hostbed/test_faults_midrun.py.)"""

from __future__ import annotations

import contextlib
import json
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
from engine.engine_fixtures import make_project
from faults_support import fill, tmpfs

from orchestrator.journal.chain import first_bad_record
from orchestrator.lab.testing import make_lab_inventory, running_lab

# The engine tests' quick carrier drill with failback (tests/engine/engine_fixtures.py: no
# pre-check or evidence step, a 1 s soak): these tests are about the faults, not the drill.
DRILL = "quick-failback"


@pytest.fixture(scope="module")
def lab_env(tmp_path_factory):
    root = tmp_path_factory.mktemp("faults-lab")
    home = root / "home"
    inv = make_lab_inventory(root, gateways=3)
    project = make_project(root / "project")
    with running_lab(inv, home) as lab:
        yield inv, home, lab, project


def _args(cmd: str, inv, reports, project) -> list[str]:
    return [cmd, *([DRILL] if cmd == "run" else []), "-i", str(inv), "--reports", str(reports),
            "--project", str(project)]


def _after(inv, home, lab, snapshot, reports, problems: list[str]) -> list[dict]:
    [folder] = run_folders(reports)
    verify = run_drill(["verify", str(folder), "--reports", str(reports)], home=home)
    if verify.returncode != 0:
        problems.append("drill verify failed:\n" + verify.stdout[-1500:])
    problems += filter(None, [steady_problem(inv, lab), process_problem(home, lab, snapshot)])
    return journal_records(folder)


def test_ansible_playbook_killed_in_the_fault_step(lab_env, tmp_path):
    inv, home, lab, project = lab_env
    reports = tmp_path / "reports"
    problems: list[str] = []
    run = DrillRun.start(_args("run", inv, reports, project),
                         home=home, workdir=tmp_path, pause_at="fault:0:start")
    try:
        run.wait_paused()
        run.release()

        def playbook():
            # the fault step's own process, as journaled at its turn: the next playbook
            # step's ansible-playbook may already be started and held (issue 19, P4)
            for folder in run_folders(reports):
                for line in (folder / "journal.jsonl").read_bytes().splitlines():
                    with contextlib.suppress(ValueError):
                        rec = json.loads(line)
                        if rec["kind"] == "ansible.process" and rec["data"]["step"] == "fault[0]":
                            return read_proc(rec["data"]["pid"])
            return None

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
    inv, home, lab, project = lab_env
    reports = tmp_path / "reports"
    problems: list[str] = []
    status = lab.status()
    victim = next(g for g in status["gateways"] if g["kind"] == "market_data")
    run = DrillRun.start(_args("run", inv, reports, project),
                         home=home, workdir=tmp_path, pause_at="hold:0:start")
    try:
        run.wait_paused()
        snapshot = descendants(run.proc.pid)
        os.kill(victim["pid"], signal.SIGKILL)
        [folder] = run_folders(reports)
        # Held at the start of the soak until the engine has seen the new process behind
        # the gateway's monitor (the lab starts it again after 1 s; the soak itself is 1 s).
        poll(lambda: any(r["kind"] == "gateway.event" and r["data"].get("type") == "snapshot"
                         and r["data"].get("gateway") == victim["id"]
                         for r in journal_records(folder)), 60,
             "the engine to see the gateway's new process")
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


def test_disk_full_mid_drill_falls_back_restores_and_recover_completes(lab_env, tmp_path):
    """The journal stays valid up to its last fsync'd record, the rest goes to the fallback
    on another filesystem (`$DRILL_HOME/fallback/<run id>.journal.jsonl`), the fault phases
    stop and restore runs, the message names the disk; `drill recover` (once there is room)
    completes the journal, and `drill verify` passes on it. Root: a small tmpfs."""
    inv, home, lab, project = lab_env
    disk = tmp_path / "disk"
    problems: list[str] = []
    with tmpfs(disk, size="8m"):
        reports = disk / "reports"
        run = DrillRun.start(_args("run", inv, reports, project),
                             home=home, workdir=tmp_path, pause_at="fault:0:end")
        try:
            run.wait_paused()
            snapshot = descendants(run.proc.pid)
            filler = fill(disk)
            run.release()
            code = run.wait()
        finally:
            run.release()
            run.kill()
        out = run.output
        assert code == 3, f"exit {code}, expected 3 (aborted, restore ran):\n{out[-3000:]}"
        [folder] = run_folders(reports)
        fallback = home / "fallback" / f"{folder.name}.journal.jsonl"
        # The message names the disk and where the rest of the journal went.
        assert f"mounted at {disk}" in out and str(fallback) in out, out[-3000:]
        # The run folder's journal: valid up to its last fsync'd record, no torn line.
        assert first_bad_record(folder / "journal.jsonl") is None
        kept = journal_records(folder)
        assert "run.end" not in [r["kind"] for r in kept]
        tail = [json.loads(line) for line in fallback.read_bytes().splitlines()]
        assert tail[0]["seq"] == kept[-1]["seq"] + 1 and tail[0]["prev"] == kept[-1]["hash"]
        kinds = [r["kind"] for r in tail]
        # restore ran (its playbook's artifacts went beside the fallback), then run.end
        assert any(r["kind"] == "step.end" and r["data"]["phase"] == "restore"
                   and r["data"]["status"] == "ok" for r in tail), kinds
        assert tail[-1]["kind"] == "run.end" and tail[-1]["data"]["status"] == "aborted"
        assert "run folder not writable" in tail[-1]["data"]["summary"], tail[-1]["data"]
        problems += filter(None, [steady_problem(inv, lab), process_problem(home, lab, snapshot)])

        # Until it is completed, the run is unfinished: the next run is refused.
        again = run_drill(_args("run", inv, reports, project),
                          home=home)
        assert again.returncode == 4 and "recover" in again.stderr, again.stderr
        still_full = run_drill(_args("recover", inv, reports, project), home=home)
        assert still_full.returncode == 4 and f"mounted at {disk}" in still_full.stderr, (
            still_full.stdout + still_full.stderr)
        assert first_bad_record(folder / "journal.jsonl") is None and fallback.is_file()
        filler.unlink()
        rec = run_drill(_args("recover", inv, reports, project), home=home)
        assert rec.returncode == 0, rec.stdout + rec.stderr
        assert not fallback.exists()
        whole = journal_records(folder)
        assert [r["hash"] for r in whole] == [r["hash"] for r in kept + tail]
        verify = run_drill(["verify", str(folder), "--reports", str(reports)], home=home)
        assert verify.returncode == 0, verify.stdout + verify.stderr
        assert (folder / "report.json").is_file() or any(folder.glob("report.*.json"))
    assert not problems, problems
