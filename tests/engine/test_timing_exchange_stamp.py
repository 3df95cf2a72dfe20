"""Restored is the exchange's own send time when the gateway reports it (docs/journal.md)."""

from __future__ import annotations

from orchestrator.engine.timing import measure_gateway
from orchestrator.probes.monitor import Received

LOST = 1_000_000_000_000
MS = 1_000_000


def _ev(type_: str, ts_ns: int, **data) -> Received:
    return Received("W000000T", {"type": type_, "ts_ns": ts_ns, "gateway": "W000000T",
                                 "data": data}, ts_ns)


def _measure(events, kind="trading", service="trading", offset_ns=0):
    return measure_gateway(gateway="W000000T", kind=kind, service=service, affected=True,
                           link_lost_ns=LOST, window_end_ns=None, events=events,
                           observed_ns=None, probe_period_s=0.1, target_s=30.0,
                           centre_before="FT", exchange_offset_ns=offset_ns)


def test_login_restored_at_the_exchange_send_time_not_the_gateway_read_time():
    # The gateway read the answer 20 ms after the exchange sent it (a loaded host).
    m = _measure([_ev("link_down", LOST + 500 * MS, reason="heartbeat_timeout", centre="FT"),
                  _ev("login", LOST + 2020 * MS, centre="NF", session_id="NF-000001",
                      server_time_ns=LOST + 2000 * MS)])
    assert m.restored is not None
    assert (m.restored.ns, m.restored.source) == (LOST + 2000 * MS, "exchange")
    assert m.interruption_s == 2.0
    assert m.to_record()["restored"]["source"] == "exchange"


def test_without_the_exchange_stamp_the_gateway_stamp_is_used():
    m = _measure([_ev("link_down", LOST + 500 * MS, reason="reset", centre="FT"),
                  _ev("login", LOST + 2020 * MS, centre="NF", session_id="NF-000001")])
    assert m.restored is not None
    assert (m.restored.ns, m.restored.source) == (LOST + 2020 * MS, "gateway-monitor")
    assert m.interruption_s == 2.02


def test_settlement_restored_at_the_exchange_send_time_of_the_first_ok_transfer():
    m = _measure([_ev("link_down", LOST + 500 * MS, reason="reset", centre="FT"),
                  _ev("login", LOST + 2020 * MS, centre="NF", server_time_ns=LOST + 2000 * MS),
                  _ev("transfer", LOST + 2030 * MS, ok=False),
                  _ev("transfer", LOST + 3040 * MS, ok=True, server_time_ns=LOST + 3010 * MS)],
                 kind="settlement", service="settlement")
    assert m.restored is not None
    assert (m.restored.ns, m.restored.source) == (LOST + 3010 * MS, "exchange")


def test_exchange_clock_offset_is_taken_off_the_exchange_stamp():
    # The exchange's clock runs 5 ms ahead of drill's.
    m = _measure([_ev("login", LOST + 2020 * MS, server_time_ns=LOST + 2005 * MS)],
                 offset_ns=5 * MS)
    assert m.restored is not None
    assert (m.restored.ns, m.restored.source) == (LOST + 2000 * MS, "exchange")


def test_an_exchange_stamp_that_breaks_causality_falls_back_to_the_gateway():
    # Sent after the gateway received it (clocks disagree by 50 ms), or before the loss.
    late = _measure([_ev("login", LOST + 2020 * MS, server_time_ns=LOST + 2070 * MS)])
    early = _measure([_ev("login", LOST + 2020 * MS, server_time_ns=LOST - 1 * MS)])
    for m in (late, early):
        assert m.restored is not None
        assert (m.restored.ns, m.restored.source) == (LOST + 2020 * MS, "gateway-monitor")
