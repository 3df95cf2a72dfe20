"""run.end carries rto_s: the worst failover interruption per service (docs/journal.md)."""

from __future__ import annotations

from orchestrator.journal.records import Measure, RunEnd
from orchestrator.model.results import worst_rto


def _m(gw: str, service: str, s: float | None, affected: bool = True, phase: str = "failover") -> Measure:
    return Measure(gw, service, affected, centre_before="FT", centre_after="NF", interruption_s=s,
                   target_s=30.0, passed=True, phase=phase)


def test_run_end_records_worst_failover_interruption_per_affected_service():
    ms = [_m("A", "trading", 2.4), _m("B", "trading", 3.1), _m("C", "settlement", None),
          _m("D", "market_data", 9.0, affected=False), _m("E", "trading", 7.0, phase="failback"),
          _m("F", "market_data", 2.0)]
    rto = worst_rto(ms)
    assert rto == {"trading": 3.1, "market_data": 2.0}
    assert RunEnd("passed", 0, "ok", {}, rto).to_record()["rto_s"] == rto
