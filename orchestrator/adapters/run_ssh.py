"""A run's SSH connections, kept from the first use to the end of the run (issue 19 P11).

Two stacks reach each host, each over one connection for the whole run: drill's own
(paramiko: one `SshPool` for observers, host reads, verify steps and clock offsets) and
Ansible's (OpenSSH ControlPersist masters under one run-wide control folder, reused by
every playbook). `close` ends both. A run killed before `close` leaves masters that
`drill recover` ends from the folder the journal recorded (`ssh.control`).
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from orchestrator.adapters import procgroup

# Socket paths are limited to 107 bytes; the control folder must be short whatever the
# drill home is, so it lives in the system's temp folder (0700, random name).
CONTROL_PREFIX = "drill-ssh-"
MIN_FORKS, MAX_FORKS = 5, 50


class RunConnections:
    """Opened lazily: a lab run (no SSH host) opens nothing and creates no folder."""

    def __init__(self, inventory_path: str | Path,
                 on_control_dir: Callable[[Path], None] | None = None) -> None:
        self.inventory_path = Path(inventory_path)
        self._on_control_dir = on_control_dir
        self._lock = threading.Lock()
        self._topology: Any = None
        self._pool: Any = None
        self._control: Path | None = None

    def topology(self) -> Any:
        from orchestrator.adapters.hosts import load_topology

        with self._lock:
            if self._topology is None:
                self._topology = load_topology(self.inventory_path)
            return self._topology

    def pool(self) -> Any:
        """drill's SSH pool for the run (one transport per host, through the bastion)."""
        from orchestrator.adapters.ssh import SshPool

        topology = self.topology()
        with self._lock:
            if self._pool is None:
                self._pool = SshPool(topology)
            return self._pool

    def control_dir(self) -> Path | None:
        """The run-wide ssh control folder, journaled before any master lives in it;
        None when the inventory has no SSH host (each playbook then keeps its own)."""
        if not self.topology().hosts:
            return None
        with self._lock:
            if self._control is None:
                path = Path(tempfile.mkdtemp(prefix=CONTROL_PREFIX))
                if self._on_control_dir is not None:
                    try:
                        self._on_control_dir(path)
                    except BaseException:
                        shutil.rmtree(path, ignore_errors=True)
                        raise
                self._control = path
            return self._control

    def forks(self) -> int:
        """Ansible forks sized to the estate: one per SSH host, within 5..50."""
        return max(MIN_FORKS, min(MAX_FORKS, len(self.topology().hosts)))

    def close(self) -> None:
        """End both stacks' connections (a later use opens new ones); safe to call twice."""
        with self._lock:
            pool, self._pool = self._pool, None
            control, self._control = self._control, None
        if pool is not None:
            pool.close()
        if control is not None:
            end_control(control)

    def close_after(self, stop: Callable[[], None]) -> None:
        """`stop()` (what still uses the connections), then `close`, even if it raised."""
        try:
            stop()
        finally:
            self.close()


def end_control(path: Path) -> set[int]:
    """End the ssh masters of a run-wide control folder and remove it; the pids ended."""
    try:
        return procgroup.end_marked(path)
    finally:
        shutil.rmtree(path, ignore_errors=True)
