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


@pytest.mark.parametrize("module", sorted(p.stem for p in (ROOT / "playbooks" / "library").glob("*.py")))
def test_ansible_doc_reads_each_module_documentation(module):
    # a DOCUMENTATION that is not YAML leaves `ansible-doc` (and a reviewer) with nothing
    import os

    doc = require_tool("ansible-doc")
    env = {**os.environ, "ANSIBLE_LIBRARY": str(ROOT / "playbooks" / "library")}
    out = subprocess.run([doc, "-t", "module", module], cwd=ROOT, capture_output=True, text=True, env=env)
    assert out.returncode == 0 and "ERROR" not in out.stderr, out.stdout + out.stderr
    assert f"MODULE {module}" in out.stdout.replace("\x1b[1m", "").replace("\x1b[0m", ""), out.stdout
