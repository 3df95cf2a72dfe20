"""The interface every target implements, and the typed view a target gives of itself."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from orchestrator.journal.runfolder import RunFolder
from orchestrator.model.inventory import Inventory
from orchestrator.targets.host_read import HostRead

if TYPE_CHECKING:
    from orchestrator.adapters.ssh import SshSupplier


@dataclass(frozen=True)
class EnvironmentView:
    """What the environment itself says, beyond the gateway monitors: sessions at the
    exchange (most per service, per gateway id), line and centre states."""

    sessions: Mapping[str, int] = field(default_factory=dict)
    lines: Mapping[str, str] = field(default_factory=dict)
    centres: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Note:
    """Something a target did for a run, journaled by the engine as a `note`."""

    message: str
    data: Mapping[str, Any] = field(default_factory=dict)


class Target(Protocol):
    """`ssh`, where a method takes it: the run's pool supplier (adapters/run_ssh.py), so a
    run reaches each host over one connection; None: the method opens its own."""

    name: str
    # Where the target keeps its state (journaled in run.start as `lab_state_dir`); None: nowhere.
    state_dir: Path | None
    # How the engine acknowledges a manual step with nobody asked ("lab-auto"); None: a person.
    unattended_ack: str | None
    # Whether `environment_view` shows the exchange's session table.
    sessions_visible: bool
    # What the no-double-login objective says when it passed.
    session_detail: str

    def environment_view(self) -> EnvironmentView | None:
        """The environment's own view now; None when the target cannot see one."""

    def gateway_log(self, gateway: str) -> Path | None:
        """The gateway's log file as drill can read it, for verify steps; None: not readable."""

    def read_gateways(self, inventory: Inventory, ssh: SshSupplier | None = None) -> Mapping[str, HostRead]:
        """Each gateway's config file (sha256) and process as its host reports them, never
        the monitor's claim (issue 13; targets/host_read.py)."""

    def start_evidence(self, inventory: Inventory, folder: RunFolder,
                       ssh: SshSupplier | None = None) -> tuple[Note, ...]:
        """Evidence taken as the run starts (real hosts: clock offsets)."""

    def end_evidence(self, folder: RunFolder, since_ns: int) -> tuple[Note, ...]:
        """Evidence copied into the run folder as it closes (lab: ground truth)."""

    def centres_healthy(self, inventory: Inventory, centres: tuple[str, ...], ssh: SshSupplier | None = None) -> bool:
        """Every centre up and reachable (recover's guard before failback)."""

    def tcp_reachable(self, inventory: Inventory, address: str, port: int,
                      ssh: SshSupplier | None = None) -> tuple[bool, str]:
        """Whether address:port accepts a TCP connection from where the gateways are (a
        verify step's `tcp` probe): (ok, what was tried)."""

    def log_access(self, inventory: Inventory, ssh: SshSupplier | None = None) -> Any:
        """How the `host` observer reaches the gateways' own logs
        (`probes.host_observer.LogAccess`: the lab's files, or SSH through the bastion)."""


@dataclass(frozen=True)
class Opened:
    """A target chosen for an inventory, with the inventory it really runs (a running
    lab's effective one) and whether opening it started the lab."""

    target: Target
    inventory: Inventory
    started: bool = False
