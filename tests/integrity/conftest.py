"""Fixtures shared by the integrity tests: a private DRILL_HOME, a firm key, a signed run."""

from __future__ import annotations

from pathlib import Path

import pytest
from integrity_sample import make_run, write_key


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("DRILL_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DRILL_SIGNING_KEY", raising=False)


@pytest.fixture
def key(tmp_path) -> Path:
    return write_key(tmp_path / "firm_ed25519")


@pytest.fixture
def signed_run(tmp_path, key):
    return make_run(tmp_path / "reports", key=key)
