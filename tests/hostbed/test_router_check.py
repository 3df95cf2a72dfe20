"""`drill check --live` reads the line routers' real interfaces (R-NET-2a bandwidth, R-NET-2b
routed port) on the simulated VRP / Comware / IOS devices, logged in as the line drills are:
a port the device shows as switched fails R-NET-2b although the inventory says layer 3, and
a bandwidth the device shows below 2 Mbps fails R-NET-2a although the inventory says 10.

Default run: one pair of platforms; the other pairs and the all-pass case by hand (`-m slow`)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hostbed import routersim
from hostbed.inventory import gateway_entries
from hostbed.test_e2e import _free_port

from orchestrator.compliance.check import run_check
from orchestrator.compliance.clauses import Status

pytestmark = pytest.mark.netns

BY_HAND = pytest.mark.slow(sample=False)


def _inventory(bed, folder: Path, sims) -> Path:
    # Gateways not started: the gateway rows of the live check fail; only R-NET-2 is read here.
    gateways = gateway_entries(bed, {"W000000T": _free_port(), "W000001T": _free_port()})
    return routersim.router_inventory(bed, folder, sims, gateways=gateways)


def _leftovers() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("drill-check-routers-*"))


@pytest.mark.parametrize(("ct_platform", "cu_platform"), [
    ("cisco_ios", "h3c_comware"),
    pytest.param("huawei_vrp", "cisco_ios", marks=BY_HAND),
    pytest.param("h3c_comware", "huawei_vrp", marks=BY_HAND)])
def test_live_check_reads_the_port_on_the_device_not_the_inventory(bed, tmp_path, monkeypatch,
                                                                   ct_platform, cu_platform):
    monkeypatch.setenv("DRILL_HOME", str(tmp_path / "home"))
    # ct's line port is switched on the device; cu's is routed but shows 1 Mbps.
    sims = {"ct": routersim.start(bed, "ct", ct_platform, layer=2),
            "cu": routersim.start(bed, "cu", cu_platform, layer=3, mbps=1)}
    try:
        inv = _inventory(bed, tmp_path / "inv", sims)
        before = _leftovers()
        report = run_check(inv / "hosts.yml", tmp_path / "home", live=True)
        rows = {(r.clause, r.part): r for r in report.rows}
        # The inventory says layer 3 and 10 Mbps for both lines: the static rows pass.
        assert rows[("R-NET-2b", "static")].status is Status.PASS
        assert rows[("R-NET-2a", "static")].status is Status.PASS
        port = rows[("R-NET-2b", "live")]
        assert port.status is Status.FAIL, port
        assert f"ct-ft (ct {sims['ct'].line_port}): switched port" in port.evidence, port.evidence
        assert "cu-nf" not in port.evidence
        bw = rows[("R-NET-2a", "live")]
        assert bw.status is Status.FAIL, bw
        assert f"cu-nf (cu {sims['cu'].line_port}): 1 Mbps" in bw.evidence, bw.evidence
        assert "ct-ft" not in bw.evidence
        assert "R-NET-2b" in report.failed() and "R-NET-2a" in report.failed()
        # Read only: nothing typed in configuration mode, nothing saved.
        for sim in sims.values():
            assert routersim.CUT_FIRST[sim.platform] not in sim.commands()
            assert sim.saves == 0
        # Ansible's private folder (it held the login) is gone.
        assert _leftovers() <= before
    finally:
        for name in sims:
            routersim.stop(bed, name)


@BY_HAND  # the default run's case above shows a routed port left out of the failure
def test_live_check_passes_routed_ports_with_the_bandwidth(bed, tmp_path, monkeypatch):
    monkeypatch.setenv("DRILL_HOME", str(tmp_path / "home"))
    sims = {"ct": routersim.start(bed, "ct", "huawei_vrp"), "cu": routersim.start(bed, "cu", "huawei_vrp")}
    try:
        inv = _inventory(bed, tmp_path / "inv", sims)
        rows = {(r.clause, r.part): r for r in run_check(inv / "hosts.yml", tmp_path / "home", live=True).rows}
        assert rows[("R-NET-2b", "live")].status is Status.PASS, rows[("R-NET-2b", "live")]
        assert rows[("R-NET-2a", "live")].status is Status.PASS, rows[("R-NET-2a", "live")]
        assert "ct-ft (ct GigabitEthernet0/0/1) 10 Mbps" in rows[("R-NET-2a", "live")].evidence
    finally:
        for name in sims:
            routersim.stop(bed, name)
