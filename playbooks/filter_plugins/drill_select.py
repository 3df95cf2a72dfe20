"""Filters for drill's playbooks: selection by id in linear time, and repoint's plan.

Jinja's `selectattr('id', 'in', ids)` tests each item against a list, so selecting
2,000 gateways by id costs 4 million comparisons (seconds of CPU per reference under
ansible-core's data tagging); these use a set. A Jinja loop that builds one item per
gateway costs seconds the same way; `drill_repoint_plan` is that loop in Python.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml


def drill_pick(items, ids, key="id"):
    """The items whose `key` is in `ids`, in the items' own order."""
    wanted = set(ids or ())
    return [item for item in items or () if item.get(key) in wanted]


def drill_monitored(items):
    """The gateways (or repoint plan items, `{gateway: …}`) drill watches through a monitor:
    `observe: host` ones have none to ask; drill reads their own log (docs/observers.md)."""
    def observe(item):
        gateway = item.get("gateway") if isinstance(item.get("gateway"), dict) else item
        return gateway.get("observe") or "monitor"

    return [item for item in items or () if observe(item) != "host"]


def drill_of_driver(items, driver, default_driver):
    """The items (gateways or lines) acted on through `driver`: their own `driver`, else
    the inventory's default. One pass: a zip/selectattr chain costs seconds on 2,000."""
    return [item for item in items or () if (item.get("driver") or default_driver) == driver]


def drill_drivers(items, default_driver):
    """The drivers the items use, each once, in the order first used."""
    out: list = []
    for item in items or ():
        driver = item.get("driver") or default_driver
        if driver not in out:
            out.append(driver)
    return out


def drill_repoint_plan(gateways, to, dr_ids, services, project_dir, default_driver):
    """repoint.yml's plan, one item per gateway: `{gateway, adapter, driver, servers:
    [{centre, address, port}, …]}`. Home: the gateway's `server_order` (SSCC-assigned), else
    SSCC's even/odd rule on the last digit of its id (FT first for even, NF for odd); BJ:
    the DR centres. adapter: `{config_format, config_locator}`, inline or from the
    project's `adapters/<config_adapter>.yaml` (lab-xml when none is declared), each file
    read once. A Jinja loop over 2,000 gateways costs seconds under data tagging."""
    adapters_dir = Path(str(project_dir), "adapters").resolve()
    read: dict = {}

    def adapter_of(gw):
        name = gw.get("config_adapter")
        if not name:
            return {"config_format": gw.get("config_format") or "lab-xml",
                    "config_locator": gw.get("config_locator") or {}}
        if name not in read:
            path = (adapters_dir / f"{name}.yaml").resolve()
            if path.parent != adapters_dir:  # a name from input never leaves adapters/
                raise ValueError(f"config_adapter {name!r}: expected a file name in {adapters_dir}")
            read[name] = yaml.safe_load(path.read_text(encoding="utf-8"))
        return read[name]

    plan = []
    for gw in gateways or ():
        if to == "BJ":
            ids = list(dr_ids)
        else:
            digits = re.findall("[0-9]", str(gw["id"]))
            first = "FT" if (int(digits[-1]) if digits else 0) % 2 == 0 else "NF"
            ids = list(gw.get("server_order") or [first, "NF" if first == "FT" else "FT"])
        plan.append({"gateway": gw, "adapter": adapter_of(gw),
                     "driver": gw.get("driver") or default_driver,
                     "servers": [{"centre": c, **services[c][gw["kind"]]} for c in ids]})
    return plan


def drill_log_cuts(gateways, host, pattern, marks):
    """`drill_log_slice`'s `logs` for the gateways on `host`: `pattern` (the host's
    `drill_gateway_log`) with `{id}` replaced, and the inode and size drill marked as the run
    started (`marks`: evidence/log-marks.json's `log_marks`) when it marked that same path."""
    out = []
    for gw in gateways or ():
        if gw.get("host") != host:
            continue
        path = str(pattern).replace("{id}", str(gw["id"]))
        mark = (marks or {}).get(gw["id"]) or {}
        item = {"id": gw["id"], "path": path}
        if mark.get("path") == path and "inode" in mark and "size" in mark:
            item.update(inode=mark["inode"], size=mark["size"])
        out.append(item)
    return out


class FilterModule:
    def filters(self):
        return {"drill_pick": drill_pick, "drill_monitored": drill_monitored,
                "drill_of_driver": drill_of_driver, "drill_drivers": drill_drivers,
                "drill_repoint_plan": drill_repoint_plan, "drill_log_cuts": drill_log_cuts}
