"""The static half of `drill check`: the inventory (and rendered configs) against the spec."""

from __future__ import annotations

import dataclasses
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from orchestrator.compliance.clauses import ARCHIVE, CheckRow, Status
from orchestrator.config.inventory import load_inventory, load_source
from orchestrator.errors import InputError
from orchestrator.model.ansible_inventory import AnsibleInventory
from orchestrator.model.inventory import SHENZHEN, Gateway, Inventory

MIN_MBPS = 2.0
MIN_RETENTION_DAYS = 365


@dataclasses.dataclass(frozen=True)
class CheckInput:
    """An inventory plus the facts the model may not carry (duplicates, DR cutover marks)."""

    inventory: Inventory
    raw_gateway_ids: tuple[str, ...]
    dr_cutover: frozenset[str]     # gateway ids the inventory puts in the Beijing cutover


def _raw_drill(source: AnsibleInventory) -> dict[str, Any]:
    """The `drill` variable as written (hosts.yml or group_vars), before validation."""
    from orchestrator.config.inventory import drill_variable

    try:
        drill, _, _ = drill_variable(source)
    except (InputError, OSError, ValueError):
        return {}
    return drill if isinstance(drill, dict) else {}


def load_for_check(path: Path) -> CheckInput:
    """Load an inventory so that duplicate gateway ids become a failed R-APP-5, not a crash.

    When the loader rejects the inventory and the raw YAML holds duplicate gateway ids,
    the first of each id is kept and loaded, so every other clause is still checked. Any
    other problem is the loader's InputError (exit 2).
    """
    from orchestrator.config.ansible_inventory import read_inventory

    source = read_inventory(path)  # read once: a large inventory costs seconds per read
    raw = _raw_drill(source)
    raw_gws = [g for g in raw.get("gateways") or () if isinstance(g, dict)]
    ids = tuple(str(g.get("id")) for g in raw_gws)
    dups = [i for i, n in Counter(ids).items() if n > 1]
    marked = frozenset(str(g.get("id")) for g in raw_gws if g.get("dr_cutover") is True)
    try:
        inv = load_source(source, path)
    except InputError:
        if not dups:
            raise
        inv = _load_first_of_each(path, raw)
    return CheckInput(inventory=inv, raw_gateway_ids=ids, dr_cutover=marked)


def _load_first_of_each(path: Path, raw: dict[str, Any]) -> Inventory:
    seen: set[str] = set()
    kept = []
    for g in raw["gateways"]:
        if isinstance(g, dict) and str(g.get("id")) not in seen:
            seen.add(str(g.get("id")))
            kept.append(g)
    doc = {"all": {"vars": {"drill": {**raw, "gateways": kept}}}}
    with tempfile.TemporaryDirectory(prefix="drill-check-") as tmp:
        copy = Path(tmp) / "hosts.yml"
        try:
            copy.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
            inv = load_inventory(copy)
        except (InputError, yaml.YAMLError):
            # Other problems too: report the original file's errors, not the copy's.
            load_inventory(path)
            raise
    return dataclasses.replace(inv, path=path)


# --- the clauses ---------------------------------------------------------------------

def check_static(ci: CheckInput, lab_state: Path | None = None) -> list[CheckRow]:
    inv = ci.inventory
    return [
        _net_1(inv),
        _net_2a(inv),
        _net_2b(inv),
        _net_2c(inv),
        _app_3(inv, lab_state),
        _app_5(ci.raw_gateway_ids),
        _dr_2(inv, ci.dr_cutover),
        _archive(inv),
    ]


def _row(clause: str, status: Status, evidence: str) -> CheckRow:
    return CheckRow(clause=clause, part="static", status=status, evidence=evidence)


def _net_1(inv: Inventory) -> CheckRow:
    terrestrial = [ln for ln in inv.lines if ln.medium == "terrestrial"]
    carriers = sorted({ln.carrier for ln in terrestrial})
    by_centre = {c: sorted(ln.id for ln in terrestrial if ln.centre == c) for c in SHENZHEN}
    problems = []
    if len(carriers) < 2:
        problems.append(f"terrestrial lines from {len(carriers)} carrier(s) ({', '.join(carriers) or 'none'}); "
                        "need 2 different carriers")
    for centre, lines in by_centre.items():
        if not lines:
            problems.append(f"no terrestrial line into {centre}")
    evidence = (f"carriers {', '.join(carriers) or 'none'}; "
                + "; ".join(f"{c}: {', '.join(ls) or 'none'}" for c, ls in by_centre.items()))
    if problems:
        return _row("R-NET-1", Status.FAIL, "; ".join(problems) + f" ({evidence})")
    return _row("R-NET-1", Status.PASS, evidence)


def _net_2a(inv: Inventory) -> CheckRow:
    low = [f"{ln.id} {ln.mbps:g} Mbps" for ln in inv.lines if ln.mbps < MIN_MBPS]
    if low:
        return _row("R-NET-2a", Status.FAIL, f"below {MIN_MBPS:g} Mbps: {', '.join(low)}")
    return _row("R-NET-2a", Status.PASS,
                ", ".join(f"{ln.id} {ln.mbps:g} Mbps" for ln in inv.lines) or "no lines")


def _net_2b(inv: Inventory) -> CheckRow:
    bad = [f"{ln.id} (L{ln.port_layer})" for ln in inv.lines if ln.port_layer != 3]
    if bad:
        return _row("R-NET-2b", Status.FAIL, f"not routed (L3): {', '.join(bad)}")
    return _row("R-NET-2b", Status.PASS, f"{len(inv.lines)} lines on L3 ports")


def _net_2c(inv: Inventory) -> CheckRow:
    sat = [ln.id for ln in inv.lines if ln.medium == "satellite-oneway"]
    mcast = [ln.id for ln in inv.lines if ln.medium == "multicast-terrestrial"]
    feed = f"; multicast feed on {inv.multicast.line}" if inv.multicast and inv.multicast.line else ""
    if sat:
        if inv.multicast and inv.multicast.line and inv.multicast.line not in sat:
            return _row("R-NET-2c", Status.WARN,
                        f"one-way satellite {', '.join(sat)} present but the multicast feed "
                        f"runs on {inv.multicast.line}")
        return _row("R-NET-2c", Status.PASS, f"one-way satellite {', '.join(sat)}{feed}")
    if mcast:
        return _row("R-NET-2c", Status.WARN,
                    f"terrestrial multicast only ({', '.join(mcast)}); no one-way satellite line")
    return _row("R-NET-2c", Status.FAIL, "no one-way satellite line for market-data backup")


def _app_3(inv: Inventory, lab_state: Path | None) -> CheckRow:
    problems, notes = [], []
    for gw in inv.gateways:
        try:
            expected = [cid for cid, _ in inv.server_order(gw)]
            expected_eps = {(cid, str(ep)) for cid, ep in inv.server_order(gw)}
        except (KeyError, ValueError) as e:
            problems.append(f"{gw.id}: cannot derive its server list ({e})")
            continue
        source = "server_order" if gw.server_order else "from id"
        if gw.config_adapter is not None or gw.config_format not in (None, "lab-xml"):
            # a vendor's own format: not drill's XML to read here (issue 15); the gate reads
            # the order the gateway loaded from its monitor
            notes.append(f"{gw.id} {'→'.join(expected)} ({source}; vendor config not read here)")
            continue
        path = config_path(inv, gw, lab_state)
        if path is None:
            notes.append(f"{gw.id} {'→'.join(expected)} ({source})")
            continue
        try:
            servers = read_server_list(path, inv)
        except (OSError, ET.ParseError) as e:
            problems.append(f"{gw.id}: {path}: unreadable server list ({e})")
            continue
        got = [cid for cid, _ in servers]
        shenzhen = [c for c in got if c in SHENZHEN]
        order = list(dict.fromkeys(shenzhen))
        if order != expected:
            problems.append(f"{gw.id}: {path.name} lists {'→'.join(got) or 'nothing'}, "
                            f"expected {'→'.join(expected)}")
        elif not expected_eps <= {(c, ep) for c, ep in servers}:
            problems.append(f"{gw.id}: {path.name} addresses differ from the centres' "
                            f"{gw.service_name} service")
        else:
            notes.append(f"{gw.id} {'→'.join(order)} ({path.name})")
    if problems:
        return _row("R-APP-3", Status.FAIL, "; ".join(problems))
    return _row("R-APP-3", Status.PASS, "; ".join(notes) or "no gateways")


def _app_5(raw_ids: Iterable[str]) -> CheckRow:
    counts = Counter(raw_ids)
    dups = sorted(i for i, n in counts.items() if n > 1)
    if dups:
        return _row("R-APP-5", Status.FAIL,
                    "duplicate gateway id: " + ", ".join(f"{i} ×{counts[i]}" for i in dups))
    return _row("R-APP-5", Status.PASS, f"{len(counts)} unique gateway ids")


def _dr_2(inv: Inventory, dr_cutover: frozenset[str]) -> CheckRow:
    sat = [gw.id for gw in inv.gateways if gw.satellite_only]
    in_cutover = sorted(g for g in sat if g in dr_cutover or getattr(inv.gateway(g), "dr_cutover", False))
    if in_cutover:
        return _row("R-DR-2", Status.FAIL,
                    f"satellite-only gateway in the Beijing DR cutover: {', '.join(in_cutover)}")
    if not any(c.role == "dr" for c in inv.centres):
        return _row("R-DR-2", Status.WARN, "no DR centre (role: dr) in the inventory")
    if sat:
        return _row("R-DR-2", Status.PASS,
                    f"satellite-only, no Beijing DR: {', '.join(sat)} (left out of the cutover)")
    return _row("R-DR-2", Status.PASS, "no satellite-only gateway; every gateway may use Beijing DR")


def _archive(inv: Inventory) -> CheckRow:
    """drill's own run archive (`retention_days`); R-SEC-2 itself is about the hosts' logs
    and is read live (orchestrator/compliance/log_hosts.py)."""
    if inv.retention_days < MIN_RETENTION_DAYS:
        return _row(ARCHIVE, Status.FAIL,
                    f"retention_days {inv.retention_days} < {MIN_RETENTION_DAYS}")
    return _row(ARCHIVE, Status.PASS, f"retention_days {inv.retention_days}")


# --- configs -------------------------------------------------------------------------

def config_path(inv: Inventory, gw: Gateway, lab_state: Path | None) -> Path | None:
    """The rendered config to read, when this host has it; None means use the id rule."""
    candidates = []
    cfg = Path(gw.config)
    if cfg.is_absolute():
        candidates.append(cfg)
    elif inv.environment.is_lab and lab_state is not None:
        candidates.append(lab_state / cfg)
    for c in candidates:
        if c.is_file():
            return c
    return None


def read_server_list(path: Path, inv: Inventory) -> list[tuple[str, str]]:
    """(centre, "address:port") in file order, from any XML holding address/port pairs."""
    by_ep = {str(ep): c.id for c in inv.centres for ep in c.services.values()}
    root = ET.parse(path).getroot()
    # drill's own template lists <server> elements; other layouts: any address/port pair.
    elements = list(root.iter("server")) or list(root.iter())
    out = []
    for el in elements:
        addr = el.get("address") or el.get("ip") or _child(el, "address") or _child(el, "ip")
        port = el.get("port") or _child(el, "port")
        if not addr or not port:
            continue
        ep = f"{addr.strip()}:{port.strip()}"
        centre = el.get("centre") or el.get("center") or by_ep.get(ep, "?")
        out.append((centre, ep))
    return out


def _child(el: ET.Element, tag: str) -> str | None:
    sub = el.find(tag)
    return sub.text if sub is not None and sub.text else None
