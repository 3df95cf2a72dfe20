"""Every compliance test gets its own DRILL_HOME."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _drill_home(tmp_path, monkeypatch):
    home = tmp_path / "drill-home"
    home.mkdir()
    monkeypatch.setenv("DRILL_HOME", str(home))
    return home
