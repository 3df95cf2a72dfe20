"""The Ansible adapter: real ansible-playbook runs through ansible-runner, on the local host."""

from __future__ import annotations

import random
import threading
import time
import uuid
from pathlib import Path

import pytest
from ansible_helpers import LOCAL_INVENTORY, processes_with

from orchestrator.adapters.ansible import PlaybookRun, run_playbook
from orchestrator.adapters.procgroup import group_members, kill_process_group
from orchestrator.errors import DrillError

EFFECTIVE = 1795600000123456789


@pytest.fixture
def local_inventory(tmp_path) -> Path:
    path = tmp_path / "local-inventory.yml"
    path.write_text(LOCAL_INVENTORY)
    return path


@pytest.fixture
def write_playbook(tmp_path):
    """Write a playbook whose tasks are the given YAML text, run on the local host."""

    def write(tasks: str, name: str = "pb.yml") -> Path:
        path = tmp_path / name
        body = "\n".join("    " + line if line else "" for line in tasks.strip("\n").splitlines())
        path.write_text(f"- name: Test play\n  hosts: all\n  gather_facts: false\n  tasks:\n{body}\n")
        return path

    return write


@pytest.fixture
def pdd(tmp_path) -> Path:
    """A fresh private_data_dir path (not created: the adapter creates it)."""
    return tmp_path / f"pdd-{uuid.uuid4().hex[:8]}"


def run(playbook, inventory, pdd, extravars=None, **kw):
    return PlaybookRun(playbook=playbook, inventory=inventory, extravars=extravars or {},
                       private_data_dir=pdd, **kw)


def test_task_events_give_host_times_status_and_effective_ns(write_playbook, local_inventory, pdd):
    pb = write_playbook(f"""
- name: Apply the change
  ansible.builtin.command:
    argv: [echo, '{{"effective_ns": {EFFECTIVE}, "ok": true}}']
  changed_when: true
- name: Look around
  ansible.builtin.debug:
    msg: "value {{{{ x }}}}"
""")
    seen = []
    before = time.time_ns()
    result = run_playbook(run(pb, local_inventory, pdd, {"x": 41}), on_task=seen.append)
    after = time.time_ns()

    assert result.status == "successful" and result.rc == 0
    assert [t.task for t in result.tasks] == ["Apply the change", "Look around"]
    assert seen == list(result.tasks)  # streamed as they happened
    change, look = result.tasks
    assert change.host == "lab" and change.status == "changed"
    assert change.action == "ansible.builtin.command"
    assert change.effective_ns == EFFECTIVE
    assert result.effective_ns == EFFECTIVE
    assert look.status == "ok" and look.msg == "value 41" and look.effective_ns is None
    for t in result.tasks:
        assert before <= t.started_ns <= t.ended_ns <= after
    assert change.ended_ns <= look.started_ns


def test_a_failing_task_fails_the_run_and_is_recorded(write_playbook, local_inventory, pdd):
    pb = write_playbook("""
- name: Works
  ansible.builtin.debug:
    msg: fine
- name: Breaks
  ansible.builtin.command:
    argv: [sh, -c, 'echo broken line >&2; exit 3']
  changed_when: false
- name: Never runs
  ansible.builtin.debug:
    msg: unreachable
""")
    result = run_playbook(run(pb, local_inventory, pdd))
    assert result.status == "failed" and result.rc != 0
    assert [(t.task, t.status) for t in result.tasks] == [("Works", "ok"), ("Breaks", "failed")]
    assert result.failed_tasks[0].task == "Breaks"
    assert "broken line" in result.failed_tasks[0].msg or "non-zero" in result.failed_tasks[0].msg


def _long_playbook(write_playbook, marker: str):
    # A module that leaves a background grandchild, as a misbehaving module would: only
    # killing the process group (and the tree) ends it.
    return write_playbook(f"""
- name: Quick first task
  ansible.builtin.debug:
    msg: started
- name: Long task with a background child
  ansible.builtin.shell:
    cmd: "sleep {marker} & sleep {marker}"
  changed_when: false
""")


def _marker() -> str:
    return f"{random.randint(500, 900)}.{random.randint(10**8, 10**9)}"


def test_timeout_ends_the_whole_process_group(write_playbook, local_inventory, pdd):
    marker = _marker()
    pb = _long_playbook(write_playbook, marker)
    groups, seen = [], []

    def watch():  # proves the background child existed before the timeout ended it
        deadline = time.monotonic() + 60
        while not groups or (not seen and time.monotonic() < deadline):
            if len(processes_with(marker)) >= 2:
                seen.append(True)
                return
            time.sleep(0.05)  # polling /proc for the condition, with a deadline

    watcher = threading.Thread(target=watch)
    watcher.start()
    # Generous: the shared CI machine may take seconds to start ansible-playbook.
    result = run_playbook(run(pb, local_inventory, pdd, timeout_s=15.0),
                          on_process=lambda pid, pgid: groups.append((pid, pgid)))
    watcher.join()
    assert result.status == "timeout" and seen
    assert [t.task for t in result.tasks] == ["Quick first task"]
    (pid, pgid), = groups
    assert pid == pgid
    assert group_members(pgid) == set()
    assert processes_with(marker) == []


def test_cancel_ends_the_whole_process_group(write_playbook, local_inventory, pdd):
    marker = _marker()
    pb = _long_playbook(write_playbook, marker)
    cancel = threading.Event()
    groups = []

    def cancel_once_sleeping():
        deadline = time.monotonic() + 60
        while len(processes_with(marker)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)  # polling /proc for the condition, with a deadline
        cancel.set()

    watcher = threading.Thread(target=cancel_once_sleeping)
    watcher.start()
    result = run_playbook(run(pb, local_inventory, pdd, timeout_s=120),
                          on_process=lambda pid, pgid: groups.append(pgid), cancel=cancel)
    watcher.join()
    assert result.status == "canceled"
    assert group_members(groups[0]) == set()
    assert processes_with(marker) == []


def test_extravar_secrets_and_no_log_output_stay_out_of_the_run_folder(
        write_playbook, local_inventory, pdd):
    secret, hidden = "Pw-7f3c9e21", "NoLog-5b1d8a77"
    pb = write_playbook(f"""
- name: Use the password
  ansible.builtin.debug:
    msg: "connecting with {{{{ gateway_password }}}}"
- name: Hidden output
  ansible.builtin.command:
    argv: [echo, "{hidden}"]
  no_log: true
  changed_when: false
""")
    result = run_playbook(run(pb, local_inventory, pdd,
                              {"gateway_password": secret, "lines": ["ct-ft"]}))
    assert result.status == "successful"
    use, hid = result.tasks
    assert secret not in use.msg
    assert hid.no_log and hidden not in hid.msg
    assert not (pdd / "env" / "extravars").exists()
    files = [p for p in pdd.rglob("*") if p.is_file()]
    assert any(p.parent.name == "job_events" for p in files)  # events are kept
    for path in files:
        data = path.read_bytes()
        assert secret.encode() not in data, path
        assert hidden.encode() not in data, path


def test_host_key_checking_stays_on_whatever_the_caller_sets(write_playbook, local_inventory,
                                                             pdd, tmp_path):
    known = tmp_path / "known_hosts"
    known.write_text("")
    pb = write_playbook("""
- name: Host key checking as Ansible sees it
  ansible.builtin.debug:
    msg: "{{ lookup('ansible.builtin.config', 'HOST_KEY_CHECKING') }}"
- name: ssh arguments as Ansible sees them
  ansible.builtin.debug:
    msg: "{{ lookup('ansible.builtin.env', 'ANSIBLE_SSH_ARGS') }}"
""")
    result = run_playbook(run(pb, local_inventory, pdd, known_hosts=known,
                              envvars={"ANSIBLE_HOST_KEY_CHECKING": "False"}))
    checking, ssh_args = result.tasks
    assert checking.msg == "True"
    assert f"UserKnownHostsFile={known}" in ssh_args.msg
    assert "StrictHostKeyChecking=yes" in ssh_args.msg


def test_ansible_playbook_is_found_from_this_python_without_path(write_playbook, local_inventory,
                                                                 pdd, monkeypatch):
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    pb = write_playbook("""
- name: Trivial
  ansible.builtin.debug:
    msg: hi
""")
    assert run_playbook(run(pb, local_inventory, pdd)).status == "successful"


def test_the_process_is_reported_before_the_first_task(write_playbook, local_inventory, pdd):
    order = []
    pb = write_playbook("""
- name: Trivial
  ansible.builtin.debug:
    msg: hi
""")
    run_playbook(run(pb, local_inventory, pdd), on_task=lambda t: order.append("task"),
                 on_process=lambda pid, pgid: order.append("process"))
    assert order == ["process", "task"]


def test_a_used_private_data_dir_is_refused(write_playbook, local_inventory, pdd):
    pdd.mkdir()
    (pdd / "leftover").write_text("x")
    pb = write_playbook("""
- name: Trivial
  ansible.builtin.debug:
    msg: hi
""")
    with pytest.raises(DrillError, match="private_data_dir"):
        run_playbook(run(pb, local_inventory, pdd))


def test_kill_process_group_ends_a_group_left_by_a_dead_run():
    """What drill recover does after a SIGKILL: the journal has the pgid, nothing else."""
    import subprocess

    marker = _marker()
    proc = subprocess.Popen(["sh", "-c", f"sleep {marker} & sleep {marker}"],
                            start_new_session=True)
    deadline = time.monotonic() + 30
    while len(processes_with(marker)) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)  # polling /proc for the condition, with a deadline
    assert group_members(proc.pid)
    kill_process_group(proc.pid)
    proc.wait(timeout=10)
    assert group_members(proc.pid) == set()
    assert processes_with(marker) == []
    kill_process_group(proc.pid)  # an empty group is not an error


def test_inventory_vault_values_are_scrubbed_from_the_artifacts(write_playbook, tmp_path, pdd):
    """A task that prints a vault value (a careless debug) still leaves no plaintext behind."""
    import subprocess
    import sys

    secret = f"Vaulted-{uuid.uuid4().hex[:10]}"
    password = tmp_path / "vault-pass"
    password.write_text("test-vault-password\n")
    bindir = Path(sys.executable).parent
    enc = subprocess.run([str(bindir / "ansible-vault"), "encrypt_string", "--vault-id",
                          f"test@{password}", secret, "--name", "router_password"],
                         capture_output=True, text=True, check=True).stdout
    folder = tmp_path / "inv"
    (folder / "group_vars").mkdir(parents=True)
    (folder / "hosts.yml").write_text(LOCAL_INVENTORY)
    (folder / "group_vars" / "all.yml").write_text(enc)
    pb = write_playbook("""
- name: Careless debug
  ansible.builtin.debug:
    msg: "password is {{ router_password }}"
""")
    result = run_playbook(run(pb, folder / "hosts.yml", pdd,
                              envvars={"ANSIBLE_VAULT_IDENTITY_LIST": f"test@{password}"}))
    assert result.status == "successful"
    assert secret not in result.tasks[0].msg and "<redacted>" in result.tasks[0].msg
    for path in (p for p in pdd.rglob("*") if p.is_file()):
        assert secret.encode() not in path.read_bytes(), path


def test_a_failed_loop_says_which_items_failed(write_playbook, local_inventory, pdd):
    pb = write_playbook("""
- name: Check each gateway
  ansible.builtin.assert:
    that: [item != 'W000001T']
    fail_msg: "{{ item }} is not logged in"
    quiet: true
  loop: [W000000T, W000001T]
""")
    result = run_playbook(run(pb, local_inventory, pdd))
    assert result.status == "failed"
    assert result.failed_tasks[0].msg == "W000001T is not logged in"


def test_a_batch_command_printing_one_object_per_line_gives_the_earliest_effective_ns(
        write_playbook, local_inventory, pdd):
    from orchestrator.engine.timing import effective_by_target

    pb = write_playbook(f"""
- name: Change two targets in one command
  ansible.builtin.shell:
    cmd: |
      echo 'lab says hello'
      echo '{{"ok": true, "target": "ct-ft", "effective_ns": {EFFECTIVE + 7}}}'
      echo '{{"ok": true, "target": "ct-nf", "effective_ns": {EFFECTIVE}}}'
  changed_when: true
""")
    result = run_playbook(run(pb, local_inventory, pdd, {}))
    assert result.status == "successful"
    assert result.tasks[0].effective_ns == EFFECTIVE
    assert effective_by_target(result.private_data_dir) == {"ct-ft": EFFECTIVE + 7,
                                                            "ct-nf": EFFECTIVE}


def _fake(folder: Path, program: str) -> str:
    """A `program` on PATH that prints its pid, process group and session."""
    import os

    folder.mkdir()
    fake = folder / program
    fake.write_text('#!/bin/sh\nread -r _ _ _ _ pgrp sid _ < /proc/$$/stat\necho "$$ $pgrp $sid"\n')
    fake.chmod(0o755)
    return f"{folder}{os.pathsep}{os.environ['PATH']}"


@pytest.mark.parametrize("program", ["ssh", "sftp", "scp"])
@pytest.mark.parametrize("leader", [False, True], ids=["worker-child", "already-a-leader"])
def test_ansibles_ssh_runs_in_a_session_of_its_own(tmp_path, leader, program):
    """Ansible ends a worker still alive at its play's end by killing the worker's process
    group; the ssh it started (or the sftp of a fetch, which starts its own), and a kept
    master's ProxyCommand, must not be in it (P11). Started as a group leader already
    (Ansible's password prompt), the program is not forked."""
    import os
    import subprocess

    from orchestrator.adapters.ansible import _in_own_session

    path = _fake(tmp_path / "bin", program)
    shim = _in_own_session(tmp_path, path)[program]
    proc = subprocess.Popen([str(shim)], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PATH": path}, start_new_session=leader)
    out, _ = proc.communicate(timeout=30)
    pid, pgrp, sid = (int(x) for x in out.split())
    assert pid == proc.pid  # exec'd, not forked: Ansible's terminate() reaches it
    assert pgrp == sid == pid != os.getpgrp()
