"""Fixture runs for the report tests (built by report_runs.write_run)."""

from __future__ import annotations

import pytest
from report_runs import FixtureRun, write_run


@pytest.fixture
def drill_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("DRILL_HOME", str(home))
    return home


@pytest.fixture(params=["passed", "failed", "aborted"])
def any_run(request, tmp_path, drill_home) -> FixtureRun:
    return write_run(tmp_path / "reports", request.param)


@pytest.fixture
def passed_run(tmp_path, drill_home) -> FixtureRun:
    return write_run(tmp_path / "reports", "passed")
