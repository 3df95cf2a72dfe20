"""Gateway config formats drill can write (issue 13: never write what drill cannot edit).

A repoint rewrites a gateway's server list. drill does so only through an adapter that
declares the gateway's config format; the lab gateway's own XML (`server_list.xml`, written
by playbooks/repoint.yml) is the first. How an inventory declares a vendor format belongs
to the vendor-config issue; today a gateway's `config_format` defaults to `lab-xml` only in
a lab environment, and is unset (no adapter) elsewhere unless the inventory says so."""

from __future__ import annotations

from collections.abc import Iterable

from orchestrator.model.inventory import Inventory

ADAPTERS: dict[str, str] = {
    "lab-xml": "the lab gateway's server_list.xml (<servers><server centre=… address=… port=…/>)",
}


def unwritable(inv: Inventory, gateway_ids: Iterable[str]) -> list[str]:
    """Each gateway among `gateway_ids` whose config drill has no adapter to write."""
    out = []
    for gid in gateway_ids:
        fmt = inv.gateway(gid).config_format
        if fmt not in ADAPTERS:
            why = "declares no config_format" if fmt is None else f"config_format {fmt!r} has no adapter"
            out.append(f"{gid} ({why}; drill writes only {', '.join(sorted(ADAPTERS))})")
    return out
