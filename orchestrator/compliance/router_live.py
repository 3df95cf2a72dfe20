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

import json
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from orchestrator.compliance.clauses import CheckRow, Status
from orchestrator.model.inventory import Inventory

MIN_MBPS = 2.0  # as compliance.static (R-NET-2a)
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
                                   error=failed or "the device was not read"))
        elif got.get("interface") is None:
            out.append(PortReading(ln.id, ln.router, None, None, None, error="no `interface` in the inventory"))
        else:
            mbps = got.get("mbps")
            out.append(PortReading(ln.id, ln.router, got["interface"], got.get("layer3"),
                                   float(mbps) if isinstance(mbps, (int, float)) else None))
    return out


def _readings(pdd: Path) -> dict[str, Mapping]:
    """{line id: the module's reading} from the run's job events."""
    out: dict[str, Mapping] = {}
    for path in sorted(pdd.glob("artifacts/*/job_events/*.json")):
        try:
            event = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if event.get("event") not in ("runner_item_on_ok", "runner_on_ok"):
            continue
        res = (event.get("event_data") or {}).get("res") or {}
        for item in [res, *(r for r in res.get("results") or () if isinstance(r, Mapping))]:
            for reading in item.get("interfaces") or ():
                if isinstance(reading, Mapping) and reading.get("id"):
                    out[str(reading["id"])] = reading
    return out


def _row(clause: str, status: Status, evidence: str) -> CheckRow:
    return CheckRow(clause=clause, part="live", status=status, evidence=evidence)


def rows(readings: list[PortReading]) -> list[CheckRow]:
    def where(r: PortReading) -> str:
        return f"{r.line} ({r.router} {r.interface or '?'})"

    unread = [f"{where(r)}: not read: {r.error}" for r in readings if r.error]
    switched = [f"{where(r)}: switched port" for r in readings if not r.error and r.layer3 is False]
    unsaid_l3 = [f"{where(r)}: the device did not say" for r in readings if not r.error and r.layer3 is None]
    routed = [where(r) for r in readings if not r.error and r.layer3]
    low = [f"{where(r)}: {r.mbps:g} Mbps" for r in readings
           if not r.error and r.mbps is not None and r.mbps < MIN_MBPS]
    unsaid_bw = [f"{where(r)}: no bandwidth shown" for r in readings if not r.error and r.mbps is None]
    enough = [f"{where(r)} {r.mbps:g} Mbps" for r in readings
              if not r.error and r.mbps is not None and r.mbps >= MIN_MBPS]
    out = []
    if switched:
        out.append(_row("R-NET-2b", Status.FAIL, "on the device, not routed (L3): " + "; ".join(switched + unread)))
    elif unread or unsaid_l3:
        out.append(_row("R-NET-2b", Status.WARN, "; ".join(unread + unsaid_l3)
                        + (f"; routed: {', '.join(routed)}" if routed else "")))
    else:
        out.append(_row("R-NET-2b", Status.PASS, "routed (L3) port on the device: " + ", ".join(routed)))
    if low:
        out.append(_row("R-NET-2a", Status.FAIL, f"below {MIN_MBPS:g} Mbps on the device: "
                        + "; ".join(low + unread)))
    elif unread or unsaid_bw:
        out.append(_row("R-NET-2a", Status.WARN, "; ".join(unread + unsaid_bw)
                        + (f"; read: {', '.join(enough)}" if enough else "")))
    else:
        out.append(_row("R-NET-2a", Status.PASS, "bandwidth on the device: " + ", ".join(enough)))
    return out
