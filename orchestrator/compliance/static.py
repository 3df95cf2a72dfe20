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

from orchestrator.compliance.clauses import ARCHIVE, Arg, CheckRow, Msg, Raw, Status, msg, row, seq, service
from orchestrator.config.inventory import load_inventory, load_source
from orchestrator.errors import InputError
from orchestrator.model.ansible_inventory import AnsibleInventory
from orchestrator.model.inventory import SHENZHEN, Gateway, Inventory

MIN_MBPS = 2.0
MIN_RETENTION_DAYS = 365
NONE = Msg("cc_none")


@dataclasses.dataclass(frozen=True)
class CheckInput:
    """An inventory plus the facts the model may not carry (duplicates, DR cutover marks)."""

    inventory: Inventory
    raw_gateway_ids: tuple[str, ...]
    dr_cutover: frozenset[str]     # gateway ids the inventory puts in the Beijing cutover


def _raw_drill(source: AnsibleInventory) -> dict[str, Any]:
    """The `drill` variable as Ansible read it, before validation (not parsed again: the
    line-numbered read is load_source's, and a large inventory costs a second per parse)."""
    drill = source.all_vars.get("drill")
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


def _row(clause: str, status: Status, message: Msg) -> CheckRow:
    return row(clause, "static", status, message)


def _net_1(inv: Inventory) -> CheckRow:
    terrestrial = [ln for ln in inv.lines if ln.medium == "terrestrial"]
    carriers = sorted({ln.carrier for ln in terrestrial})
    by_centre = {c: sorted(ln.id for ln in terrestrial if ln.centre == c) for c in SHENZHEN}
    problems: list[Arg] = []
    if len(carriers) < 2:
        problems.append(msg("cc_net1_few_carriers", n=str(len(carriers)),
                            carriers=seq(carriers, ", ", NONE)))
    for centre, lines in by_centre.items():
        if not lines:
            problems.append(msg("cc_net1_no_line", centre=centre))
    evidence = msg("cc_net1_evidence", carriers=seq(carriers, ", ", NONE),
                   by_centre=seq(msg("cc_centre_lines", centre=c, lines=seq(ls, ", ", NONE))
                                 for c, ls in by_centre.items()))
    if problems:
        return _row("R-NET-1", Status.FAIL, msg("cc_with_evidence", problems=seq(problems),
                                                evidence=evidence))
    return _row("R-NET-1", Status.PASS, evidence)


def _net_2a(inv: Inventory) -> CheckRow:
    low = [msg("cc_mbps", line=ln.id, mbps=f"{ln.mbps:g}") for ln in inv.lines if ln.mbps < MIN_MBPS]
    if low:
        return _row("R-NET-2a", Status.FAIL, msg("cc_below_mbps", min=f"{MIN_MBPS:g}", lines=seq(low, ", ")))
    return _row("R-NET-2a", Status.PASS,
                msg("cc_text", text=seq((msg("cc_mbps", line=ln.id, mbps=f"{ln.mbps:g}") for ln in inv.lines),
                                         ", ", msg("cc_no_lines"))))


def _net_2b(inv: Inventory) -> CheckRow:
    bad = [msg("cc_port_layer", line=ln.id, layer=str(ln.port_layer)) for ln in inv.lines if ln.port_layer != 3]
    if bad:
        return _row("R-NET-2b", Status.FAIL, msg("cc_not_routed", lines=seq(bad, ", ")))
    return _row("R-NET-2b", Status.PASS, msg("cc_lines_l3", n=str(len(inv.lines))))


def _net_2c(inv: Inventory) -> CheckRow:
    sat = [ln.id for ln in inv.lines if ln.medium == "satellite-oneway"]
    mcast = [ln.id for ln in inv.lines if ln.medium == "multicast-terrestrial"]
    feed: Arg = msg("cc_feed_on", line=inv.multicast.line) if inv.multicast and inv.multicast.line else ""
    if sat:
        if inv.multicast and inv.multicast.line and inv.multicast.line not in sat:
            return _row("R-NET-2c", Status.WARN,
                        msg("cc_sat_feed_elsewhere", sat=seq(sat, ", "), line=inv.multicast.line))
        return _row("R-NET-2c", Status.PASS, msg("cc_sat", sat=seq(sat, ", "), feed=feed))
    if mcast:
        return _row("R-NET-2c", Status.WARN, msg("cc_mcast_only", lines=seq(mcast, ", ")))
    return _row("R-NET-2c", Status.FAIL, msg("cc_no_sat"))


def _app_3(inv: Inventory, lab_state: Path | None) -> CheckRow:
    problems: list[Arg] = []
    notes: list[Arg] = []
    for gw in inv.gateways:
        try:
            listed = inv.server_order(gw)
            expected = [cid for cid, _ in listed]
            expected_eps = {(cid, str(ep)) for cid, ep in listed}
        except (KeyError, ValueError) as e:
            problems.append(msg("cc_no_server_list", gateway=gw.id, error=Raw(str(e))))
            continue
        source: Arg = "server_order" if gw.server_order else msg("cc_from_id")
        order = "→".join(expected)
        if gw.config_adapter is not None or gw.config_format not in (None, "lab-xml"):
            # a vendor's own format: not drill's XML to read here (issue 15); the gate reads
            # the order the gateway loaded from its monitor
            notes.append(msg("cc_vendor_not_read", gateway=gw.id, order=order, source=source))
            continue
        path = config_path(inv, gw, lab_state)
        if path is None:
            notes.append(msg("cc_order_source", gateway=gw.id, order=order, source=source))
            continue
        try:
            servers = read_server_list(path, inv)
        except (OSError, ET.ParseError) as e:
            problems.append(msg("cc_unreadable_list", gateway=gw.id, path=str(path), error=Raw(str(e))))
            continue
        got = [cid for cid, _ in servers]
        shenzhen = [c for c in got if c in SHENZHEN]
        found = list(dict.fromkeys(shenzhen))
        if found != expected:
            problems.append(msg("cc_lists_expected", gateway=gw.id, file=path.name,
                                got=seq(got, "→", msg("cc_nothing")), expected=order))
        elif not expected_eps <= {(c, ep) for c, ep in servers}:
            problems.append(msg("cc_addresses_differ", gateway=gw.id, file=path.name,
                                service=service(gw.service_name)))
        else:
            notes.append(msg("cc_order_source", gateway=gw.id, order="→".join(found), source=path.name))
    if problems:
        return _row("R-APP-3", Status.FAIL, msg("cc_text", text=seq(problems)))
    return _row("R-APP-3", Status.PASS, msg("cc_text", text=seq(notes, "; ", msg("cc_no_gateways"))))


def _app_5(raw_ids: Iterable[str]) -> CheckRow:
    counts = Counter(raw_ids)
    dups = sorted(i for i, n in counts.items() if n > 1)
    if dups:
        return _row("R-APP-5", Status.FAIL,
                    msg("cc_duplicate_ids", ids=seq((f"{i} ×{counts[i]}" for i in dups), ", ")))
    return _row("R-APP-5", Status.PASS, msg("cc_unique_ids", n=str(len(counts))))


def _dr_2(inv: Inventory, dr_cutover: frozenset[str]) -> CheckRow:
    sat = [gw.id for gw in inv.gateways if gw.satellite_only]
    in_cutover = sorted(g for g in sat if g in dr_cutover or getattr(inv.gateway(g), "dr_cutover", False))
    if in_cutover:
        return _row("R-DR-2", Status.FAIL, msg("cc_sat_in_cutover", ids=seq(in_cutover, ", ")))
    if not any(c.role == "dr" for c in inv.centres):
        return _row("R-DR-2", Status.WARN, msg("cc_no_dr"))
    if sat:
        return _row("R-DR-2", Status.PASS, msg("cc_sat_no_bj", ids=seq(sat, ", ")))
    return _row("R-DR-2", Status.PASS, msg("cc_no_sat_gw"))


def _archive(inv: Inventory) -> CheckRow:
    """drill's own run archive (`retention_days`); R-SEC-2 itself is about the hosts' logs
    and is read live (orchestrator/compliance/log_hosts.py)."""
    if inv.retention_days < MIN_RETENTION_DAYS:
        return _row(ARCHIVE, Status.FAIL,
                    msg("cc_retention_low", days=str(inv.retention_days), min=str(MIN_RETENTION_DAYS)))
    return _row(ARCHIVE, Status.PASS, msg("cc_retention", days=str(inv.retention_days)))


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
