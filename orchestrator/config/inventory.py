"""Build an `Inventory` from an Ansible inventory file or folder (read by Ansible itself).

The `drill` variable is checked against `schemas/inventory.schema.json` and then for
meaning (unique ids, references between centres, carriers and lines, time zone), every
problem reported as `file:line: drill.lines[2].mbps: …` (docs/inventory.md).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from orchestrator.config.yamlsrc import Lines, PathKey, dotted, load_yaml, one_line, schema_problems
from orchestrator.errors import InputError, Problem
from orchestrator.model.ansible_inventory import AnsibleInventory
from orchestrator.model.approvals import StandingApproval
from orchestrator.model.inventory import (
    Carrier,
    Centre,
    ChangeWindow,
    Endpoint,
    Environment,
    Gateway,
    Inventory,
    LabSettings,
    Line,
    LogServer,
    Multicast,
    Timing,
)
from orchestrator.model.review import ReportSettings
from orchestrator.model.text import Text

_HOSTS = ("hosts.yml", "hosts.yaml")


def inventory_file(path: Path) -> Path:
    path = Path(path)
    if path.is_dir():
        for name in _HOSTS:
            if (path / name).is_file():
                return path / name
        raise InputError(Problem(str(path), None, "", "inventory folder has no hosts.yml"))
    if not path.is_file():
        raise InputError(Problem(str(path), None, "", "no such inventory file"))
    return path


def load_inventory(path: str | Path) -> Inventory:
    """Load and validate an inventory file or folder (the one entry point)."""
    return load(Path(path))


def load(path: Path) -> Inventory:
    """Read (with Ansible's semantics), validate and build; `InputError` lists every problem."""
    from orchestrator.config.ansible_inventory import read_inventory

    return load_source(read_inventory(path), path)


def load_source(source: AnsibleInventory, path: Path) -> Inventory:
    """Validate and build from an inventory already read (`drill check` reads it once)."""
    if "drill" in source.as_written:
        # A valid inventory needs no line numbers, and Ansible's value is what the
        # line-numbered read would give: that read (a second on 2,000 gateways) is left
        # for reporting problems.
        drill = source.all_vars["drill"]
        if isinstance(drill, dict) and not _problems(drill, Lines(""), (), source):
            return _build(Path(path), drill, _secret_paths(source))
    drill, lines, base = drill_variable(source)
    problems = _problems(drill, lines, base, source)
    if problems:
        raise InputError(one_line(sorted(problems, key=lambda p: p.line or 0)))
    return _build(Path(path), drill, _secret_paths(source))


def _problems(drill: Any, lines: Lines, base: PathKey, source: AnsibleInventory) -> list[Problem]:
    problems = schema_problems(drill, "inventory.schema.json", lines, base, ("drill",))
    problems += _meaning_problems(drill, lines, base)
    return problems + _gateway_host_problems(drill, lines, base, source)


def _secret_paths(source: AnsibleInventory) -> tuple[str, ...]:
    """Where the inventory holds Vault values: `<group>.vars.x`, `<host>.x`."""
    return tuple(path for path, _ in source.vaulted())


def drill_variable(source: AnsibleInventory) -> tuple[Any, Lines, PathKey]:
    """The `drill` variable as Ansible resolves it for group `all`, with the line marks of
    the file that defined it (YAML: every value's line; INI or a plugin: the variable's)."""
    where = source.defined.get("drill")
    if "drill" not in source.all_vars:
        raise InputError(Problem(str(main_file(source.path)), None, "all.vars.drill",
                                 "missing; expected the drill variable (docs/inventory.md)"))
    value = source.all_vars["drill"]
    if where is not None and Path(where.file).suffix in ("", ".yml", ".yaml", ".json"):
        doc, lines = load_yaml(Path(where.file))
        base = _drill_path(doc, lines, where.line)
        if base is not None:
            value = _at(doc, base)
            if not isinstance(value, dict):
                raise InputError(lines.problem(base, "expected a mapping", field="drill"))
            return value, lines, base
    lines = Lines(where.file if where else str(main_file(source.path)),
                  {(): where.line} if where and where.line else {})
    if not isinstance(value, dict):
        raise InputError(lines.problem((), "expected a mapping", field="drill"))
    return value, lines, ()


def _gateway_host_problems(d: dict, lines: Lines, base: PathKey,
                           source: AnsibleInventory) -> list[Problem]:
    """A linux-driver gateway is changed by repoint.yml's play on `gateway_hosts`, so its
    `host` must be a member; caught here rather than by the run's first step."""
    gateways = d.get("gateways")
    if not isinstance(gateways, list):
        return []
    default = d.get("driver") if isinstance(d.get("driver"), str) else "lab"
    members = source.members("gateway_hosts")
    out = []
    for i, g in enumerate(gateways):
        if not isinstance(g, dict) or (g.get("driver") or default) != "linux":
            continue
        host = g.get("host", "lab")
        if isinstance(host, str) and host not in members:
            out.append(lines.problem((*base, "gateways", i, "host") if "host" in g else (*base, "gateways", i),
                                     f"{host!r} is not a host of the gateway_hosts group; expected the "
                                     "Ansible host that runs the gateway, listed under gateway_hosts "
                                     "(the linux driver changes gateways there)",
                                     field=f"drill.gateways[{i}].host"))
    return out


def main_file(path: Path) -> Path:
    try:
        return inventory_file(path)
    except InputError:
        return Path(path)


def _drill_path(doc: object, lines: Lines, line: int | None) -> PathKey | None:
    """Which `drill:` of a YAML file Ansible took: top level (vars files) or under some
    `vars:` (inventory files), the last one starting at or before the value's line."""
    found: list[PathKey] = []

    def walk(value: object, path: PathKey) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                child = (*path, k)
                if k == "drill" and (not path or path[-1] == "vars"):
                    found.append(child)
                walk(v, child)

    walk(doc, ())
    before = [p for p in found if line is None or (lines.line(p) or 0) <= line]
    return max(before, key=lambda p: lines.line(p) or 0) if before else None


def _at(doc: Any, path: PathKey) -> Any:
    for key in path:
        doc = doc[key]
    return doc


def _meaning_problems(d: dict, lines: Lines, base: PathKey) -> list[Problem]:
    """Cross-references and uniqueness; defensive, since `d` may be schema-invalid."""
    out: list[Problem] = []

    def items(key: str) -> list[tuple[int, dict]]:
        value = d.get(key)
        return [(i, x) for i, x in enumerate(value) if isinstance(x, dict)] \
            if isinstance(value, list) else []

    def ids(key: str) -> list[str]:
        return [x["id"] for _, x in items(key) if isinstance(x.get("id"), str)]

    for key in ("centres", "carriers", "lines", "gateways"):
        counts = Counter(ids(key))
        for i, x in items(key):
            if isinstance(x.get("id"), str) and counts[x["id"]] > 1:
                out.append(lines.problem((*base, key, i, "id"), f"duplicate id {x['id']!r}",
                                         field=f"drill.{key}[{i}].id"))
    centres, carriers, line_ids = ids("centres"), ids("carriers"), ids("lines")
    for i, ln in items("lines"):
        for key, known in (("carrier", carriers), ("centre", centres)):
            ref = ln.get(key)
            if isinstance(ref, str) and ref not in known:
                out.append(lines.problem((*base, "lines", i, key),
                                         f"unknown {key} {ref!r}; expected one of: "
                                         f"{', '.join(known) or 'none'}",
                                         field=f"drill.lines[{i}].{key}"))
    mc = d.get("multicast")
    if isinstance(mc, dict) and isinstance(mc.get("line"), str) and mc["line"] not in line_ids:
        out.append(lines.problem((*base, "multicast", "line"),
                                 f"unknown line {mc['line']!r}; expected one of: "
                                 f"{', '.join(line_ids) or 'none'}", field="drill.multicast.line"))
    default_driver = d.get("driver") if isinstance(d.get("driver"), str) else "lab"
    for key, needs in (("lines", "interface"), ("gateways", "service")):
        for i, x in items(key):
            driver = x.get("driver") if isinstance(x.get("driver"), str) else default_driver
            if driver == "linux" and not x.get(needs):
                out.append(lines.problem((*base, key, i), f"required with the linux driver; "
                                         f"expected the {'router port' if needs == 'interface' else 'systemd unit'}",
                                         field=f"drill.{key}[{i}].{needs}"))
    platform_of: dict[str, tuple[str, int]] = {}  # a router runs one platform
    for i, ln in items("lines"):
        if isinstance(ln.get("router"), str):
            plat = ln.get("platform") or "linux"
            seen = platform_of.setdefault(ln["router"], (plat, i))
            if seen[0] != plat:
                out.append(lines.problem((*base, "lines", i, "platform"),
                                         f"router {ln['router']!r} is {seen[0]} in lines[{seen[1]}]; "
                                         "expected one platform per router",
                                         field=f"drill.lines[{i}].platform"))
    monitors: dict[tuple, int] = {}
    lab_env = isinstance(d.get("environment"), dict) and d["environment"].get("kind") == "lab"
    for i, g in items("gateways"):
        m = g.get("monitor")
        if m is None and (g.get("observe") != "host" or lab_env):
            out.append(lines.problem((*base, "gateways", i), "required unless observe: host (outside a lab); "
                                     "expected the gateway's monitor endpoint {address, port}",
                                     field=f"drill.gateways[{i}].monitor"))
        if isinstance(m, dict) and isinstance(m.get("port"), int):
            where = (m.get("address"), m["port"])
            if where in monitors:
                out.append(lines.problem((*base, "gateways", i, "monitor"),
                                         f"monitor {where[0]}:{where[1]} is also gateways[{monitors[where]}]'s; "
                                         "expected one monitor per gateway",
                                         field=f"drill.gateways[{i}].monitor"))
            monitors.setdefault(where, i)
    for i, a in items("standing_approvals"):
        until = a.get("valid_until")
        if isinstance(until, str) and not _valid_date(until):
            out.append(lines.problem((*base, "standing_approvals", i, "valid_until"),
                                     f"expected a calendar date YYYY-MM-DD, got {until!r}",
                                     field=f"drill.standing_approvals[{i}].valid_until"))
    out += _gateway_config_problems(items("gateways"), centres, lines, base)
    env = d.get("environment")
    if isinstance(env, dict) and env.get("kind") == "lab":
        out += _loopback_problems(d, lines, base)
        out += _lab_config_problems(items("gateways"), lines, base)
    from orchestrator.config.hours import date_problems

    out += date_problems(d, lines, base)
    tz = env.get("timezone") if isinstance(env, dict) else None
    if isinstance(tz, str) and tz and not _valid_timezone(tz):
        out.append(lines.problem((*base, "environment", "timezone"),
                                 f"expected an IANA time zone such as Asia/Shanghai, got {tz!r}",
                                 field="drill.environment.timezone"))
    return out


def _gateway_config_problems(gateways: list[tuple[int, dict]], centres: list[str], lines: Lines,
                             base: PathKey) -> list[Problem]:
    """Issue 15: an inline `config_locator` is checked against the adapter schema with its
    `config_format`; `server_order` names Shenzhen centres of the inventory."""
    from orchestrator.config.yamlsrc import schema_problems

    out: list[Problem] = []
    for i, g in gateways:
        where = (*base, "gateways", i)
        if g.get("config_locator") is not None or g.get("config_format") in ("ini", "keyvalue", "xml", "template"):
            if g.get("config_adapter") is not None:
                out.append(lines.problem((*where, "config_adapter"), "expected either config_adapter or "
                                         "config_format with config_locator, not both",
                                         field=f"drill.gateways[{i}].config_adapter"))
                continue
            spec = {"config_format": g.get("config_format"), "config_locator": g.get("config_locator")}
            out += schema_problems(spec, "config_adapter.schema.json", lines, where,
                                   ("drill", "gateways", i))
        order = g.get("server_order")
        if isinstance(order, list):
            for j, cid in enumerate(order):
                if isinstance(cid, str) and cid not in centres:
                    out.append(lines.problem((*where, "server_order", j), f"unknown centre {cid!r}; "
                                             f"expected one of: {', '.join(centres)}",
                                             field=f"drill.gateways[{i}].server_order[{j}]"))
    return out


def _lab_config_problems(gateways: list[tuple[int, dict]], lines: Lines,
                         base: PathKey) -> list[Problem]:
    """A lab gateway's `config` is written under the lab's state folder: never absolute,
    never climbing out (symlinks are checked when the lab writes it, lab/config.py)."""
    from orchestrator.config.confine import lexical_problem

    out = []
    for i, g in gateways:
        value = g.get("config")
        why = lexical_problem(value, LAB_STATE_ROOT) if isinstance(value, str) else None
        if why:
            out.append(lines.problem((*base, "gateways", i, "config"), why,
                                     field=f"drill.gateways[{i}].config"))
    return out


LAB_STATE_ROOT = "the lab state folder ($DRILL_HOME/lab/<environment>/)"


def _loopback_problems(d: dict, lines: Lines, base: PathKey) -> list[Problem]:
    """A lab never connects off loopback: every address it names must be in 127.0.0.0/8."""
    import ipaddress

    out = []
    topology = {k: d[k] for k in ("centres", "lines", "multicast", "gateways", "lab") if k in d}
    for path, value in _addresses(topology, ()):
        try:
            ok = ipaddress.ip_address(value) in ipaddress.ip_network("127.0.0.0/8")
        except ValueError:
            ok = False
        if not ok:
            out.append(lines.problem((*base, *path), f"expected a loopback address (127.0.0.0/8) in a "
                                     f"lab inventory, got {value!r}", field=dotted(("drill", *path))))
    return out


def _addresses(value: object, path: PathKey):
    if isinstance(value, dict):
        for k, v in value.items():
            if k in ("address", "local_address", "remote_address") and isinstance(v, str):
                yield (*path, k), v
            else:
                yield from _addresses(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _addresses(v, (*path, i))


def _valid_date(text: str) -> bool:
    from datetime import date

    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _valid_timezone(name: str) -> bool:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def _text(v: Any) -> Text:
    if isinstance(v, dict):
        return Text(zh=str(v.get("zh", v.get("en", ""))), en=str(v.get("en", v.get("zh", ""))))
    return Text(zh=str(v), en=str(v))


def _ep(v: dict) -> Endpoint:
    return Endpoint(address=str(v["address"]), port=int(v["port"]))


def _build(path: Path, d: dict, secrets: tuple[str, ...]) -> Inventory:
    from orchestrator.config.hours import holidays_of, service_hours_of

    env = d["environment"]
    lab = d.get("lab")
    mc = d.get("multicast")
    return Inventory(
        path=path,
        environment=Environment(name=env["name"], kind=env["kind"],
                                timezone=env.get("timezone") or "Asia/Shanghai",
                                language=env.get("language")),
        driver=d.get("driver") or "lab",
        retention_days=int(d.get("retention_days", 366)),
        timing=Timing(**(d.get("timing") or {})),
        centres=tuple(
            Centre(id=c["id"], role=c.get("role", "production"), name=_text(c.get("name", c["id"])),
                   services={k: _ep(v) for k, v in c["services"].items()}, driver=c.get("driver"))
            for c in d["centres"]
        ),
        carriers=tuple(Carrier(id=c["id"], name=_text(c.get("name", c["id"]))) for c in d["carriers"]),
        lines=tuple(
            Line(id=ln["id"], carrier=ln["carrier"], centre=ln["centre"], mbps=float(ln["mbps"]),
                 port_layer=int(ln.get("port_layer", 3)), medium=ln.get("medium", "terrestrial"),
                 preference=int(ln.get("preference", 100)), router=ln.get("router", "lab"),
                 interface=ln.get("interface"), local_address=ln.get("local_address"),
                 remote_address=ln.get("remote_address"), driver=ln.get("driver"),
                 platform=ln.get("platform") or "linux")
            for ln in d["lines"]
        ),
        multicast=Multicast(address=mc["address"], port=int(mc["port"]), line=mc.get("line")) if mc else None,
        gateways=tuple(
            Gateway(id=g["id"], kind=g["kind"], host=g.get("host", "lab"),
                    monitor=_ep(g["monitor"]) if g.get("monitor") else None,
                    config=g["config"], service=g.get("service"),
                    satellite_only=bool(g.get("satellite_only", False)), driver=g.get("driver"),
                    config_format=g.get("config_format", "lab-xml" if env["kind"] == "lab" else None),
                    observe=g.get("observe") or "monitor", profile=g.get("profile"), log=g.get("log"),
                    config_locator=g.get("config_locator"), config_adapter=g.get("config_adapter"),
                    server_order=tuple(g.get("server_order") or ()))
            for g in d["gateways"]
        ),
        lab=LabSettings(router=_ep(lab["router"]),
                        **{k: v for k, v in lab.items() if k != "router"}) if lab else None,
        change_windows=tuple(ChangeWindow(days=tuple(w["days"]), start=w["start"], end=w["end"])
                             for w in d.get("change_windows") or ()),
        notifications=d.get("notifications") or {},
        secrets_paths=secrets,
        standing_approvals=tuple(
            StandingApproval(change=str(a["change"]), approver=str(a["approver"]),
                             valid_until=str(a["valid_until"]),
                             drills=tuple(a.get("drills") or ()),
                             sscc_notification=a.get("sscc_notification"))
            for a in d.get("standing_approvals") or ()),
        report=ReportSettings.of(d.get("report")),
        notify_sscc_operations=bool(d.get("notify_sscc_operations") or False),
        service_hours=service_hours_of(d),
        holidays=holidays_of(d, str(path)),
        log_server=LogServer(host=str(ls["host"]), logs=tuple(ls["logs"]),
                             retention_days=ls.get("retention_days"),
                             declared_in=ls.get("declared_in")) if (ls := d.get("log_server")) else None,
    )
