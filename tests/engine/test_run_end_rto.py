"""run.end carries rto_s: the worst failover interruption per service (docs/journal.md)."""

from __future__ import annotations

from orchestrator.engine import events as ev
from orchestrator.engine.timing import Measurement
from orchestrator.model.results import worst_rto


def _m(gw: str, service: str, s: float | None, affected: bool = True, phase: str = "failover") -> Measurement:
    return Measurement(gw, service, affected, "FT", "NF", None, None, None, None, s, 30.0, True, phase)


def test_run_end_records_worst_failover_interruption_per_affected_service():
    ms = [_m("A", "trading", 2.4), _m("B", "trading", 3.1), _m("C", "settlement", None),
          _m("D", "market_data", 9.0, affected=False), _m("E", "trading", 7.0, phase="failback"),
          _m("F", "market_data", 2.0)]
    rto = worst_rto(ms)
    assert rto == {"trading": 3.1, "market_data": 2.0}
    assert ev.RunEnded("passed", 0, "ok", {}, rto).to_record()["rto_s"] == rto
