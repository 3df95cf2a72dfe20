"""Ending a playbook's process tree leaves nothing behind, even a child forked as the end
begins that leaves the group at once (Ansible's workers setsid as they start; ci28)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from orchestrator.adapters.procgroup import _proc_table, end_tree

# A leader that forks, as fast as it can, children that leave its group and live on.
LEADER = """
import os, sys, time
open(sys.argv[1], "w").close()
while True:
    if os.fork() == 0:
        os.setsid()
        time.sleep(600)
        os._exit(0)
    time.sleep(0.002)
"""


def _marked(marker: str) -> list[int]:
    out = []
    for pid in _proc_table():
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if marker.encode() in f.read():
                    out.append(pid)
        except OSError:
            continue
    return [p for p in out if p != os.getpid() and _proc_table().get(p, (0, 0, "Z"))[2] != "Z"]


def test_a_tree_that_keeps_forking_children_that_leave_its_group_is_ended_whole(tmp_path):
    ready = tmp_path / "leader.ready"
    for _ in range(5):
        proc = subprocess.Popen([sys.executable, "-c", LEADER, str(ready)], start_new_session=True)
        deadline = time.monotonic() + 30
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.01)  # polling for the leader's start, with a deadline
        assert ready.exists()
        try:
            end_tree(proc, proc.pid)
            assert proc.poll() is not None
            assert _marked(str(ready)) == []
        finally:
            for pid in _marked(str(ready)):  # what a failed end left
                os.kill(pid, 9)
        ready.unlink()
