"""Fixtures of the lab tests: a temporary DRILL_HOME and a small running lab."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.lab.control import LabHandle
from orchestrator.lab.testing import make_lab_inventory, running_lab


@pytest.fixture
def drill_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("DRILL_HOME", str(home))
    return home


@pytest.fixture
def lab(tmp_path, drill_home) -> Iterator[LabHandle]:
    """A running five-gateway lab (2 trading, 2 market data, 1 settlement) on free addresses."""
    inv = make_lab_inventory(tmp_path / "inv", gateways=5)
    with running_lab(inv, drill_home) as handle:
        yield handle
