"""DRILL_HOME read-only (issue 18): refused before anything starts. Root only (it mounts a
read-only tmpfs; CI is root). The run folder's disk filling up mid-drill:
test_faults_lab.py."""

from __future__ import annotations

from drill_proc import (
    run_drill,
)
from faults_support import require_root, tmpfs

from orchestrator.lab.testing import make_lab_inventory


def test_read_only_drill_home_is_refused_before_anything_starts(tmp_path):
    require_root()
    home = tmp_path / "home"
    inv = make_lab_inventory(tmp_path, gateways=2)
    with tmpfs(home, size="1m", options="ro"):
        res = run_drill(["run", "single-line", "-i", str(inv), "--reports",
                         str(tmp_path / "reports")], home=home, timeout_s=120)
        assert res.returncode == 4, res.stdout + res.stderr
        assert f"DRILL_HOME {home} is not writable (Read-only file system" in res.stderr
        assert "Traceback" not in res.stderr
        assert list(home.iterdir()) == []  # no lab state, no lock
    assert not (tmp_path / "reports").exists()
