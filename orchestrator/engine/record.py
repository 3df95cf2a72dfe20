"""The `run.start` record: what ran, against what, by whom, with which versions."""

from __future__ import annotations

import getpass
import os
import socket
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from orchestrator.engine.steps import step_record, text_record
from orchestrator.journal.runfolder import sha256_file
from orchestrator.model.inventory import Inventory


def run_start_record(resolved, inv: Inventory, opt, state_dir: Path | None) -> dict[str, Any]:
    """`state_dir`: the target's (journaled as `lab_state_dir`; recover finds it there)."""
    d = resolved.drill
    playbooks = {}
    for _, s in resolved.steps():
        if s.playbook and s.playbook not in playbooks:
            p = Path(opt.project_root) / "playbooks" / s.playbook
            playbooks[s.playbook] = sha256_file(p) if p.is_file() else None
    inv_file = Path(inv.path)
    if inv_file.is_dir():
        inv_file = inv_file / "hosts.yml"
    plan = [step_record(s, phase, i) for phase in resolved.phases
            for i, s in enumerate(resolved.phases[phase])]
    return {
        "drill": {"id": d.id, "title": text_record(d.title), "sha256": d.sha256,
                  "spec": list(d.spec), "cadence": d.cadence, "path": str(d.path),
                  "description": text_record(d.description),
                  **({"organised": {"organiser": d.organiser}} if d.organiser else {})},
        "params": plain_params(resolved.params),
        "inventory": {"path": str(inv.path), "environment": inv.environment.name,
                      "kind": inv.environment.kind, "timezone": inv.environment.timezone,
                      "sha256": sha256_file(inv_file) if inv_file.is_file() else None,
                      "retention_days": inv.retention_days,
                      "report": inv.report.for_drill(d.id)},
        "playbooks": playbooks,
        "git": _git(Path(opt.project_root)),
        "operator": opt.operator or getpass.getuser(),
        "os_user": getpass.getuser(), "host": socket.gethostname(), "pid": os.getpid(),
        "ticket": opt.ticket, "approver": opt.approver,
        "unattended": bool(opt.yes or inv.environment.is_lab),
        "confirmed_environment": opt.confirm_environment,
        "override_window": opt.override_window,
        **({"flow_checks": True} if opt.flow_checks else {}),
        **({"rehearsal": True} if getattr(opt, "rehearsal", False) else {}),
        "versions": _versions(),
        "targets": {"rto_s": dict(d.targets.rto_s), "no_double_login": d.targets.no_double_login,
                    "cutover_limit_s": d.targets.cutover_limit_s,
                    "cutover_firm_s": d.targets.cutover_firm_s,
                    **({"expected_interruption_s": dict(d.targets.expected_s)}
                       if d.targets.expected_s else {})},
        "abort": {"blast_radius": d.abort.blast_radius,
                  "recovery_margin_s": d.abort.recovery_margin_s},
        "failback": d.failback,
        "timing": {"probe_period": inv.timing.probe_period,
                   "heartbeat_timeout": inv.timing.heartbeat_timeout},
        "plan": plan,
        "topology": topology(inv),
        "lab_state_dir": str(state_dir) if state_dir is not None else None,
        "project": str(opt.project_root),
        "reports_dir": str(opt.reports_dir),
    }


def plain_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Drill parameters as JSON has them (tuples as lists)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}



def topology(inv: Inventory) -> dict[str, Any]:
    return {
        "centres": [{"id": c.id, "role": c.role, "name": text_record(c.name),
                     "services": {s: str(ep) for s, ep in c.services.items()}} for c in inv.centres],
        "carriers": [{"id": c.id, "name": text_record(c.name)} for c in inv.carriers],
        "lines": [{"id": ln.id, "carrier": ln.carrier, "centre": ln.centre, "mbps": ln.mbps,
                   "port_layer": ln.port_layer, "medium": ln.medium, "preference": ln.preference,
                   "router": ln.router, "interface": ln.interface,
                   "local_address": ln.local_address, "remote_address": ln.remote_address}
                  for ln in inv.lines],
        "gateways": [{"id": g.id, "kind": g.kind, "home_centre": inv.home_centre(g),
                      "satellite_only": g.satellite_only, "monitor": None if g.monitor is None else str(g.monitor)}
                     for g in inv.gateways],
        "multicast": None if inv.multicast is None else {
            "address": inv.multicast.address, "port": inv.multicast.port, "line": inv.multicast.line},
    }


def _git(root: Path) -> dict[str, Any]:
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                                text=True, timeout=5, check=False).stdout.strip() or None
        dirty = bool(subprocess.run(["git", "-C", str(root), "status", "--porcelain",
                                     "--untracked-files=no"], capture_output=True, text=True,
                                    timeout=5, check=False).stdout.strip()) if commit else None
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": dirty}


def _versions() -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    from orchestrator import __version__

    out: dict[str, str | None] = {"drill": __version__, "python": sys.version.split()[0]}
    for key, dist in (("ansible_core", "ansible-core"), ("ansible_runner", "ansible-runner")):
        try:
            out[key] = version(dist)
        except PackageNotFoundError:
            out[key] = None
    return out
