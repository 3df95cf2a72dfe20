"""The live half of R-NET-2a / R-NET-2b: the line routers' real interfaces.

The inventory's `mbps` and `port_layer` are what the firm wrote down; on a network router
(line.platform huawei_vrp, h3c_comware, cisco_ios) `drill check --live` reads the line's
interface on the device itself (playbooks/router_ports.yml: drill_router_cli, action
inspect, through the same login and Vault-held credentials as the line drills; nothing
changed, nothing stored). A switched port (`port link-type` / `switchport`) fails R-NET-2b
whatever the inventory says; a bandwidth below 2 Mbps fails R-NET-2a. Lines on Linux
routers are not read here (the static rows stand for them).

Ansible runs in a private folder removed afterwards: the credentials reach no run folder.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from orchestrator.compliance.clauses import Arg, CheckRow, Msg, Raw, Status, msg, row, seq
from orchestrator.model.inventory import Inventory

MIN_MBPS = 2.0  # as compliance.static (R-NET-2a)
NOT_READ = "the device was not read"
NO_INTERFACE = "no `interface` in the inventory"
_OWN = {NOT_READ: "cc_dev_not_read", NO_INTERFACE: "cc_no_interface"}  # drill's words; else the device's
TIMEOUT_S = 180.0


@dataclass(frozen=True)
class PortReading:
    line: str
    router: str
    interface: str | None
    layer3: bool | None  # None: the device did not say
    mbps: float | None
    error: str | None = None  # why it was not read


def network_lines(inv: Inventory) -> list:
    return [ln for ln in inv.lines if ln.platform != "linux"]


def check_router_ports(inventory_path: Path, inv: Inventory, playbooks: Path | None = None) -> list[CheckRow]:
    """R-NET-2a and R-NET-2b rows (part live) from the routers' own interfaces; [] when no
    line is on a network router."""
    lines = network_lines(inv)
    if not lines:
        return []
    return rows(read_ports(inventory_path, inv, playbooks or _playbooks()))


def _playbooks() -> Path:
    from orchestrator.config.project import bundled_root, find_project
    from orchestrator.errors import DrillError

    try:
        here = find_project().playbooks_dir
        if (here / "router_ports.yml").is_file():
            return here
    except DrillError:
        pass
    root = bundled_root()
    if root is None:
        raise DrillError("router_ports.yml: no drill project or shipped playbooks found")
    return root / "playbooks"


def read_ports(inventory_path: Path, inv: Inventory, playbooks: Path) -> list[PortReading]:
    from orchestrator.adapters.ansible import PlaybookRun, run_playbook
    from orchestrator.adapters.hosts import known_hosts_path

    lines = network_lines(inv)
    pdd = Path(tempfile.mkdtemp(prefix="drill-check-routers-"))
    try:
        res = run_playbook(PlaybookRun(
            playbook=playbooks / "router_ports.yml", inventory=Path(inventory_path), extravars={},
            private_data_dir=pdd / "pdd", timeout_s=TIMEOUT_S, known_hosts=known_hosts_path(Path(inventory_path))))
        found = _readings(pdd / "pdd")
        failed = "; ".join(t.msg for t in res.failed_tasks) or (None if res.ok else f"ansible {res.status}")
    finally:
        shutil.rmtree(pdd, ignore_errors=True)
    out = []
    for ln in lines:
        got = found.get(ln.id)
        if got is None:
            out.append(PortReading(ln.id, ln.router, ln.interface, None, None,
                                   error=failed or NOT_READ))
        elif got.get("interface") is None:
            out.append(PortReading(ln.id, ln.router, None, None, None, error=NO_INTERFACE))
        else:
            mbps = got.get("mbps")
            out.append(PortReading(ln.id, ln.router, got["interface"], got.get("layer3"),
                                   float(mbps) if isinstance(mbps, (int, float)) else None))
    return out


def _readings(pdd: Path) -> dict[str, Mapping]:
    """{line id: the module's reading} from the run's job events."""
    from orchestrator.adapters.ansible_events import ok_results

    out: dict[str, Mapping] = {}
    for item in ok_results(pdd):
        for reading in item.get("interfaces") or ():
            if isinstance(reading, Mapping) and reading.get("id"):
                out[str(reading["id"])] = reading
    return out


def _row(clause: str, status: Status, message: Msg) -> CheckRow:
    return row(clause, "live", status, message)


def rows(readings: list[PortReading]) -> list[CheckRow]:
    def where(r: PortReading) -> Msg:
        return msg("cc_where_port", line=r.line, router=r.router, interface=r.interface or "?")

    unread: list[Arg] = [msg("cc_port_not_read", where=where(r),
                             error=msg(_OWN[r.error]) if r.error in _OWN else Raw(r.error))
                         for r in readings if r.error]
    switched: list[Arg] = [msg("cc_switched", where=where(r)) for r in readings
                           if not r.error and r.layer3 is False]
    unsaid_l3: list[Arg] = [msg("cc_unsaid", where=where(r)) for r in readings
                            if not r.error and r.layer3 is None]
    routed = [where(r) for r in readings if not r.error and r.layer3]
    low: list[Arg] = [msg("cc_port_mbps", where=where(r), mbps=f"{r.mbps:g}") for r in readings
                      if not r.error and r.mbps is not None and r.mbps < MIN_MBPS]
    unsaid_bw: list[Arg] = [msg("cc_no_bw", where=where(r)) for r in readings
                            if not r.error and r.mbps is None]
    enough = [msg("cc_port_mbps_sp", where=where(r), mbps=f"{r.mbps:g}") for r in readings
              if not r.error and r.mbps is not None and r.mbps >= MIN_MBPS]
    out = []
    if switched:
        out.append(_row("R-NET-2b", Status.FAIL, msg("cc_dev_not_routed", items=seq(switched + unread))))
    elif unread or unsaid_l3:
        tail: Arg = msg("cc_then_routed", items=seq(routed, ", ")) if routed else ""
        out.append(_row("R-NET-2b", Status.WARN, msg("cc_concat", a=seq(unread + unsaid_l3), b=tail)))
    else:
        out.append(_row("R-NET-2b", Status.PASS, msg("cc_dev_routed", items=seq(routed, ", "))))
    if low:
        out.append(_row("R-NET-2a", Status.FAIL, msg("cc_dev_below", min=f"{MIN_MBPS:g}",
                                                     items=seq(low + unread))))
    elif unread or unsaid_bw:
        tail = msg("cc_then_read", items=seq(enough, ", ")) if enough else ""
        out.append(_row("R-NET-2a", Status.WARN, msg("cc_concat", a=seq(unread + unsaid_bw), b=tail)))
    else:
        out.append(_row("R-NET-2a", Status.PASS, msg("cc_dev_bw", items=seq(enough, ", "))))
    return out
