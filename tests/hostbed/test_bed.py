"""The test bed itself: real routing failover, and nothing left behind."""

from __future__ import annotations

import os
import subprocess

import pytest
from hostbed import bed as bedlib
from hostbed.conftest import _require_bed_tools

pytestmark = pytest.mark.netns


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().rsplit(")", 1)[1].split()[0] != "Z"


def test_teardown_leaves_no_namespace_sshd_or_process(tmp_path):
    _require_bed_tools()
    bed = bedlib.build(tmp_path / "bed")
    try:
        bed.start_exchanges(ports=(7043,))
        # A process started over SSH (as Ansible would) is not a child of ours.
        key = str(bed.client_key)
        kh = tmp_path / "kh"
        kh.write_text("\n".join(bed.known_hosts_lines()) + "\n")
        subprocess.run(["ssh", "-i", key, "-o", f"UserKnownHostsFile={kh}", "-o", "StrictHostKeyChecking=yes",
                        "-o", "BatchMode=yes", f"root@{bed.bastion_address}",
                        "setsid nohup sleep 600 >/dev/null 2>&1 < /dev/null &"], check=True, timeout=30)
        pids = [pid for name in bedlib.HOSTS for pid in bedlib._netns_pids(bed.ns(name))]
        sshd_pids = [p.pid for p in bed.procs]
        assert len(pids) >= len(bedlib.HOSTS) + 2  # an sshd per host, two exchanges, the sleep
    finally:
        left = bed.teardown()
    assert left == []
    assert not [n for n in bedlib._netns_list() if n.startswith(bed.prefix)]
    assert not [p for p in pids + sshd_pids if _alive(p)]
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    assert bed.root_iface not in links


def test_line_down_on_the_router_fails_the_kernel_route_over(bed):
    def via() -> str:
        return bed.exec("gw", "ip", "route", "get", "198.18.101.30").stdout

    assert "dev ct0" in via()
    bed.exec("ct", "ip", "link", "set", "line0", "down")
    try:
        bedlib.wait_for(lambda: "dev cu0" in via(), 10, "gw's route to FT to move to CU")
    finally:
        bed.exec("ct", "ip", "link", "set", "line0", "up")
    bedlib.wait_for(lambda: "dev ct0" in via(), 10, "gw's route to FT to come back to CT")
