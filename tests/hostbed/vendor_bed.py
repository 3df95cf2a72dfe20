"""The extended bed with vendor-style gateways running as services, observed only through
their hosts (`observe: host`, no monitor): the one fixture body the vendor drill tests share."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import yaml
from hostbed import bed as bedlib
from hostbed import vendor
from hostbed.inventory import inventory_doc, trust_all

from orchestrator.adapters.hosts import load_topology
from orchestrator.adapters.ssh import SshPool

SECTIONS = {"trading": "Trading", "market_data": "MarketData", "settlement": "Settlement"}


def locator(service: str) -> dict:
    """Where the vendor INI keeps an instance's servers: [Trading] Server1=addr:port, …"""
    return {"section": SECTIONS[service], "key": "Server{n}", "value": "{address}:{port}", "encoding": "gb18030"}


def vendor_bed(root: Path, specs, *, multicast: bool = False,
               extra: Mapping[str, dict] | None = None) -> Iterator[tuple]:
    """Build the bed under `root`, write and trust its inventory, start each gateway of
    `specs` ((id, service, host, INI server order)) and wait until all logged in (market
    data over TCP); yields (bed, inventory folder, SshPool, gateways), then stops them and
    checks the bed is gone. `extra`: more inventory fields per gateway id (server_order)."""
    from hostbed.conftest import _require_bed_tools
    from support import require_tool

    _require_bed_tools()
    for tool in ("faketime", "start-stop-daemon"):  # gw2's skewed clock; the init script
        require_tool(tool)
    bed = bedlib.build(root / "bed", extended=True)
    try:
        gws = [vendor.gateway(bed, gid, svc, host, order) for gid, svc, host, order in specs]
        # observe: host, no monitor: drill learns what they do from their hosts alone
        entries = [{"id": g.id, "kind": g.service, "host": g.host,
                    "config": str(g.config), "service": g.id, "observe": "host",
                    "profile": str(vendor.PROFILE), "log": str(g.log),
                    # the vendor's own INI, edited in place on a repoint (docs/inventory.md)
                    "config_format": "ini", "config_locator": locator(g.service),
                    **(extra or {}).get(g.id, {})} for g in gws]
        folder = root / "inv"
        folder.mkdir()
        doc = inventory_doc(bed, folder, gateways=entries)
        if multicast:  # the satellite feed the market-data gateways fall back to
            doc["all"]["vars"]["drill"]["multicast"] = {"address": bedlib.SAT_GROUP[0],
                                                        "port": bedlib.SAT_GROUP[1], "line": None}
        hosts = doc["all"]["children"]["gateway_hosts"]["hosts"]
        for host in ("gw", "gw2"):
            hosts[host]["drill_service_ctl"] = vendor.ctl(bed, host)
            hosts[host]["drill_gateway_log"] = str(vendor.home_of(bed, host) / "logs" / "{id}.log")
        (folder / "hosts.yml").write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True),
                                          encoding="utf-8")
        trust_all(bed, folder)
        bed.start_centres(folder / "hosts.yml")
        with SshPool(load_topology(folder)) as pool:
            for g in gws:
                vendor.install(g)
                assert pool.run(g.host, f"{vendor.ctl(bed, g.host)} start {g.id}").exit_status == 0

            def ready() -> bool:
                return all(any("登录成功" in ln for ln in vendor.read_log(g)) for g in gws) and all(
                    any("行情恢复 来源：TCP" in ln for ln in vendor.read_log(g)) for g in gws
                    if g.service == "market_data")

            bedlib.wait_for(ready, 30, "every vendor gateway logged in (market data over TCP)")
            yield bed, folder, pool, gws
            for g in gws:
                pool.run(g.host, f"{vendor.ctl(bed, g.host)} stop {g.id}")
    finally:
        left = bed.teardown()
        assert left == [], f"test bed left behind: {left}"
