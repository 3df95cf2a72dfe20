"""Steps as data: journal records of resolved steps (and back), gateway selectors,
wait conditions and verify expectations."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator.model.inventory import SERVICE_OF_KIND, Inventory
from orchestrator.model.text import Text
from orchestrator.probes.monitor import GatewayTracker, dotted, fetch_many
from orchestrator.probes.tcp import connect_ok


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def text_record(text: Text | None) -> dict[str, str] | None:
    return None if text is None else {"zh": text.zh, "en": text.en}


def step_record(step, phase: str | None = None, index: int | None = None) -> dict[str, Any]:
    """A resolved step as journaled in run.start `plan` (and read back by `drill recover`)."""
    e = step.effect
    w = step.wait
    rec: dict[str, Any] = {
        "name": text_record(step.name), "kind": step.kind, "playbook": step.playbook,
        "vars": _plain(step.vars), "timeout_s": step.timeout_s,
        "effect": None if e is None else {
            "lines_down": list(e.lines_down), "lines_up": list(e.lines_up), "mode": e.mode,
            "centres_down": list(e.centres_down), "centres_up": list(e.centres_up),
            "repoint_gateways": list(e.repoint_gateways), "repoint_to": e.repoint_to,
            "services_down": list(e.services_down), "services_up": list(e.services_up)},
        "manual": text_record(step.manual),
        "wait": None if w is None else {"until": w.until, "arg": w.arg, "for_s": w.for_s,
                                        "timeout_s": w.timeout_s, "while": w.while_},
        "verify": [{"probe": x.probe, "gateways": _plain(x.gateways), "address": x.address,
                    "port": x.port, "expect": _plain(x.expect), "pattern": x.pattern,
                    "within_s": x.within_s, "host": getattr(x, "host", None),
                    "command": getattr(x, "command", None)} for x in step.verify],
        "line": step.line,
    }
    if phase is not None:
        rec = {"phase": phase, "index": index, **rec}
    return rec


def step_from_record(rec: Mapping[str, Any]):
    """Inverse of step_record (the restore steps of an unfinished run)."""
    from orchestrator.model.drill import Effect, Expectation, Step, WaitSpec

    def text(v):
        return None if v is None else Text(v.get("zh", ""), v.get("en", ""))

    e = rec.get("effect")
    w = rec.get("wait")
    return Step(
        name=text(rec["name"]), kind=rec["kind"], playbook=rec.get("playbook"),
        vars=dict(rec.get("vars") or {}),
        effect=None if e is None else Effect(
            tuple(e["lines_down"]), tuple(e["lines_up"]), e.get("mode"), tuple(e["centres_down"]),
            tuple(e["centres_up"]), tuple(e["repoint_gateways"]), e.get("repoint_to"),
            tuple(e.get("services_down") or ()), tuple(e.get("services_up") or ())),
        timeout_s=float(rec.get("timeout_s") or 300),
        manual=text(rec.get("manual")),
        wait=None if w is None else WaitSpec(w.get("until"), w.get("arg"), w.get("for_s"),
                                             w.get("timeout_s"), w.get("while")),
        verify=tuple(Expectation(
            probe=x["probe"], gateways=tuple(x["gateways"]) if isinstance(x.get("gateways"), list)
            else x.get("gateways"), address=x.get("address"), port=x.get("port"),
            expect=x.get("expect") or {}, pattern=x.get("pattern"), within_s=x.get("within_s"),
            host=x.get("host"), command=x.get("command")) for x in rec.get("verify") or ()),
        line=rec.get("line"),
    )


def select_gateways(inv: Inventory, selector: Any) -> list[str]:
    """`all`, a gateway kind, or gateway ids."""
    if selector in (None, "all"):
        return [g.id for g in inv.gateways]
    if isinstance(selector, str):
        kinds = [g.id for g in inv.gateways if g.kind == selector]
        # a kind the inventory has no gateway of selects none (not a gateway of that id)
        return kinds if kinds or selector in SERVICE_OF_KIND else [selector]
    return [str(g) for g in selector]


# --- verify ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    detail: str


def _log_status(view) -> dict[str, Any]:
    """What a host-observed gateway's own log shows, in the monitor's /status keys; the
    keys a log does not show are absent (and so fail an expectation on them)."""
    st: dict[str, Any] = {"state": view.state, "centre": view.centre}
    if view.md_source is not None:
        st["md"] = {"source": view.md_source}
    return st


def _expect_monitor(inv: Inventory, x, hosted: Mapping[str, Any] | None = None) -> CheckResult:
    """`hosted`: the views of the `observe: host` gateways (their logs): they have no monitor."""
    ids = select_gateways(inv, x.gateways)
    hosted = hosted or {}
    endpoints = {gid: (m.address, m.port) for gid in ids
                 if gid not in hosted and (m := inv.gateway(gid).monitor) is not None}
    statuses: dict[str, Any] = asyncio.run(fetch_many(endpoints)) if endpoints else {}
    statuses.update({gid: _log_status(hosted[gid]) for gid in ids if gid in hosted})
    bad = [f"{gid}: no monitor (observe: host)" for gid in ids if gid not in statuses]
    for gid in ids:
        if gid not in statuses:
            continue
        st = statuses[gid]
        if not isinstance(st, Mapping):
            bad.append(f"{gid}: monitor does not answer")
            continue
        for key, want in (x.expect or {"state": "logged_in"}).items():
            got = dotted(st, key)
            if got != want:
                where = " (its log does not show it)" if got is None and gid in hosted else ""
                bad.append(f"{gid}: {key} is {got!r}, expected {want!r}{where}")
    if not ids:
        return CheckResult(True, f"no {x.gateways} gateway in the inventory")
    return CheckResult(not bad, "; ".join(bad) or f"{len(ids)} gateway(s) as expected")


def _expect_tcp(x, reach: Callable[[str, int], tuple[bool, str]] | None = None) -> CheckResult:
    """`reach`: the target's own connect (targets: from the gateway hosts); else from here."""
    if reach is not None:
        return CheckResult(*reach(str(x.address), int(x.port)))
    ok = asyncio.run(connect_ok(x.address, int(x.port)))
    return CheckResult(ok, f"tcp {x.address}:{x.port} {'accepts' if ok else 'refuses'} connections")


def _expect_log(inv: Inventory, x, log_path: Callable[[str], Path | None], since_ns: int) -> CheckResult:
    from orchestrator.probes.log import find_matches

    bad = []
    for gid in select_gateways(inv, x.gateways):
        path = log_path(gid)
        if path is None:
            bad.append(f"{gid}: no log drill can read (`log` reads the lab's gateway logs; on "
                       "real hosts use `ssh-command`, e.g. grep, or `monitor` on an "
                       "`observe: host` gateway)")
            continue
        if not find_matches(path, x.pattern or "", since_ns):
            bad.append(f"{gid}: no line matches {x.pattern!r}")
    return CheckResult(not bad, "; ".join(bad) or "pattern found in every log")


def _expect_ssh(x, registry, ssh: Callable[[], Any] | None) -> CheckResult:
    """`ssh-command` / `ssh-tcp`: run on (connect from) an SSH host of the inventory, over
    the run's connections (`ssh`: gives the `SshPool`, adapters/run_ssh.py)."""
    from orchestrator.errors import DrillError, InputError
    from orchestrator.probes.ssh import VERIFY_KINDS, verify_arguments

    what = {"ssh-tcp": f"tcp {x.address}:{x.port} from {x.host}",
            "ssh-command": f"ssh-command on {x.host} ({x.command})"}.get(x.probe, x.probe)
    if registry is None or x.probe not in registry.kinds or x.probe not in VERIFY_KINDS:
        return CheckResult(False, f"{what}: probe kind {x.probe!r} is not available")
    if ssh is None:
        return CheckResult(False, f"{what}: no SSH connections in this run")
    try:
        sample = asyncio.run(registry.make(x.probe, pool=ssh(), **verify_arguments(x)).sample())
    except InputError as e:  # an unknown host; an inventory SSH cannot be read from
        return CheckResult(False, f"{what}: " + "; ".join(str(p) if p.file else p.message
                                                            for p in e.problems))
    except DrillError as e:  # a host key not trusted
        return CheckResult(False, f"{what}: {e}")
    if not sample.ok:
        return CheckResult(False, f"{what}: {sample.error}")
    if x.probe == "ssh-tcp":
        return CheckResult(True, f"{what}: accepts connections")
    matched = f", output matches {x.pattern!r}" if x.pattern else ""
    return CheckResult(True, f"{what}: exit status 0{matched}")


def evaluate(inv: Inventory, x, *, log_path: Callable[[str], Path | None], since_ns: int,
             registry=None, hosted: Callable[[], Mapping[str, Any]] | None = None,
             reach: Callable[[str, int], tuple[bool, str]] | None = None,
             ssh: Callable[[], Any] | None = None) -> CheckResult:
    """`ssh`: the SSH connections of the step (ssh-command, ssh-tcp)."""
    if x.probe in ("monitor", "http-json"):
        return _expect_monitor(inv, x, hosted() if hosted else None)
    if x.probe == "tcp":
        return _expect_tcp(x, reach)
    if x.probe == "log":
        return _expect_log(inv, x, log_path, since_ns)
    if x.probe.startswith("ssh-"):
        return _expect_ssh(x, registry, ssh)
    return CheckResult(False, f"probe kind {x.probe!r} is not available")


def verify_all(inv: Inventory, expectations, *, log_path, since_ns: int, registry=None,
               stop: Callable[[], bool] = lambda: False, default_within_s: float = 5.0,
               hosted: Callable[[], Mapping[str, Any]] | None = None,
               reach: Callable[[str, int], tuple[bool, str]] | None = None,
               ssh: Callable[[], Any] | None = None) -> list[CheckResult]:
    """Each expectation, retried until it holds or its `within` runs out. `hosted`: the
    current views of the `observe: host` gateways (a monitor expectation reads their logs);
    `ssh`: the step's SSH connections (ssh-command, ssh-tcp), opened on first use."""
    results = []
    for x in expectations:
        deadline = time.monotonic() + (x.within_s if x.within_s is not None else default_within_s)
        while True:
            r = evaluate(inv, x, log_path=log_path, since_ns=since_ns, registry=registry, hosted=hosted,
                         reach=reach, ssh=ssh)
            if r.ok or time.monotonic() >= deadline or stop():
                break
            time.sleep(0.1)
        results.append(r)
    return results


# --- wait conditions -------------------------------------------------------------------


def on_centre(inv: Inventory, tracker: GatewayTracker, centre: str) -> tuple[bool, list[str]]:
    views = tracker.views()
    pending = [g.id for g in inv.gateways if not g.satellite_only
               and not (views[g.id].state == "logged_in" and views[g.id].centre == centre)]
    return not pending, pending


def all_logged_in(inv: Inventory, tracker: GatewayTracker) -> tuple[bool, list[str]]:
    views = tracker.views()
    pending = [gid for gid, v in views.items() if not v.service_up or v.state != "logged_in"]
    return not pending, pending


def md_source(inv: Inventory, tracker: GatewayTracker, source: str) -> tuple[bool, list[str]]:
    views = tracker.views()
    pending = [gid for gid, v in views.items() if v.kind == "market_data" and v.md_source != source]
    return not pending, pending


# --- manual driver ---------------------------------------------------------------------

MANUAL = "manual"
# Playbooks whose manual-driver tasks change nothing and confirm nothing.
_NO_CHANGE_PLAYBOOKS = ("verify.yml", "evidence.yml")
_MODE_ZH = {"blackhole": "路由黑洞", "shutdown": "端口关闭"}


def _id_list(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def _known(ids: list[str] | None, items) -> bool:
    known = {x.id for x in items}
    return ids is not None and bool(ids) and all(i in known for i in ids)


def _line_change(inv: Inventory, lid: str, down: bool, mode: str, lang: str) -> str:
    ln = inv.line(lid)
    where = ln.router + (f", interface {ln.interface}" if ln.interface else "")
    if lang == "zh":
        where = ln.router + (f"，接口 {ln.interface}" if ln.interface else "")
        what = f"中断（{_MODE_ZH.get(mode, mode)}）" if down else "恢复"
        return f"线路 {ln.id}（{ln.carrier} 至 {ln.centre}，路由器 {where}）：{what}"
    what = f"take it DOWN ({mode})" if down else "bring it UP"
    return f"line {ln.id} ({ln.carrier} to {ln.centre}, router {where}): {what}"


def _centre_change(cid: str, down: bool, lang: str, services: str = "") -> str:
    if services:  # service.yml: those services of the centre, from the firm's side
        if lang == "zh":
            return f"中心 {cid}：{services} {'在本方屏蔽（不可达）' if down else '恢复可达'}"
        return (f"centre {cid}: make {services} "
                f"{'UNREACHABLE from our side' if down else 'reachable again'}")
    if lang == "zh":
        return f"中心 {cid}：{'停止服务（模拟中心故障）' if down else '恢复服务'}"
    return f"centre {cid}: {'take it DOWN' if down else 'bring it back UP'}"


def _repoint_change(inv: Inventory, gid: str, to: str, lang: str) -> str:
    dr = [c.id for c in inv.centres if c.role == "dr"]
    if to != "home" and to not in dr:
        return f"网关 {gid}：切换至 {to} 并重启网关" if lang == "zh" else \
            f"gateway {gid}: repoint to {to} and restart it"
    order = inv.server_order(gid, dr=to != "home")
    centres = " → ".join(c for c, _ in order)
    servers = ", ".join(str(ep) for _, ep in order)
    if lang == "zh":
        return f"网关 {gid}：服务器列表改为 {centres}（{servers}）并重启网关"
    return f"gateway {gid}: repoint to {centres} ({servers}) and restart it"


def manual_changes(inv: Inventory, step, lang: str = "en") -> tuple[str, ...]:
    """What a person must change by hand before a `playbook` step runs: one line per target
    that uses the manual driver (playbooks/drivers/manual), () when none does.

    The targets are what the shipped playbook acts on (its vars, as line.yml, centre.yml and
    repoint.yml read them), else the step's declared effect; a step whose targets cannot be
    told (a custom playbook without an effect) follows the inventory's default driver.
    """
    if step.kind != "playbook":
        return ()
    name = Path(str(step.playbook)).name
    if name in _NO_CHANGE_PLAYBOOKS:
        return ()
    v = step.vars or {}
    default = inv.driver

    lines = {ln.id: ln for ln in inv.lines}
    gateways = {g.id: g for g in inv.gateways}
    centres = {c.id: c for c in inv.centres}

    def centre_driver(cid: str) -> str | None:
        return (centres[cid].driver or default) if cid in centres else None

    def line_driver(lid: str) -> str | None:  # None: not in this inventory (skipped)
        return (lines[lid].driver or default) if lid in lines else None

    def gateway_driver(gid: str) -> str | None:
        return (gateways[gid].driver or default) if gid in gateways else None

    if name == "line.yml" and _known(_id_list(v.get("lines")), inv.lines) \
            and v.get("state") in ("down", "up"):
        mode = str(v.get("mode") or "blackhole")
        return tuple(_line_change(inv, lid, v["state"] == "down", mode, lang)
                     for lid in _id_list(v["lines"]) if line_driver(lid) == MANUAL)
    if name == "centre.yml" and _known(_id_list(v.get("centres")), inv.centres) \
            and v.get("state") in ("down", "up"):
        return tuple(_centre_change(cid, v["state"] == "down", lang) for cid in _id_list(v["centres"])
                     if centre_driver(cid) == MANUAL)
    if name == "service.yml" and _known(_id_list(v.get("centres")), inv.centres) \
            and v.get("state") in ("down", "up"):
        what = ", ".join(_id_list(v.get("services")))
        return tuple(_centre_change(cid, v["state"] == "down", lang, what)
                     for cid in _id_list(v["centres"]) if centre_driver(cid) == MANUAL)
    if name == "repoint.yml" and str(v.get("to") or "home") in ("home", "BJ"):
        ids = _id_list(v.get("gateways")) or [g.id for g in inv.gateways if not g.satellite_only]
        if _known(ids, inv.gateways):
            to = str(v.get("to") or "home")
            return tuple(_repoint_change(inv, gid, to, lang) for gid in ids
                         if gateway_driver(gid) == MANUAL)
    e = step.effect
    if e is not None and any((e.lines_down, e.lines_up, e.centres_down, e.centres_up,
                              e.repoint_gateways, e.services_down, e.services_up)):
        out = [_line_change(inv, lid, True, e.mode or "blackhole", lang)
               for lid in e.lines_down if line_driver(lid) == MANUAL]
        out += [_line_change(inv, lid, False, "", lang) for lid in e.lines_up if line_driver(lid) == MANUAL]
        out += [_centre_change(c, True, lang) for c in e.centres_down if centre_driver(c) == MANUAL]
        out += [_centre_change(c, False, lang) for c in e.centres_up if centre_driver(c) == MANUAL]
        out += [_centre_change(c, down, lang, svc) for down in (True, False)
                for c, svc in e.services_at(down) if centre_driver(c) == MANUAL]
        if e.repoint_to is not None:
            out += [_repoint_change(inv, gid, e.repoint_to, lang) for gid in e.repoint_gateways
                    if gateway_driver(gid) == MANUAL]
        return tuple(out)
    if default == MANUAL:
        return ("此步骤的操作对象无法确定：请按步骤名称手工完成变更" if lang == "zh" else
                "targets not known: make the change this step names by hand",)
    return ()
