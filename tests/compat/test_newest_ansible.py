"""A whole drill under the newest interpreter and ansible-core we declare (3.12, 2.21).

scripts/setup-tests builds `.venv312` with ansible-core 2.21; the main suite runs on
3.11 with 2.19. A missing `.venv312` fails in CI (never skips).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from support import in_ci

from orchestrator.lab.testing import make_lab_inventory

REPO = Path(__file__).resolve().parents[2]
VENV312 = REPO / ".venv312" / "bin"


def _drill312() -> Path:
    exe = VENV312 / "drill"
    if exe.exists():
        return exe
    if in_ci():
        pytest.fail(".venv312 is missing; scripts/setup-tests creates it from Python 3.12")
    pytest.skip(".venv312 not built (run scripts/setup-tests)")


def test_carrier_outage_passes_on_python312_with_ansible_core_221(tmp_path):
    drill = _drill312()
    inventory = make_lab_inventory(tmp_path, gateways=3)
    reports = tmp_path / "reports"
    env = dict(os.environ, DRILL_HOME=str(tmp_path / "home"))
    env["PATH"] = f"{VENV312}{os.pathsep}{env.get('PATH', '')}"
    common = ["--project", str(REPO), "--inventory", str(inventory)]
    try:
        run = subprocess.run([str(drill), "run", "carrier-outage", *common, "--reports", str(reports),
                              "--set", "hold=1s"], env=env, capture_output=True, text=True, timeout=600)
    finally:
        subprocess.run([str(drill), "lab", "down", *common], env=env, capture_output=True, timeout=120)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    journal = next(reports.glob("*/*/journal.jsonl"))
    start = json.loads(journal.read_text(encoding="utf-8").splitlines()[0])
    versions = start["data"]["versions"]
    assert versions["python"].startswith("3.12"), versions
    assert versions["ansible_core"].startswith("2.21"), versions
