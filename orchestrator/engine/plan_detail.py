"""What each planned step does, for people: its target hosts (router and interface,
gateway and host), the exact change (the commands a linux router runs, the server list a
gateway's config gets), what a wait waits for and its timeout. `drill plan` prints it and
the run journals it in its `plan` record (docs/journal.md)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from orchestrator.engine.steps import manual_changes, select_gateways
from orchestrator.model.i18n import LABELS
from orchestrator.model.inventory import Inventory

READ_ONLY_PLAYBOOKS = ("verify.yml", "evidence.yml")


def _t(lang: str, key: str, **kw: Any) -> str:
    zh, en = LABELS[key]
    return (zh if lang == "zh" else en).format(**kw)


def _ids(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return []


def _line_commands(inv: Inventory, ln, state: str, mode: str) -> list[str]:
    """The shell commands playbooks/drivers/linux/line.yml runs on the line's router."""
    # the centre's service addresses, unique, in the inventory's order (as the playbook has them)
    addresses = list(dict.fromkeys(ep.address for ep in inv.centre(ln.centre).services.values())) \
        if any(c.id == ln.centre for c in inv.centres) else []
    if state == "down" and mode == "shutdown":
        return [f"ip link set dev {ln.interface} down"]
    if state == "down":
        return [f"ip route replace blackhole {a}/32" for a in addresses]
    cmds = [f"ip link set dev {ln.interface} up"] if ln.interface else []
    return cmds + [f"ip route del blackhole {a}/32 proto boot" for a in addresses]


def _lines(inv: Inventory, step, lang: str) -> tuple[list[str], list[str]]:
    v = step.vars or {}
    state, mode = str(v.get("state") or ""), str(v.get("mode") or "blackhole")
    known = {ln.id: ln for ln in inv.lines}
    targets, changes = [], []
    manual = list(manual_changes(inv, step, lang))
    for lid in _ids(v.get("lines")):
        ln = known.get(lid)
        if ln is None:
            targets.append(lid)
            continue
        where = _t(lang, "plan_router", router=ln.router, interface=ln.interface or "—", line=lid)
        targets.append(where)
        driver = ln.driver or inv.driver
        if driver == "linux" and getattr(ln, "platform", "linux") != "linux":
            from orchestrator.adapters.routers import planned_cli  # a network router's CLI

            for router, typed in planned_cli(inv, [lid], state, mode).items():
                changes += [f"{router}: {line}" for line in typed]
            continue
        if driver == "linux":
            changes += [f"{ln.router}: {c}" for c in _line_commands(inv, ln, state, mode)]
        elif driver == "lab":
            changes.append(_t(lang, "plan_lab_line", line=lid, state=_state(lang, state),
                              mode=mode if state == "down" else "—"))
        elif driver != "manual":
            changes.append(_t(lang, "plan_driver", driver=driver, playbook="line.yml"))
    return targets, changes + manual


def _centres(inv: Inventory, step, lang: str) -> tuple[list[str], list[str]]:
    v = step.vars or {}
    state = str(v.get("state") or "")
    cids = _ids(v.get("centres"))
    known = {c.id: c for c in inv.centres}
    drivers = {c: (known[c].driver if c in known else None) or inv.driver for c in cids}  # centres[].driver
    changes = list(manual_changes(inv, step, lang))
    for driver in dict.fromkeys(d for d in drivers.values() if d != "manual"):
        if driver == "lab":
            changes += [_t(lang, "plan_lab_centre", centre=c, state=_state(lang, state))
                        for c, d in drivers.items() if d == "lab"]
        elif driver == "linux":
            changes.append(_t(lang, "plan_linux_centre"))
        else:
            changes.append(_t(lang, "plan_driver", driver=driver, playbook="centre.yml"))
    return cids, changes


def _services(inv: Inventory, step, lang: str) -> tuple[list[str], list[str]]:
    """service.yml: the centres, and per driver what it does (a network router's exact lines
    are the step's `router_cli`, engine/plan.py)."""
    v = step.vars or {}
    cids = _ids(v.get("centres"))
    known = {c.id: c for c in inv.centres}
    drivers = {c: (known[c].driver if c in known else None) or inv.driver for c in cids}
    changes = list(manual_changes(inv, step, lang))
    for driver in dict.fromkeys(d for d in drivers.values() if d != "manual"):
        if driver == "linux":
            changes.append(_t(lang, "plan_linux_service", services=", ".join(_ids(v.get("services")))))
        else:
            changes.append(_t(lang, "plan_driver", driver=driver, playbook="service.yml"))
    return cids, changes


def _state(lang: str, state: str) -> str:
    """down / up in the plan's language."""
    return _t(lang, f"plan_state_{state}") if state in ("down", "up") else state


def _servers(order) -> str:
    return " → ".join(f"{c} {ep}" for c, ep in order)


def _server_lines(order) -> list[str]:
    """The <server> elements playbooks/templates/server_list.xml.j2 renders (lab-xml)."""
    return [f'<server centre="{c}" address="{ep.address}" port="{ep.port}"/>' for c, ep in order]


def config_diff(inv: Inventory, step, gateways: Iterable[str] | None = None) -> list[str]:
    """The lines a repoint changes in each gateway's config, for the formats drill writes
    (lab-xml): `--- config`, then `- old` / `+ new` <server> lines; the old lines only when
    known before the run (a repoint away from home: the home order)."""
    if step.kind != "playbook" or Path(str(step.playbook)).name != "repoint.yml":
        return []
    v = step.vars or {}
    to = str(v.get("to") or "home")
    ids = list(gateways) if gateways is not None else (
        _ids(v.get("gateways")) or [g.id for g in inv.gateways if not g.satellite_only])
    known = {g.id: g for g in inv.gateways}
    out: list[str] = []
    for gid in ids:
        g = known.get(gid)
        if g is None or g.config_format != "lab-xml" or (g.driver or inv.driver) == "manual":
            continue
        out.append(f"--- {g.config} ({gid})")
        if to != "home":
            out += [f"- {line}" for line in _server_lines(inv.server_order(g))]
        out += [f"+ {line}" for line in _server_lines(inv.server_order(g, dr=to != "home"))]
    return out


def _repoint(inv: Inventory, step, lang: str, gateways: Iterable[str] | None = None
             ) -> tuple[list[str], list[str]]:
    v = step.vars or {}
    to = str(v.get("to") or "home")
    ids = list(gateways) if gateways is not None else (
        _ids(v.get("gateways")) or [g.id for g in inv.gateways if not g.satellite_only])
    known = {g.id: g for g in inv.gateways}
    targets, changes = [], []
    for gid in ids:
        g = known.get(gid)
        if g is None:
            targets.append(gid)
            continue
        targets.append(_t(lang, "plan_gateway", gateway=gid, host=g.host))
        if (g.driver or inv.driver) == "manual":
            continue
        after = inv.server_order(g, dr=to != "home")
        before = inv.server_order(g, dr=to == "home") if to != "home" or \
            any(c.role == "dr" for c in inv.centres) else None
        changes.append(_t(lang, "plan_config_change", gateway=gid, config=g.config,
                          format=g.config_format or "xml",
                          before=_t(lang, "plan_as_found") if to == "home" else _servers(before or ()),
                          after=_servers(after)))
    return targets, changes + list(manual_changes(inv, step, lang))


def _read_only(inv: Inventory, step, lang: str) -> tuple[list[str], list[str]]:
    v = step.vars or {}
    ids = select_gateways(inv, v.get("gateways")) if v.get("gateways") else \
        [g.id for g in inv.gateways]
    return ids, [_t(lang, "plan_no_change")]


def _wait(inv: Inventory, step, lang: str, on_path: Iterable[str]) -> str:
    w = step.wait
    if w.for_s is not None and w.until is None:
        key = "plan_wait_soak_no_new_loss" if w.while_ == "no_new_loss" else "plan_wait_soak"
        return _t(lang, key, seconds=f"{w.for_s:g}")
    arg = w.arg
    if w.until == "all_restored":
        return _t(lang, "plan_wait_all_restored", gateways=", ".join(on_path) or "—")
    if w.until == "on_centre":
        return _t(lang, "plan_wait_on_centre", centre=arg or "BJ")
    if w.until == "md_source":
        source = arg or "tcp"
        key = f"plan_md_source_{source}"
        return _t(lang, "plan_wait_md_source", source=_t(lang, key) if key in LABELS else source)
    if w.until in ("all_logged_in", "steady"):
        return _t(lang, f"plan_wait_{w.until}")
    return str(w.until)


def describe(inv: Inventory, step, lang: str, on_path: Iterable[str] = (),
             gateways: Iterable[str] | None = None) -> dict[str, Any]:
    """{targets, changes, waits_for, timeout_s} of one resolved step."""
    targets: list[str] = []
    changes: list[str] = []
    waits_for = None
    timeout = step.timeout_s
    if step.kind == "playbook":
        name = Path(str(step.playbook)).name
        if name == "line.yml":
            targets, changes = _lines(inv, step, lang)
        elif name == "centre.yml":
            targets, changes = _centres(inv, step, lang)
        elif name == "service.yml":
            targets, changes = _services(inv, step, lang)
        elif name == "repoint.yml":
            targets, changes = _repoint(inv, step, lang, gateways)
        elif name in READ_ONLY_PLAYBOOKS:
            targets, changes = _read_only(inv, step, lang)
        else:
            changes = [_t(lang, "plan_custom_playbook", playbook=step.playbook)]
    elif step.kind == "wait":
        waits_for = _wait(inv, step, lang, on_path)
        if step.wait.timeout_s is not None:
            timeout = step.wait.timeout_s
        elif step.wait.for_s is not None and step.wait.until is None:
            timeout = step.wait.for_s
    elif step.kind == "verify":
        waits_for = ("；" if lang == "zh" else "; ").join(_expectation(x, lang) for x in step.verify)
        timeout = max((x.within_s or 5.0 for x in step.verify), default=5.0)
    elif step.kind == "manual" and step.manual is not None:
        changes = [step.manual.get(lang)]
    return {"targets": targets, "changes": changes, "config_diff": config_diff(inv, step, gateways),
            "waits_for": waits_for, "timeout_s": timeout}


def _expectation(x, lang: str = "en") -> str:
    """One verify expectation; its monitor fields (name=value) as the monitor API names them."""
    if x.probe in ("monitor", "http-json"):
        want = ", ".join(f"{k}={v}" for k, v in dict(x.expect or {"state": "logged_in"}).items())
        if lang == "zh":
            who = x.gateways or "all"
            who = LABELS.get(f"svc_{who}", (None,))[0] or ("全部网关" if who == "all" else str(who))
            return _t(lang, "plan_verify_monitor", gateways=who, expect=want)
        return f"monitor {x.gateways or 'all'}: {want}"
    if x.probe == "tcp":
        return _t(lang, "plan_verify_tcp", address=x.address, port=x.port)
    if x.probe == "log":
        return f"log {x.gateways or 'all'} ~ {x.pattern!r}"
    if x.probe == "ssh-tcp":
        return _t(lang, "plan_verify_ssh_tcp", host=x.host, address=x.address, port=x.port)
    if x.probe == "ssh-command":
        match = "" if not x.pattern else (f"，输出匹配 {x.pattern!r}" if lang == "zh"
                                          else f", output ~ {x.pattern!r}")
        return _t(lang, "plan_verify_ssh_command", host=x.host, command=x.command, match=match)
    return str(x.probe)


def check_reason(check: Mapping[str, Any] | None) -> str:
    """A check-mode result with its reason: `ok (5 tasks)`, `failed: task: message`."""
    if not check:
        return ""
    failed = list(check.get("failed") or ())
    if failed:
        return f"{check.get('status')}: " + "; ".join(failed[:3])
    return f"{check.get('status')} ({check.get('tasks', 0)} tasks)"


def _has_home_repoint(steps) -> bool:
    return any(s.effect is not None and s.effect.repoint_to == "home" for s in steps)


def failback_record(inv: Inventory, drill, restore_steps, on_path: Iterable[str], lang: str
                    ) -> dict[str, Any] | None:
    """The failback step the run adds after restore (engine/playbook.failback_step) when the
    drill declares `failback: true` and spells out none: planned with the gateways
    predicted off their home centre; the run repoints those it finds away."""
    from orchestrator.engine.steps import step_record
    from orchestrator.model.drill import Effect, Step
    from orchestrator.model.text import Text

    if not drill.failback or _has_home_repoint(restore_steps):
        return None
    satellite = {g.id for g in inv.gateways if g.satellite_only}
    predicted = [g for g in on_path if g not in satellite]
    step = Step(name=Text("回切：网关恢复至主用中心", "Failback: return gateways to their home centre"),
                kind="playbook", playbook="repoint.yml",
                vars={"gateways": predicted, "to": "home"},
                effect=Effect(repoint_gateways=tuple(predicted), repoint_to="home"), timeout_s=300.0)
    rec = {**step_record(step, "restore", len(restore_steps)),
           **describe(inv, step, lang, on_path, predicted)}
    rec["when"] = _t(lang, "plan_when_failback", gateways=", ".join(predicted) or "—")
    return rec


def planned_steps(resolved, inv: Inventory, lang: str = "en") -> tuple[list[dict[str, Any]],
                                                                        tuple[str, ...]]:
    """Every step the run can take, in the order it takes them, described for people; and
    the gateways predicted on the failed path."""
    from orchestrator.engine.plan import predicted_path
    from orchestrator.engine.steps import step_record

    on_path = tuple(sorted(predicted_path(resolved, inv)))
    rows: list[dict[str, Any]] = []
    for phase, steps in resolved.phases.items():
        for i, step in enumerate(steps):
            rows.append({**step_record(step, phase, i), **describe(inv, step, lang, on_path),
                         "when": None})
        if phase == "restore":
            fb = failback_record(inv, resolved.drill, steps, on_path, lang)
            if fb is not None:
                rows.append(fb)
    return rows, on_path
