"""What every test folder shares. A plain module, not conftest.py: sub-folders have their
own conftest.py, which makes `from conftest import …` ambiguous."""

from __future__ import annotations

import os
import shutil
import time

import pytest

# The one tolerance every test uses when it compares lab timestamps with configured
# intervals (heartbeat timeout, reconnect interval). Generous because CI shares 2 cores.
TOLERANCE_S = 0.75


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def require_tool(name: str) -> str:
    """Path of a tool the test needs; a missing tool fails in CI and skips only elsewhere."""
    path = shutil.which(name)
    if path:
        return path
    if in_ci():
        pytest.fail(f"{name} is not installed; scripts/setup-tests installs it")
    pytest.skip(f"{name} not installed (run scripts/setup-tests)")


def poll(condition, deadline_s: float, what: str, every_s: float = 0.05):
    """Poll `condition` until it returns a truthy value; AssertionError naming `what`."""
    end = time.monotonic() + deadline_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {deadline_s:.0f}s waiting for {what}")
        time.sleep(every_s)
