"""What the hosts themselves say about each gateway (issue 13, "the after-check reads the
host"): the sha256 of its config file read on its host, and whether its process runs. Never
the monitor's claim: the monitor reports its own view of both, which the steady state checks
separately.

Lab: the config under the lab's state folder and the supervisor's process table. Real
hosts: drill's own SSH (`sha256sum` and `<drill_service_ctl> is-active <service>`), or the
local file for a gateway host with a local connection. A gateway driven by `driver:
manual` has no host drill may log in to: it is not read, and says so."""

from __future__ import annotations

import hashlib
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestrator.model.inventory import Inventory

if TYPE_CHECKING:
    from orchestrator.adapters.ssh import SshSupplier


@dataclass(frozen=True)
class HostRead:
    gateway: str
    where: str                 # host:path of the config file
    sha256: str | None         # None: not read (`detail` says why)
    process: bool | None       # True: running; None: not read
    detail: str = ""


def sha256_of(path: Path) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def read_lab(state_dir: Path, inv: Inventory, status: Mapping[str, Any] | None) -> dict[str, HostRead]:
    """The lab: each gateway's config file as the lab wrote it, and its process."""
    procs = {g.get("id"): g for g in (status or {}).get("gateways") or ()}
    out = {}
    for gw in inv.gateways:
        path = Path(state_dir) / gw.config
        sha = sha256_of(path)
        proc = procs.get(gw.id)
        running = None if proc is None else proc.get("process") == "running"
        detail = "" if sha is not None else f"cannot read {path}"
        if proc is None:
            detail = (detail + "; " if detail else "") + "the lab does not list its process"
        out[gw.id] = HostRead(gw.id, f"lab:{path}", sha, running, detail)
    return out


def read_hosts(inv: Inventory, ssh: SshSupplier | None = None) -> dict[str, HostRead]:
    """Real hosts over drill's SSH (the run's pool `ssh()` when given), or locally for a
    local-connection host."""
    from orchestrator.adapters.hosts import load_topology
    from orchestrator.adapters.ssh import pool_of
    from orchestrator.config.ansible_inventory import read_inventory

    source = read_inventory(Path(inv.path))
    topo = load_topology(inv.path)
    out: dict[str, HostRead] = {}
    with pool_of(inv.path, ssh) as pool:
        for gw in inv.gateways:
            where = f"{gw.host}:{gw.config}"
            if (gw.driver or inv.driver) == "manual":
                out[gw.id] = HostRead(gw.id, where, None, None, "not read: driver manual (no host drill logs in to)")
                continue
            hv = source.hosts[gw.host].effective if gw.host in source.hosts else {}
            ctl = str(hv.get("drill_service_ctl") or "systemctl")
            if hv.get("ansible_connection") == "local":
                out[gw.id] = _local(gw, where, ctl)
                continue
            if gw.host not in topo.hosts:
                out[gw.id] = HostRead(gw.id, where, None, None,
                                      f"not read: {gw.host} is not an SSH host of the inventory")
                continue
            try:
                r = pool.run(gw.host, f"sha256sum -- {shlex.quote(gw.config)}", timeout_s=20.0)
                sha = r.stdout.split()[0] if r.exit_status == 0 and r.stdout.split() else None
                why = "" if sha else f"sha256sum {gw.config}: {(r.stderr or r.stdout).strip()[:200]}"
                running = None
                if gw.service:
                    p = pool.run(gw.host, f"{ctl} is-active {shlex.quote(gw.service)}", timeout_s=20.0)
                    running = p.exit_status == 0
                out[gw.id] = HostRead(gw.id, where, sha, running, why)
            except Exception as e:  # any failure to read is reported, not raised
                out[gw.id] = HostRead(gw.id, where, None, None, f"not read over SSH: {e}")
    return out


def _local(gw, where: str, ctl: str) -> HostRead:
    import subprocess

    sha = sha256_of(Path(gw.config))
    running = None
    if gw.service:
        running = subprocess.run([*shlex.split(ctl), "is-active", gw.service], capture_output=True,
                                 timeout=20).returncode == 0
    return HostRead(gw.id, where, sha, running, "" if sha else f"cannot read {gw.config}")
