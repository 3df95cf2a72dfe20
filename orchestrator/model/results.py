"""Run results every reader agrees on (engine, report, history)."""

from __future__ import annotations


def worst_rto(measurements) -> dict[str, float]:
    """`run.end.rto_s`: per service, the worst failover interruption among affected gateways."""
    worst: dict[str, float] = {}
    for m in measurements:
        if m.phase == "failover" and m.affected and m.interruption_s is not None:
            worst[m.service] = max(worst.get(m.service, 0.0), m.interruption_s)
    return worst
