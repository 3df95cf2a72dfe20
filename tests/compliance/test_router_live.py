"""The live R-NET-2a/2b rows from what the routers' interfaces said (compliance/router_live.py);
the reading itself on the simulated devices: tests/hostbed/test_router_check.py."""

from __future__ import annotations

from orchestrator.compliance.clauses import Status
from orchestrator.compliance.router_live import PortReading, rows


def _rows(*readings: PortReading) -> dict[str, tuple[Status, str]]:
    return {r.clause: (r.status, r.evidence) for r in rows(list(readings))}


def test_routed_ports_with_enough_bandwidth_pass():
    got = _rows(PortReading("ct-ft", "ct", "Gi0/0/1", True, 10.0), PortReading("cu-nf", "cu", "Gi1/0/1", True, 2.0))
    assert got["R-NET-2b"] == (Status.PASS, "routed (L3) port on the device: ct-ft (ct Gi0/0/1), cu-nf (cu Gi1/0/1)")
    assert got["R-NET-2a"][0] is Status.PASS and "cu-nf (cu Gi1/0/1) 2 Mbps" in got["R-NET-2a"][1]


def test_a_switched_port_or_a_slow_one_fails_whatever_else_is_fine():
    got = _rows(PortReading("ct-ft", "ct", "Gi0/1", False, 10.0), PortReading("cu-nf", "cu", "Gi0/2", True, 1.5))
    assert got["R-NET-2b"] == (Status.FAIL, "on the device, not routed (L3): ct-ft (ct Gi0/1): switched port")
    assert got["R-NET-2a"] == (Status.FAIL, "below 2 Mbps on the device: cu-nf (cu Gi0/2): 1.5 Mbps")


def test_what_was_not_read_or_not_said_warns_and_says_why():
    got = _rows(PortReading("ct-ft", "ct", "Gi0/1", None, None, error="ct (cisco_ios): AuthenticationException"),
                PortReading("cu-nf", "cu", "Gi0/2", None, None))
    assert got["R-NET-2b"][0] is Status.WARN
    assert "ct-ft (ct Gi0/1): not read: ct (cisco_ios): AuthenticationException" in got["R-NET-2b"][1]
    assert "cu-nf (cu Gi0/2): the device did not say" in got["R-NET-2b"][1]
    assert got["R-NET-2a"][0] is Status.WARN and "cu-nf (cu Gi0/2): no bandwidth shown" in got["R-NET-2a"][1]
