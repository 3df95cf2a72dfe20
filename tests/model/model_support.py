"""Shared bits of the model tests. Deliberately not a conftest.py: a second conftest
shadows `from conftest import TOLERANCE_S` for the rest of the suite."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DRILLS = REPO / "drills"
LAB_INVENTORY = REPO / "inventories" / "lab"


@pytest.fixture(autouse=True)
def drill_home(tmp_path_factory, monkeypatch):
    """Every model test runs with its own DRILL_HOME."""
    monkeypatch.setenv("DRILL_HOME", str(tmp_path_factory.mktemp("drill-home")))


def load_lab():
    """The shipped lab inventory (loaded afresh: tests must not share mutable state)."""
    from orchestrator.config.inventory import load_inventory

    return load_inventory(LAB_INVENTORY)


from support import require_tool  # noqa: E402,F401 - re-exported for the model tests
