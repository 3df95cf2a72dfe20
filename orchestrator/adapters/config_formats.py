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


def unwritable_configs(resolved, inv: Inventory) -> list[str]:
    """Gateways a run of this resolved drill would rewrite (its repoint steps, and every
    non-satellite gateway when it declares failback) whose config format has no adapter:
    `drill plan`, `drill run` and `drill schedule` refuse or leave such a drill out."""
    ids: set[str] = set()
    for _, step in resolved.steps():
        if step.effect is not None and step.effect.repoint_to:
            ids |= set(step.effect.repoint_gateways)
    if resolved.drill.failback:
        ids |= {g.id for g in inv.gateways if not g.satellite_only}
    return unwritable(inv, sorted(ids))
