"""The embedded lab: its control socket shows sessions, lines and centres; its state
directory holds the gateways' logs, the ground truth and the effective inventory (the one
place that inventory is read back: a lab started with --gateways N runs fewer gateways)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestrator.config.inventory import load_inventory
from orchestrator.journal.gzlines import GzipLines
from orchestrator.journal.runfolder import RunFolder
from orchestrator.model.inventory import Inventory, route
from orchestrator.targets.base import EnvironmentView, Note
from orchestrator.targets.host_read import HostRead, read_lab

if TYPE_CHECKING:
    from orchestrator.adapters.ssh import SshSupplier

EFFECTIVE_INVENTORY = "inventory.yml"


def state_dir(environment: str, drill_home: Path | None = None) -> Path:
    from orchestrator.lab.control import lab_state_dir

    return lab_state_dir(environment, drill_home)


def is_running(state: Path) -> bool:
    from orchestrator.lab.control import is_running as running

    return running(state)


def effective_inventory(state: Path) -> Inventory | None:
    """The inventory a running lab really runs; None when it has written none."""
    path = Path(state) / EFFECTIVE_INVENTORY
    return load_inventory(path) if path.is_file() else None


def sessions_by_gateway(lab_status: Mapping[str, Any]) -> dict[str, int]:
    """Most sessions any one service holds for each gateway id at the exchange.

    A session left in the table of a centre that is down is not counted: the centre
    serves nobody (it stalls until the session expires), so it is no second login when
    the gateway logs in at Beijing (R-APP-5, R-DR-2). FT and NF share one table, so
    between them the exchange itself refuses a second login."""
    down = {str(c.get("id")) for c in lab_status.get("centres") or []
            if isinstance(c, Mapping) and c.get("state") == "down"}
    per: dict[tuple[str, str], int] = {}
    for s in lab_status.get("sessions") or []:
        if isinstance(s, Mapping) and s.get("gateway") and str(s.get("centre")) not in down:
            key = (str(s["gateway"]), str(s.get("service") or ""))
            per[key] = per.get(key, 0) + 1
    counts: dict[str, int] = {}
    for (gid, _svc), n in per.items():
        counts[gid] = max(counts.get(gid, 0), n)
    for g in lab_status.get("gateways") or []:
        if isinstance(g, Mapping) and g.get("id"):
            counts.setdefault(str(g["id"]), 0)
    return counts


def _states(lab_status: Mapping[str, Any], key: str, *, up_if_unsaid: bool,
            bare: bool) -> dict[str, str]:
    """{id: state} of the lab's lines or centres, listed as objects or keyed by id (a line
    keyed by id may be given as its bare state)."""
    out: dict[str, str] = {}
    things = lab_status.get(key) or []
    items = things.items() if isinstance(things, Mapping) else ((t.get("id"), t) for t in things)
    for tid, t in items:
        if isinstance(t, Mapping):
            out[str(tid)] = str(t.get("state") or ("up" if t.get("up", up_if_unsaid) else "down"))
        elif bare:
            out[str(tid)] = str(t)
    return out


def lines_state(lab_status: Mapping[str, Any]) -> dict[str, str]:
    return _states(lab_status, "lines", up_if_unsaid=False, bare=True)


def centres_state(lab_status: Mapping[str, Any]) -> dict[str, str]:
    return _states(lab_status, "centres", up_if_unsaid=True, bare=False)


def view_of(lab_status: Mapping[str, Any]) -> EnvironmentView:
    return EnvironmentView(sessions_by_gateway(lab_status), lines_state(lab_status),
                           centres_state(lab_status))


@dataclass(frozen=True)
class LabTarget:
    state_dir: Path
    name: str = "lab"
    unattended_ack: str | None = "lab-auto"
    sessions_visible: bool = True
    session_detail: str = ("never more than one session per gateway id (exchange session table, "
                           "sampled every 200 ms)")

    def status(self) -> dict[str, Any]:
        from orchestrator.lab.control import LabClient

        return LabClient(self.state_dir, timeout=5.0).status()

    def environment_view(self) -> EnvironmentView | None:
        return view_of(self.status())

    def gateway_log(self, gateway: str) -> Path | None:
        return Path(self.state_dir) / "gateways" / gateway / "gateway.log"

    def read_gateways(self, inventory: Inventory, ssh: SshSupplier | None = None) -> dict[str, HostRead]:
        """Each gateway's config file and process as the lab itself has them."""
        try:
            status = self.status()
        except Exception:  # a lab that does not answer lists no process
            status = None
        return read_lab(Path(self.state_dir), inventory, status)

    def start_evidence(self, inventory: Inventory, folder: RunFolder,
                       ssh: SshSupplier | None = None) -> tuple[Note, ...]:
        return ()

    def end_evidence(self, folder: RunFolder, since_ns: int) -> tuple[Note, ...]:
        """The lab's ground truth since the run started, next to drill's measurements."""
        try:
            dst = GzipLines(folder.lab_truth)
        except OSError as e:
            return (Note(f"lab truth not copied: {e}"),)
        try:
            with open(Path(self.state_dir) / "truth.jsonl", encoding="utf-8") as src:
                for line in src:
                    with contextlib.suppress(ValueError):
                        if (rec := json.loads(line)).get("ts_ns", 0) >= since_ns:
                            dst.write(rec)
        except OSError as e:
            return (Note(f"lab truth not copied: {e}"),)
        finally:
            with contextlib.suppress(OSError):
                dst.close()
        return (Note(f"lab truth cut short: {dst.error}"),) if dst.error else ()

    def log_access(self, inventory: Inventory, ssh: SshSupplier | None = None):
        """The gateways' logs are files under the lab's state folder (`log:` relative)."""
        from orchestrator.probes.host_observer import LocalLogAccess

        return LocalLogAccess(Path(self.state_dir))

    def tcp_reachable(self, inventory: Inventory, address: str, port: int,
                      ssh: SshSupplier | None = None) -> tuple[bool, str]:
        """The lab's gateways run on this host: a TCP connect from here."""
        import asyncio

        from orchestrator.probes.tcp import connect_ok

        ok = asyncio.run(connect_ok(address, int(port)))
        return ok, f"tcp {address}:{port} {'accepts' if ok else 'refuses'} connections"

    def centres_healthy(self, inventory: Inventory, centres: tuple[str, ...], ssh: SshSupplier | None = None) -> bool:
        """Up, and reachable: some terrestrial line still carries flows to each."""
        try:
            st = self.status()
        except Exception:
            return False
        states = centres_state(st)
        down = [lid for lid, state in lines_state(st).items() if state != "up"]
        return all(states.get(c, "up") == "up" and route(inventory, c, down) is not None
                   for c in centres)
