"""The import contracts of .importlinter (layers, lab without engine, a pure model) hold.

Runs `lint-imports` on the repository. A missing tool is a failure, not a skip: the
contracts are only enforced if this test can run them (install the `test` extras).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _lint_imports() -> str:
    beside = Path(sys.executable).with_name("lint-imports")
    found = str(beside) if beside.exists() else shutil.which("lint-imports")
    assert found, "lint-imports not found: pip install -e '.[test]' (import-linter)"
    return found


def test_import_contracts_hold(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])}
    proc = subprocess.run(
        [_lint_imports(), "--no-logo", "--cache-dir", str(tmp_path / "cache"),
         str(REPO / ".importlinter")],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"broken import contracts:\n{proc.stdout}\n{proc.stderr}"
    assert "0 broken" in proc.stdout, proc.stdout


def test_contracts_cover_every_package():
    """Every subpackage of orchestrator sits in a layer of the contract (exhaustive), and the
    contract file names the three contracts the architecture promises."""
    text = (REPO / ".importlinter").read_text(encoding="utf-8")
    assert "exhaustive = True" in text
    for contract in ("type = layers", "orchestrator.lab", "orchestrator.model"):
        assert contract in text
