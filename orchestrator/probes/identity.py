"""Identity: the gateway id each monitor reports, against the inventory's (issue 13).

A monitor address that reaches another gateway (ports swapped, another lab's gateway)
would have drill measure, and later repoint, the wrong gateway. The engine refuses such a
run before any change (exit 4) and `drill check` names the mismatch (exit 1)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from orchestrator.model.inventory import Inventory
from orchestrator.probes.monitor import fetch_many


def reported_mismatch(gateway: str, endpoint: object, status: object,
                      what: str = "the monitor") -> str | None:
    """Why a monitor's `/status` answer (or what a host source read: `{"gateway": id}`,
    `what` naming it) is not the gateway's own, else None (an answer that did not come is
    no identity problem: the steady-state gate judges it)."""
    if not isinstance(status, Mapping):
        return None
    reported = status.get("gateway")
    if reported is None:
        return f"{gateway}: {what} at {endpoint} reports no gateway id"
    if str(reported) != gateway:
        return f"{gateway}: {what} at {endpoint} reports gateway {reported!r}"
    return None


def mismatches(inv: Inventory) -> list[str]:
    """Every gateway whose monitor answers with another identity (or none)."""
    monitored = [g for g in inv.gateways if g.observe != "host" and g.monitor is not None]  # host: logs
    statuses = asyncio.run(fetch_many({g.id: (g.monitor.address, g.monitor.port)
                                       for g in monitored}))
    out = []
    for g in monitored:
        why = reported_mismatch(g.id, g.monitor, statuses.get(g.id))
        if why is not None:
            out.append(why)
    return out
