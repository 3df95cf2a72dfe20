"""`drill lab` from the shell: up, a second up, status, faults, down leaving no process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from orchestrator.adapters.procgroup import group_members
from orchestrator.config.inventory import load_inventory
from orchestrator.lab.testing import make_lab_inventory

DRILL = [sys.executable, "-m", "orchestrator.cli.__init__"]


def drill(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DRILL_HOME": str(home)}
    code = "import sys; from orchestrator.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True,
                          text=True, timeout=120)


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_lab_cli_up_status_faults_down(tmp_path, drill_home):
    inv = str(make_lab_inventory(tmp_path / "inv", gateways=5))
    env = load_inventory(inv).environment.name
    up = drill("lab", "up", "-i", inv, home=drill_home)
    assert up.returncode == 0, up.stderr
    assert "5 gateways logged in" in up.stdout
    try:
        again = drill("lab", "up", "-i", inv, home=drill_home)
        assert again.returncode == 0 and "already up" in again.stdout
        refused = drill("lab", "up", "-i", inv, "--gateways", "7", home=drill_home)
        assert refused.returncode == 4 and "already up with 5 gateways" in refused.stderr

        table = drill("lab", "status", "-i", inv, home=drill_home)
        assert table.returncode == 0
        for word in ("FT", "NF", "BJ", "ct-ft", "cu-nf", "ct-nf", "sat-1", "W000000T",
                     "W00004TF", "5/5 gateways logged in"):
            assert word in table.stdout
        st = json.loads(drill("lab", "status", "-i", inv, "--json", home=drill_home).stdout)
        pids = [st["pid"], *(g["pid"] for g in st["gateways"])]
        assert all(_alive(p) for p in pids)
        # What the playbooks read: the same status by environment name, no inventory read.
        by_name = json.loads(drill("lab", "status", "--environment", env, "--json", home=drill_home).stdout)
        assert (by_name["pid"], by_name["running"]) == (st["pid"], True)
        assert [g["id"] for g in by_name["gateways"]] == [g["id"] for g in st["gateways"]]
        for args, expected in ((("--environment", "../lab", "--json"), "expected an environment name"),
                               (("--environment", env), "expected with --json")):
            refused = drill("lab", "status", *args, home=drill_home)
            assert refused.returncode == 2 and "--environment: " + expected in refused.stderr, refused.stderr

        bad = drill("lab", "line", "down", "nope", "-i", inv, home=drill_home)
        assert bad.returncode == 2
        assert "unknown line 'nope'" in bad.stderr and "ct-ft, cu-nf, ct-nf, sat-1" in bad.stderr
        bad_centre = drill("lab", "centre", "down", "XX", "-i", inv, home=drill_home)
        assert bad_centre.returncode == 2 and "FT, NF, BJ" in bad_centre.stderr

        # The playbooks' form: the lab named by its environment, the inventory not read.
        text = drill("lab", "line", "down", "ct-nf", "--environment", env, home=drill_home)
        assert text.returncode == 2 and "--environment: expected with --json" in text.stderr
        fault = drill("lab", "line", "down", "ct-nf", "--mode", "shutdown", "--environment", env,
                      "--json", "-i", str(tmp_path / "no-such-inventory"), home=drill_home)
        assert fault.returncode == 0 and json.loads(fault.stdout)["effective_ns"] > 0, fault.stderr
        restored = drill("lab", "line", "up", "ct-nf", "-i", inv, home=drill_home)
        assert restored.returncode == 0 and "line ct-nf up at " in restored.stdout
    finally:
        down = drill("lab", "down", "-i", inv, home=drill_home)
    assert down.returncode == 0, down.stderr
    assert "no process left" in down.stdout
    assert not any(_alive(p) for p in pids)
    assert group_members(st["pid"]) == set()
    gone = drill("lab", "status", "-i", inv, home=drill_home)
    assert gone.returncode == 1 and "no lab running" in gone.stderr
    gone = json.loads(drill("lab", "status", "--environment", env, "--json", home=drill_home).stdout)
    assert gone == {"ok": True, "running": False, "environment": env}


def test_lab_down_after_the_supervisor_was_killed_leaves_no_process(tmp_path, drill_home):
    import signal

    from orchestrator.lab.control import lab_down, lab_up

    handle = lab_up(make_lab_inventory(tmp_path / "inv", gateways=3), drill_home=drill_home)
    st = handle.status()
    pids = [g["pid"] for g in st["gateways"]]
    os.kill(handle.pid, signal.SIGKILL)
    lab_down(handle.state_dir)
    assert group_members(handle.pid) == set()
    assert not any(_alive(p) for p in [handle.pid, *pids])
