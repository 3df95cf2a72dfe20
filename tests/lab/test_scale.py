"""A 200-gateway lab comes up (every gateway logged in) and goes down leaving no process."""

from __future__ import annotations

import time

import pytest
from lab_helpers import by_gateway

from orchestrator.adapters.procgroup import group_members
from orchestrator.lab.control import lab_down, lab_up
from orchestrator.lab.testing import make_lab_inventory


@pytest.mark.slow(group="lab-scale")
def test_two_hundred_gateways_up_and_down(tmp_path, drill_home):
    inv = make_lab_inventory(tmp_path / "inv", gateways=5)
    handle = lab_up(inv, drill_home=drill_home, gateways=200)
    try:
        st = handle.status()
        gws = by_gateway(st)
        assert len(gws) == 200
        assert all(g["state"] == "logged_in" and g["sessions"] == 1 for g in gws.values())
        assert {g["kind"] for g in gws.values()} == {"trading", "market_data", "settlement"}
        assert {g["centre"] for g in gws.values()} == {"FT", "NF"}
        assert len(handle.inventory().gateways) == 200  # the effective inventory
        pids = [st["pid"], *(g["pid"] for g in gws.values())]
    finally:
        lab_down(handle.state_dir)
    deadline = time.monotonic() + 10
    while group_members(handle.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert group_members(handle.pid) == set()
    alive = [p for p in pids if group_members(p) or _alive(p)]
    assert alive == []


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
