"""Fixtures for tests against the network-namespace test bed (root only)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

_TESTS = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(_TESTS))

from hostbed import bed as bedlib  # noqa: E402
from hostbed.inventory import trust_all, write_inventory  # noqa: E402
from support import in_ci, require_tool  # noqa: E402


def _require_bed_tools() -> None:
    if os.geteuid() != 0:
        if in_ci():
            pytest.fail("the host test bed needs root (network namespaces)")
        pytest.skip("the host test bed needs root (network namespaces)")
    for tool in ("ip", "ssh", "ssh-keygen", "ss", "sysctl"):
        require_tool(tool)
    if not Path(bedlib.SSHD).exists():
        require_tool("sshd")  # fails in CI, names the package to install


@pytest.fixture(scope="module")
def bed(tmp_path_factory):
    """A built test bed, torn down (and checked gone) after the module's tests."""
    _require_bed_tools()
    built = bedlib.build(tmp_path_factory.mktemp("bed"))
    try:
        yield built
    finally:
        left = built.teardown()
        assert left == [], f"test bed left behind: {left}"


@pytest.fixture
def inventory(bed, tmp_path, monkeypatch):
    """A trusted `driver: linux` inventory of the bed, with DRILL_HOME in tmp."""
    monkeypatch.setenv("DRILL_HOME", str(tmp_path / "home"))
    folder = write_inventory(bed, tmp_path / "inv")
    trust_all(bed, folder)
    return folder
