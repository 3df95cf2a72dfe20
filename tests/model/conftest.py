"""Model tests: drill files, inventories, the catalogue commands. No lab is started."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DRILLS = REPO / "drills"
LAB_INVENTORY = REPO / "inventories" / "lab"


@pytest.fixture(autouse=True)
def _drill_home(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("DRILL_HOME", str(tmp_path_factory.mktemp("drill-home")))


@pytest.fixture
def lab_inventory():
    from orchestrator.inventory import load_inventory

    return load_inventory(LAB_INVENTORY)
