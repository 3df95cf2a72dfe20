"""The whole tree is ruff clean (pyproject.toml's rules): a finding fails CI, not a review."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_ruff_finds_nothing_in_the_tree():
    ruff = Path(sys.executable).with_name("ruff")
    assert ruff.exists(), f"{ruff} missing: pip install -e '.[test]' (ruff)"
    out = subprocess.run([str(ruff), "check", "--no-cache", "--output-format", "concise", "."],
                         cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
