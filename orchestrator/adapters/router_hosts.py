"""Network routers among an inventory's SSH hosts (docs/real-hosts.md, "Clock offsets"):
which hosts they are, and what `drill hosts check` and a run's clock evidence say of them.
A router runs its vendor's CLI, not a shell: the clock loop of `measure_clock_offset` does
not run there, and its login is a password Ansible holds."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestrator.errors import InputError

if TYPE_CHECKING:
    from orchestrator.adapters.ssh import SshPool


def network_routers(inventory_path: str | Path) -> dict[str, str]:
    """The hosts the inventory's lines name as routers on a vendor platform (huawei_vrp,
    h3c_comware, cisco_ios: a CLI, no shell), with their platform; {} when it has no drill
    variable or no such line. Read tolerantly: `drill hosts` is used before a drill
    inventory is complete."""
    from orchestrator.config.ansible_inventory import read_inventory
    from orchestrator.config.inventory import drill_variable

    try:
        drill, _, _ = drill_variable(read_inventory(Path(inventory_path)))
    except InputError:
        return {}
    lines = drill.get("lines") if isinstance(drill, Mapping) else None
    return {str(ln["router"]): str(ln["platform"]) for ln in lines or ()
            if isinstance(ln, Mapping) and ln.get("router") and ln.get("platform") not in (None, "linux")}


ROUTER_CLOCK = ("not measured: a network router runs its vendor's CLI, not a shell; each line "
                "step reads its clock (display/show clock) and reports the offset in its task result")


def router_clock_row(pool: SshPool, host: str, platform: str) -> dict[str, Any]:
    """What `drill hosts check` and a run's clock evidence say of a network router: its
    host key checked against known_hosts (an SSH handshake, no login: its password is
    Ansible's), its clock not measured (ROUTER_CLOCK). HostKeyUnknown/HostKeyChanged:
    refused as for any host."""
    from orchestrator.adapters.ssh import fetch_host_key

    h = pool.topology.host(host)
    pool.verify(h, fetch_host_key(pool, h, pool.connect_timeout_s))
    return {"host": host, "platform": platform, "host_key": "trusted", "login": "not tested",
            "offset_ms": None, "uncertainty_ms": None, "method": "not measured", "clock": ROUTER_CLOCK}
