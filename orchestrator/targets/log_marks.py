"""Where each gateway's log stood as the run started (inode and size), so the linux
driver's evidence fetches only what the run wrote (`playbooks/library/drill_log_slice.py`),
not the days of log before it. Read over drill's SSH, one command per host, or locally for a
local-connection host; a log that cannot be read is recorded with why, never raised."""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestrator.model.inventory import Inventory

if TYPE_CHECKING:
    from orchestrator.adapters.ssh import SshSupplier
    from orchestrator.model.ansible_inventory import AnsibleInventory

LOG_VAR = "drill_gateway_log"  # the gateway host's log path, {id} for the gateway id


def log_paths(inv: Inventory, source: AnsibleInventory) -> dict[str, dict[str, str]]:
    """{host: {gateway id: log path}} of the gateways the linux driver collects logs of
    (`source`: the inventory as Ansible reads it, `config.ansible_inventory.read_inventory`)."""
    out: dict[str, dict[str, str]] = {}
    for gw in inv.gateways:
        if (gw.driver or inv.driver) != "linux" or gw.host not in source.hosts:
            continue
        pattern = source.hosts[gw.host].effective.get(LOG_VAR)
        if isinstance(pattern, str) and "{{" not in pattern:  # a template: no mark, the tail is cut
            out.setdefault(gw.host, {})[gw.id] = pattern.replace("{id}", gw.id)
    return out


def record_log_marks(inv: Inventory, dest: Path, ssh: SshSupplier | None = None) -> dict[str, Any]:
    """Mark every log of `log_paths` and write `{"log_marks": {id: {host, path, inode,
    size} or {host, path, error}}}` to `dest` (with `error` when the inventory could not be
    read for it); nothing is written when no log is named."""
    from orchestrator.adapters.hosts import load_topology
    from orchestrator.adapters.ssh import pool_of
    from orchestrator.config.ansible_inventory import read_inventory

    error = None
    try:
        source = read_inventory(Path(inv.path))
        paths = log_paths(inv, source)
    except Exception as e:  # evidence must never break a run
        paths, error = {}, f"{type(e).__name__}: {e}"
    if not paths and error is None:
        return {}
    marks: dict[str, dict[str, Any]] = {}
    if paths:
        local = {h for h in paths if source.hosts[h].effective.get("ansible_connection") == "local"}
        for host in sorted(local):
            marks.update(_local(host, paths[host]))
        remote = sorted(set(paths) - local)
        if remote:
            try:
                ssh_hosts = load_topology(inv.path).hosts
                with pool_of(inv.path, ssh) as pool:
                    for host in remote:
                        marks.update(_remote(pool, host, paths[host]) if host in ssh_hosts else
                                     _unread(host, paths[host], "not an SSH host of the inventory"))
            except Exception as e:  # no pool at all: every remaining log unmarked, and why
                for host in remote:
                    for gid, why in _unread(host, paths[host], f"{type(e).__name__}: {e}").items():
                        marks.setdefault(gid, why)
    doc: dict[str, Any] = {"log_marks": marks, **({"error": error} if error else {})}
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return doc


def _unread(host: str, logs: dict[str, str], why: str) -> dict[str, dict[str, Any]]:
    return {gid: {"host": host, "path": path, "error": why} for gid, path in logs.items()}


def _local(host: str, logs: dict[str, str]) -> dict[str, dict[str, Any]]:
    out = {}
    for gid, path in logs.items():
        try:
            st = os.stat(path)
        except OSError as e:
            out[gid] = {"host": host, "path": path, "error": f"{type(e).__name__}: {e}"}
        else:
            out[gid] = {"host": host, "path": path, "inode": st.st_ino, "size": st.st_size}
    return out


def _remote(pool, host: str, logs: dict[str, str]) -> dict[str, dict[str, Any]]:
    """One `stat` per log in one SSH command: a line `inode size` each, `-` when unreadable."""
    items = list(logs.items())
    command = "; ".join(f"stat -L -c '%i %s' -- {shlex.quote(path)} 2>/dev/null || echo -"
                        for _, path in items)
    try:
        res = pool.run(host, command, timeout_s=30.0)
    except Exception as e:  # unreachable now: the evidence cuts these logs' tails instead
        return _unread(host, logs, f"{type(e).__name__}: {e}")
    lines = res.stdout.splitlines()
    out = {}
    for i, (gid, path) in enumerate(items):
        parts = lines[i].split() if i < len(lines) else []
        if len(parts) == 2 and all(p.isdigit() for p in parts):
            out[gid] = {"host": host, "path": path, "inode": int(parts[0]), "size": int(parts[1])}
        else:
            out[gid] = {"host": host, "path": path, "error": "stat: no such readable file"}
    return out
