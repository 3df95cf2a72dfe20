"""Build an `Inventory` from an Ansible YAML inventory file or folder.

First version: structural conversion with every problem collected. The JSON Schema
check with file:line positions replaces `_problems_of` (see docs/inventory.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from orchestrator.errors import InputError, Problem
from orchestrator.inventory import (
    Carrier,
    Centre,
    ChangeWindow,
    Endpoint,
    Environment,
    Gateway,
    Inventory,
    LabSettings,
    Line,
    Multicast,
    Text,
    Timing,
)


def inventory_file(path: Path) -> Path:
    if path.is_dir():
        for name in ("hosts.yml", "hosts.yaml"):
            if (path / name).is_file():
                return path / name
        raise InputError(Problem(str(path), None, "", "inventory folder has no hosts.yml"))
    if not path.is_file():
        raise InputError(Problem(str(path), None, "", "no such inventory file"))
    return path


def load(path: Path) -> Inventory:
    file = inventory_file(path)
    try:
        doc = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise InputError(Problem(str(file), mark.line + 1 if mark else None, "",
                                 f"not valid YAML: {getattr(e, 'problem', e)}")) from None
    drill = (((doc or {}).get("all") or {}).get("vars") or {}).get("drill")
    if not isinstance(drill, dict):
        raise InputError(Problem(str(file), None, "all.vars.drill", "missing; expected a mapping"))
    try:
        return _build(path, drill)
    except (KeyError, TypeError, ValueError) as e:
        raise InputError(Problem(str(file), None, "drill", f"invalid: {e}")) from None


def _text(v: Any) -> Text:
    if isinstance(v, dict):
        return Text(zh=str(v.get("zh", v.get("en", ""))), en=str(v.get("en", v.get("zh", ""))))
    return Text(zh=str(v), en=str(v))


def _ep(v: dict) -> Endpoint:
    return Endpoint(address=str(v["address"]), port=int(v["port"]))


def _build(path: Path, d: dict) -> Inventory:
    env = d["environment"]
    lab = d.get("lab")
    mc = d.get("multicast")
    return Inventory(
        path=path,
        environment=Environment(name=env["name"], kind=env["kind"],
                                timezone=env.get("timezone", "Asia/Shanghai")),
        driver=d.get("driver", "lab"),
        retention_days=int(d.get("retention_days", 366)),
        timing=Timing(**(d.get("timing") or {})),
        centres=tuple(
            Centre(id=c["id"], role=c.get("role", "production"), name=_text(c.get("name", c["id"])),
                   services={k: _ep(v) for k, v in c["services"].items()})
            for c in d["centres"]
        ),
        carriers=tuple(Carrier(id=c["id"], name=_text(c.get("name", c["id"]))) for c in d["carriers"]),
        lines=tuple(
            Line(id=ln["id"], carrier=ln["carrier"], centre=ln["centre"], mbps=float(ln["mbps"]),
                 port_layer=int(ln.get("port_layer", 3)), medium=ln.get("medium", "terrestrial"),
                 preference=int(ln.get("preference", 100)), router=ln.get("router", "lab"),
                 interface=ln.get("interface"), local_address=ln.get("local_address"),
                 remote_address=ln.get("remote_address"), driver=ln.get("driver"))
            for ln in d["lines"]
        ),
        multicast=Multicast(address=mc["address"], port=int(mc["port"]), line=mc.get("line")) if mc else None,
        gateways=tuple(
            Gateway(id=g["id"], kind=g["kind"], host=g.get("host", "lab"), monitor=_ep(g["monitor"]),
                    config=g["config"], service=g.get("service"),
                    satellite_only=bool(g.get("satellite_only", False)), driver=g.get("driver"))
            for g in d["gateways"]
        ),
        lab=LabSettings(router=_ep(lab["router"]),
                        **{k: v for k, v in lab.items() if k != "router"}) if lab else None,
        change_windows=tuple(ChangeWindow(days=tuple(w["days"]), start=w["start"], end=w["end"])
                             for w in d.get("change_windows") or ()),
        notifications=d.get("notifications") or {},
    )
