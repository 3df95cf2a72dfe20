"""A playbook started ahead of its turn (issue 19, P4): held before its first play until
go, ended having run nothing when abandoned or when drill dies; the engine's `Ahead` takes
a held run only for the very same run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from ansible_helpers import LOCAL_INVENTORY, processes_with

from orchestrator.adapters.ansible import PlaybookRun, start_playbook
from orchestrator.engine.ahead import Ahead

GATE_CLOSED_RC = 3  # adapters/ansible_callback/drill_process.py


def _until(cond, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if got := cond():
            return got
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def _run(tmp_path: Path, name: str = "a", marker: str = "ran") -> PlaybookRun:
    inv = tmp_path / "hosts.yml"
    inv.write_text(LOCAL_INVENTORY, encoding="utf-8")
    pb = tmp_path / "touch.yml"
    pb.write_text(json.dumps([{"hosts": "drill_control", "gather_facts": False, "tasks": [
        {"name": "Touch", "ansible.builtin.file": {"path": "{{ marker }}", "state": "touch"}}]}]),
        encoding="utf-8")
    return PlaybookRun(playbook=pb, inventory=inv, extravars={"marker": str(tmp_path / marker)},
                       private_data_dir=tmp_path / f"pdd-{name}", timeout_s=120)


def _at_gate(pdd: Path) -> bool:
    """runner's callback has written playbook_on_start: the process is in the gate."""
    events = pdd / "artifacts" / "run" / "job_events"
    return any("playbook_on_start" in p.read_text(encoding="utf-8") for p in events.glob("*.json"))


def test_a_held_playbook_runs_nothing_until_go(tmp_path):
    run = _run(tmp_path)
    held = start_playbook(run, gated=True)
    _until(lambda: _at_gate(run.private_data_dir), 60, "the held playbook to reach its gate")
    assert held.proc.poll() is None and not (tmp_path / "ran").exists()
    result = held.go()
    assert result.status == "successful", [t.msg for t in result.failed_tasks]
    assert [t.task for t in result.tasks] == ["Touch"] and (tmp_path / "ran").exists()


def test_a_held_playbook_says_when_its_start_up_is_over(tmp_path):
    run = _run(tmp_path)
    held = start_playbook(run, gated=True)
    try:
        assert not held.ready()  # a Python importing Ansible: not within microseconds
        _until(held.ready, 60, "the held playbook to say it reached its gate")
        assert held.ready() and held.proc.poll() is None and not (tmp_path / "ran").exists()
        assert held.go().status == "successful"
    finally:
        if held.proc.poll() is None:
            held.abandon()


def test_a_playbook_that_dies_in_its_start_up_is_never_ready(tmp_path):
    run = _run(tmp_path)
    run.playbook.write_text("- hosts: [unclosed\n", encoding="utf-8")
    held = start_playbook(run, gated=True)
    _until(held.exited.is_set, 60, "ansible-playbook to give up on its playbook")
    assert not held.ready()
    held.abandon()


def test_ahead_counts_a_held_process_as_starting_until_it_is_ready(tmp_path):
    ahead = Ahead()
    try:
        ahead.offer("fault[0]", _run(tmp_path, name="e"))
        assert ahead.starting() and not ahead.starting(but="fault[0]")
        _until(lambda: not ahead.starting(), 60, "the held process to be ready")
        assert ahead.holds("fault[0]")
    finally:
        ahead.close()


def test_an_abandoned_playbook_ends_having_run_nothing_and_leaves_no_folder(tmp_path):
    run = _run(tmp_path)
    held = start_playbook(run, gated=True)
    # its own word: runner's playbook_on_start event may come before drill's callback runs
    _until(held.ready, 60, "the held playbook to reach its gate")
    held.abandon()
    assert held.proc.returncode == GATE_CLOSED_RC
    assert not run.private_data_dir.exists() and not (tmp_path / "ran").exists()
    assert processes_with(str(tmp_path)) == []


HOLDER = """
import json, sys, time
from pathlib import Path
from orchestrator.adapters.ansible import PlaybookRun, start_playbook
run = PlaybookRun(playbook=Path(sys.argv[1]), inventory=Path(sys.argv[2]),
                  extravars={"marker": sys.argv[3]}, private_data_dir=Path(sys.argv[4]), timeout_s=60)
held = start_playbook(run, gated=True)
print(held.proc.pid, flush=True)
sys.stdin.read()  # until the test kills this process
"""


def test_a_held_playbook_ends_when_drill_dies(tmp_path):
    run = _run(tmp_path)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(run.playbook), str(run.inventory), str(tmp_path / "ran"),
         str(run.private_data_dir)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    try:
        pid = int(holder.stdout.readline())
        _until(lambda: _at_gate(run.private_data_dir), 60, "the held playbook to reach its gate")
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
        _until(lambda: not Path(f"/proc/{pid}").exists() or " Z " in Path(f"/proc/{pid}/stat").read_text(),
               30, "the held ansible-playbook to end once drill died")
    finally:
        holder.kill()
        holder.wait(timeout=30)
    assert not (tmp_path / "ran").exists()


def test_ahead_hands_over_only_the_very_same_run(tmp_path):
    ahead = Ahead()
    run = _run(tmp_path)
    try:
        ahead.offer("fault[0]", run)
        other = PlaybookRun(**{**run.__dict__, "extravars": {"marker": str(tmp_path / "other")}})
        assert ahead.take("fault[0]", other) is None  # different variables: abandoned
        assert not run.private_data_dir.exists()
        ahead.offer("fault[0]", run)
        held = ahead.take("fault[0]", run)
        assert held is not None and held.go().status == "successful"
        assert (tmp_path / "ran").exists() and not (tmp_path / "other").exists()
    finally:
        ahead.close()


def test_offering_again_keeps_the_same_run_and_replaces_one_worked_out_anew(tmp_path):
    ahead = Ahead()
    run = _run(tmp_path, name="d")
    try:
        assert ahead.offer("restore[3]", run) is True
        first = ahead._held["restore[3]"]
        assert ahead.offer("restore[3]", run) is False and ahead._held["restore[3]"] is first
        moved = PlaybookRun(**{**run.__dict__, "extravars": {"marker": str(tmp_path / "moved")}})
        assert ahead.offer("restore[3]", moved) is True  # another run for the same step
        assert first.exited.wait(30)  # abandoned, having run nothing
        held = ahead.take("restore[3]", moved)
        assert held is not None and held.go().status == "successful"
        assert (tmp_path / "moved").exists() and not (tmp_path / "ran").exists()
    finally:
        ahead.close()


def test_a_held_playbook_that_died_is_not_handed_over(tmp_path):
    ahead = Ahead()
    run = _run(tmp_path, name="b")
    try:
        ahead.offer("restore[0]", run)
        held = ahead._held["restore[0]"]
        os.killpg(held.pgid, signal.SIGKILL)
        _until(held.exited.is_set, 30, "the killed process to be reaped")
        assert ahead.take("restore[0]", run) is None
    finally:
        ahead.close()
    assert processes_with(str(run.private_data_dir)) == []


def test_closing_ahead_ends_every_held_process(tmp_path):
    ahead = Ahead()
    run = _run(tmp_path, name="c")
    ahead.offer("precheck[0]", run)
    pid = ahead._held["precheck[0]"].proc.pid
    ahead.close()
    assert not Path(f"/proc/{pid}").exists() and not run.private_data_dir.exists()


QUICK_EXIT = """
import atexit, importlib.util, os, sys
spec = importlib.util.spec_from_file_location("drill_process", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
atexit.register(lambda: open(sys.argv[2], "a").write("atexit ran\\n"))
sys.exit = mod._quick_exit(sys.exit, os.getpid())
child = os.fork()
if child == 0:
    try:
        sys.exit(5)  # a forked child (a worker): the standard exit, SystemExit
    except SystemExit as e:
        os._exit(e.code + 100)
open(sys.argv[2], "a").write(f"child {os.waitstatus_to_exitcode(os.waitpid(child, 0)[1])}\\n")
sys.stdout.write("buffered, no newline")
sys.exit(7)
"""


def test_the_quick_exit_runs_atexit_flushes_and_keeps_the_code(tmp_path):
    plugin = Path(__file__).resolve().parents[2] / "orchestrator/adapters/ansible_callback/drill_process.py"
    marker = tmp_path / "marker"
    out = subprocess.run([sys.executable, "-c", QUICK_EXIT, str(plugin), str(marker)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 7
    assert out.stdout == "buffered, no newline"
    assert marker.read_text().splitlines() == ["child 105", "atexit ran"]


def test_a_failed_playbook_keeps_ansibles_exit_code_and_its_last_event(tmp_path):
    inv = tmp_path / "hosts.yml"
    inv.write_text(LOCAL_INVENTORY, encoding="utf-8")
    pb = tmp_path / "fail.yml"
    pb.write_text(json.dumps([{"hosts": "drill_control", "gather_facts": False, "tasks": [
        {"name": "Fail", "ansible.builtin.fail": {"msg": "no"}}]}]), encoding="utf-8")
    result = start_playbook(PlaybookRun(playbook=pb, inventory=inv, extravars={},
                                        private_data_dir=tmp_path / "pdd", timeout_s=120)).go()
    assert (result.status, result.rc) == ("failed", 2)  # ansible-playbook: 2, a host failed
    events = (tmp_path / "pdd" / "artifacts" / "run" / "job_events").glob("*.json")
    assert any('"playbook_on_stats"' in p.read_text(encoding="utf-8") for p in events)
