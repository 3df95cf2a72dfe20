"""The shipped playbooks pass ansible-lint (production profile, offline) and yamllint."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from support import require_tool

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def venv_on_path(monkeypatch):
    """The linters installed with drill's test extras live beside this Python."""
    import os

    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")


def test_yamllint_passes_on_playbooks_and_inventories():
    yamllint = require_tool("yamllint")
    out = subprocess.run([yamllint, "-s", "playbooks", "inventories"], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_ansible_lint_production_profile_offline_passes_on_playbooks():
    lint = require_tool("ansible-lint")
    out = subprocess.run([lint, "--offline", "--profile", "production", "playbooks"], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Profile 'production' was required, and it passed" in out.stdout + out.stderr
