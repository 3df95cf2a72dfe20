"""Files of a running lab's gateways: server lists rendered for a repoint, and configs,
logs and ground truth copied out as a run's evidence (docs/run-folder.md layout)."""

from __future__ import annotations

import copy
import gzip
import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator.errors import InputError, Problem
from orchestrator.lab.control import LabClient, LabError, is_running, project_template


def repoint_plan(plan: object, where: str) -> dict[str, list[dict[str, Any]]]:
    """`{gateway id: servers}` from repoint.yml's plan (a JSON list of `{gateway: {id},
    servers: [{centre, address, port}, ...]}`), every entry checked."""
    problems, out = [], {}
    if not isinstance(plan, list) or not plan:
        raise InputError(Problem(where, None, "plan", "expected a non-empty JSON list"))
    for i, item in enumerate(plan):
        gid = (item.get("gateway") or {}).get("id") if isinstance(item, dict) else None
        servers = item.get("servers") if isinstance(item, dict) else None
        ok = isinstance(servers, list) and servers and all(
            isinstance(s, dict) and {"centre", "address", "port"} <= set(s) for s in servers)
        if not gid or not ok:
            problems.append(Problem(where, None, f"plan[{i}]", "expected {gateway: {id}, "
                                    "servers: [{centre, address, port}, ...]}"))
        elif gid in out:
            problems.append(Problem(where, None, f"plan[{i}]", f"gateway {gid} planned twice"))
        else:
            out[str(gid)] = servers
    if problems:
        raise InputError(problems)
    return out


@dataclass(frozen=True)
class _Index:
    """What these commands need of the lab's gateways: environment, config paths, template
    variables (lab/config.py GATEWAY_INDEX)."""

    environment: str
    gateways: Mapping[str, Mapping[str, Any]]  # id: {config, vars}

    def config(self, gid: str) -> Path:
        return Path(self.gateways[gid]["config"])


def _lab_index(state_dir: Path) -> _Index:
    """The index `lab up` wrote; a lab started before it existed: from its inventory."""
    from orchestrator.lab.config import GATEWAY_INDEX, config_path, template_vars

    try:
        doc = json.loads((state_dir / GATEWAY_INDEX).read_text(encoding="utf-8"))
        return _Index(doc["environment"], doc["gateways"])
    except FileNotFoundError:
        from orchestrator.config.inventory import load_inventory

        inv = load_inventory(state_dir / "inventory.yml")
        return _Index(inv.environment.name, {
            g.id: {"config": str(config_path(inv, state_dir, g.id)),
                   "vars": template_vars(inv, g.id, state_dir)} for g in inv.gateways})


def _unknown_gateways(index: _Index, state_dir: Path, ids) -> None:
    known = index.gateways
    bad = [g for g in ids if g not in known]
    if bad:
        raise InputError(Problem(str(state_dir / "inventory.yml"), None, "gateways",
                                 f"unknown gateway(s) {', '.join(bad)}; expected among "
                                 + ", ".join(list(known)[:10]) + (" …" if len(known) > 10 else "")))


def render_server_lists(state_dir: Path | str, servers: dict[str, list[dict[str, Any]]],
                        template: Path | None = None) -> list[Path]:
    """Render each gateway's server list (`{gateway id: [{centre, address, port}, ...]}`)
    into the lab state folder with the shared template, the variables `drill lab up` uses
    and the servers given. Every id is checked before anything is written; each file is
    replaced atomically (a gateway restarting meanwhile reads the old or the new one)."""
    import jinja2

    state_dir = Path(state_dir)
    index = _lab_index(state_dir)
    _unknown_gateways(index, state_dir, servers)
    template = template or project_template(state_dir / "inventory.yml")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(template.parent)),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                             trim_blocks=True, lstrip_blocks=True)  # as lab/config.py renders
    tpl = env.get_template(template.name)
    dests = {gid: index.config(gid) for gid in servers}  # every one first
    written = []
    for gid, order in servers.items():
        variables = copy.deepcopy(dict(index.gateways[gid]["vars"]))
        variables["servers"] = [{"centre": s["centre"], "address": s["address"],
                                 "port": int(s["port"])} for s in order]
        dest = dests[gid]
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.tmp")
        tmp.write_text(tpl.render(**variables), encoding="utf-8")
        tmp.chmod(0o644)
        tmp.replace(dest)
        written.append(dest)
    return written


def collect_evidence(state_dir: Path | str, dest: Path | str, gateways: list[str],
                     with_status: bool = True) -> list[str]:
    """Copy into `dest` (the evidence.yml layout): configs/<id>/<config file>,
    logs/<id>/gateway.log.gz, logs/lab/{truth.jsonl,supervisor.log}.gz and, with
    `with_status`, routes/lab-status.json (the lab's lines and routes). Logs are gzipped:
    on a 2-hour hold they grow with every transfer and would dominate the run folder (P9).
    Returns the paths written, relative to `dest`. Sources that do not exist are named in
    one LabError after the rest is copied."""
    state_dir, dest = Path(state_dir), Path(dest)
    index = _lab_index(state_dir)
    _unknown_gateways(index, state_dir, gateways)
    copies: list[tuple[Path, Path]] = []
    for gid in gateways:
        config = index.config(gid)
        copies.append((config, Path("configs") / gid / config.name))
        copies.append((state_dir / "gateways" / gid / "gateway.log",
                       Path("logs") / gid / "gateway.log.gz"))
    for name in ("truth.jsonl", "supervisor.log"):
        copies.append((state_dir / name, Path("logs") / "lab" / f"{name}.gz"))
    written, missing = [], []
    for src, rel in copies:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            _copy(src, target)
        except FileNotFoundError:
            missing.append(str(src))
            continue
        target.chmod(0o640)
        written.append(str(rel))
    if with_status:
        if is_running(state_dir):
            status = {**LabClient(state_dir).status(), "running": True}
        else:
            status = {"ok": True, "running": False, "environment": index.environment}
        target = dest / "routes" / "lab-status.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(status, indent=4, sort_keys=True, ensure_ascii=False) + "\n",
                          encoding="utf-8")
        target.chmod(0o640)
        written.append(str(Path("routes") / "lab-status.json"))
    if missing:
        raise LabError(f"evidence: not found in the lab state folder: {', '.join(missing)}")
    return written


def _copy(src: Path, target: Path) -> None:
    if target.suffix != ".gz":
        shutil.copyfile(src, target)
        return
    # mtime=0: the same log gives the same bytes, so its evidence hash is reproducible
    with open(src, "rb") as fin, open(target, "wb") as raw, \
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=6, mtime=0) as out:
        shutil.copyfileobj(fin, out, 1 << 20)
