"""Real hosts: gateways seen through their monitors or their own logs over SSH (the
`host` observer), clocks recorded over SSH."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from orchestrator.journal.runfolder import RunFolder
from orchestrator.model.inventory import Inventory
from orchestrator.targets.base import EnvironmentView, Note
from orchestrator.targets.host_read import HostRead

if TYPE_CHECKING:
    from orchestrator.adapters.ssh import SshSupplier


@dataclass(frozen=True)
class HostsTarget:
    name: str = "hosts"
    state_dir: Path | None = None
    unattended_ack: str | None = None
    sessions_visible: bool = False
    # A refused duplicate logon is the exchange doing its job, not a double login.
    session_detail: str = ("not measurable here: the exchange's session table is not visible "
                           "from the gateway monitors")

    def environment_view(self) -> EnvironmentView | None:
        return None

    def gateway_log(self, gateway: str) -> Path | None:
        return None

    def read_gateways(self, inventory: Inventory, ssh: SshSupplier | None = None) -> dict[str, HostRead]:
        """Each gateway's config file (sha256) and process, read on its host over SSH."""
        from orchestrator.targets.host_read import read_hosts

        return read_hosts(inventory, ssh)

    def start_evidence(self, inventory: Inventory, folder: RunFolder,
                       ssh: SshSupplier | None = None) -> tuple[Note, ...]:
        """Every SSH host's clock offset, and where each gateway log stood (its inode and
        size: the evidence step fetches what the run wrote after it), kept as evidence
        (docs/real-hosts.md)."""
        from orchestrator.adapters.hosts import record_clock_offsets
        from orchestrator.targets.log_marks import record_log_marks

        rows = record_clock_offsets(inventory.path, folder.evidence / "clock-offsets.json", ssh)
        notes = [Note("clock offsets of the SSH hosts recorded", {"hosts": rows})] if rows else []
        marks = record_log_marks(inventory, folder.evidence / "log-marks.json", ssh)
        if marks:
            unread = {gid: m["error"] for gid, m in marks["log_marks"].items() if "error" in m}
            notes.append(Note("gateway logs marked as the run starts", {
                "marked": len(marks["log_marks"]) - len(unread), "unread": unread,
                **({"error": marks["error"]} if "error" in marks else {})}))
        return tuple(notes)

    def end_evidence(self, folder: RunFolder, since_ns: int) -> tuple[Note, ...]:
        return ()

    def log_access(self, inventory: Inventory, ssh: SshSupplier | None = None):
        """The gateways' logs on their hosts, over one SSH connection per host through the
        bastion; each host's clock offset measured on it."""
        from orchestrator.probes.host_observer import SshLogAccess

        return SshLogAccess(inventory.path, ssh=ssh)

    def tcp_reachable(self, inventory: Inventory, address: str, port: int,
                      ssh: SshSupplier | None = None) -> tuple[bool, str]:
        """A TCP connect to address:port made by every gateway host (a direct-tcpip channel
        over its SSH session): what the gateways reach, which drill's own host (on the
        management network) may not."""
        from orchestrator.adapters.ssh import pool_of

        hosts = sorted({g.host for g in inventory.gateways if g.host and not g.satellite_only})
        if not hosts:
            return False, f"tcp {address}:{port}: no gateway host to connect from"
        bad = []
        with pool_of(inventory.path, ssh) as pool:
            for host in hosts:
                try:
                    pool.open_tcp(host, address, port, 5.0).close()
                except Exception as e:  # unreachable, refused, no SSH: this host cannot
                    bad.append(f"{host}: {e}")
        if bad:
            return False, f"tcp {address}:{port} refuses connections from " + "; ".join(bad)
        return True, f"tcp {address}:{port} accepts connections from {', '.join(hosts)}"

    def centres_healthy(self, inventory: Inventory, centres: tuple[str, ...], ssh: SshSupplier | None = None) -> bool:
        """Each centre's trading service accepts a TCP connection from every gateway host
        (`tcp_reachable`): from where the gateways are, since drill's own host on the
        management network may not reach SSCC's addresses at all."""
        for cid in centres:
            ep = inventory.centre(cid).services.get("trading")
            if ep is None or not self.tcp_reachable(inventory, ep.address, ep.port, ssh)[0]:
                return False
        return True
