"""Lab configuration: the effective inventory and each gateway's rendered config.

Runs in `drill lab up` (not in the gateways): it may import yaml and jinja2.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import yaml

from orchestrator.errors import InputError, Problem
from orchestrator.model.ansible_inventory import Vaulted
from orchestrator.model.inventory import Inventory

KIND_CYCLE = ("trading", "market_data", "settlement")
TEMPLATE_NAME = "server_list.xml.j2"


def gateway_id(index: int, kind: str) -> str:
    """Ids in SSCC's shape whose last digit is the index's, so parity alternates."""
    if kind == "trading":
        return f"W{index:06d}T"
    if kind == "market_data":
        return f"W{index:05d}TF"
    return f"W{index:05d}JS"


def generate_gateways(count: int, monitor_address: str, first_port: int) -> list[dict[str, Any]]:
    """`count` gateways: trading, market data and settlement in turn, monitor ports counting up."""
    out = []
    for i in range(count):
        kind = KIND_CYCLE[i % len(KIND_CYCLE)]
        gid = gateway_id(i, kind)
        out.append({
            "id": gid, "kind": kind, "host": "lab",
            "monitor": {"address": monitor_address, "port": first_port + i},
            "config": f"gateways/{gid}/server_list.xml",
        })
    return out


class _Dumper(yaml.SafeDumper):
    """Writes Vault values back as `!vault` so Ansible can still decrypt them."""


_Dumper.add_representer(
    Vaulted, lambda dumper, v: dumper.represent_scalar("!vault", v.ciphertext, style="|"))


def raw_inventory(path: Path) -> dict[str, Any]:
    """The inventory as one YAML document, read by Ansible (so `group_vars/`, `host_vars/`
    and INI inventories count): groups, hosts and their own variables, with `drill` as
    validated (a relative `drill.signing.key` made absolute: the copy lives elsewhere)."""
    from orchestrator.config.ansible_inventory import read_inventory
    from orchestrator.config.inventory import drill_variable

    source = read_inventory(path)
    drill, _, _ = drill_variable(source)
    drill = copy.deepcopy(drill)
    signing = drill.get("signing")
    if isinstance(signing, dict) and isinstance(signing.get("key"), str):
        key = Path(os.path.expanduser(signing["key"]))
        signing["key"] = str(key if key.is_absolute() else (source.folder / key).resolve())
    doc = source.to_document()
    doc["all"].setdefault("vars", {})["drill"] = drill
    return doc


def effective_inventory(path: Path, gateways: int | None, off_hours: bool = False) -> dict[str, Any]:
    """The inventory document the running lab uses: the given one, with N gateways if
    asked, in off-hours mode (no market data, no CCNET transfers) if asked."""
    doc = raw_inventory(path)
    drill = doc["all"]["vars"]["drill"]
    if off_hours:
        drill["lab"] = {**(drill.get("lab") or {}), "off_hours": True}
    if gateways is not None:
        if gateways < 1:
            raise InputError(Problem("--gateways", None, "--gateways", "expected a number >= 1"))
        first = (drill.get("gateways") or [{}])[0].get("monitor") or {}
        drill["gateways"] = generate_gateways(gateways, first.get("address", "127.0.0.1"),
                                              int(first.get("port", 17200)))
    return doc


def write_inventory(doc: dict[str, Any], dest: Path) -> None:
    header = "# Effective inventory of the running lab, written by `drill lab up`.\n"
    dest.write_text(header + yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True),
                    encoding="utf-8")


def template_vars(inv: Inventory, gateway_id_: str, state_dir: Path) -> dict[str, Any]:
    """The variables of server_list.xml.j2 for one lab gateway (the repoint playbook passes
    the same names)."""
    gw = inv.gateway(gateway_id_)
    t = inv.timing
    lab = inv.lab
    assert lab is not None
    return {
        "gateway": {"id": gw.id, "kind": gw.kind,
                    "monitor": {"address": gw.monitor.address, "port": gw.monitor.port}},
        "servers": [{"centre": c, "address": ep.address, "port": ep.port}
                    for c, ep in inv.server_order(gw)],
        "timing": {"heartbeat_interval": t.heartbeat_interval,
                   "heartbeat_timeout": t.heartbeat_timeout,
                   "reconnect_interval": t.reconnect_interval},
        "lab": {
            "router": {"address": lab.router.address, "port": lab.router.port},
            "multicast": ({"address": inv.multicast.address, "port": inv.multicast.port}
                          if inv.multicast and gw.kind == "market_data" else None),
            "log": str(state_dir / "gateways" / gw.id / "gateway.log"),
        },
        "password": None,
    }


def config_path(inv: Inventory, state_dir: Path, gateway_id_: str) -> Path:
    """Where a lab gateway's config lives: its `config` under the lab state folder, which
    it may not leave, not even through a symlink (`InputError`, exit 2)."""
    from orchestrator.config.confine import confined
    from orchestrator.config.inventory import LAB_STATE_ROOT

    index = next(i for i, g in enumerate(inv.gateways) if g.id == gateway_id_)
    return confined(state_dir, inv.gateways[index].config, file=str(inv.path), line=None,
                    field=f"drill.gateways[{index}].config",
                    root_name=f"{LAB_STATE_ROOT[:-1]}: {state_dir})")


# Beside the state inventory: each gateway's config path and template variables, written
# once at `lab up`. `drill lab evidence` and `gateway repoint` read it instead of the
# inventory (through Ansible: about 0.5 s a command, issue 19 P4).
GATEWAY_INDEX = "gateways.json"


def write_gateway_index(inv: Inventory, state_dir: Path) -> None:
    doc = {"environment": inv.environment.name,
           "gateways": {gw.id: {"config": str(config_path(inv, state_dir, gw.id)),
                                "vars": template_vars(inv, gw.id, state_dir)}
                        for gw in inv.gateways}}
    tmp = state_dir / f".{GATEWAY_INDEX}.tmp"
    tmp.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    tmp.replace(state_dir / GATEWAY_INDEX)


def render_configs(inv: Inventory, state_dir: Path, template: Path) -> None:
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(template.parent)),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                             trim_blocks=True, lstrip_blocks=True)  # as Ansible renders
    tpl = env.get_template(template.name)
    dests = {gw.id: config_path(inv, state_dir, gw.id) for gw in inv.gateways}  # all first
    for gw in inv.gateways:
        dest = dests[gw.id]
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(tpl.render(**template_vars(inv, gw.id, state_dir)), encoding="utf-8")
