"""A drill resolved against an inventory: parameters filled in (defaults or `--set`) and
checked, templates rendered, rendered ids checked, so the engine only sees concrete steps."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from types import MappingProxyType

from orchestrator.config.scenario import build_step, template_environment, wait_problem
from orchestrator.config.yamlsrc import one_line
from orchestrator.errors import InputError, Problem
from orchestrator.model.drill import (
    FALSE_WORDS,
    PHASES,
    TRUE_WORDS,
    Drill,
    Param,
    ResolvedDrill,
    Step,
    is_template,
    parse_duration,
)
from orchestrator.model.inventory import GATEWAY_KINDS, Inventory, home_centre_of
from orchestrator.model.source import PathKey, dotted


def helpers(inventory: Inventory) -> dict[str, object]:
    """The names templates may use besides the parameters."""

    def gateways(kind: str | None = None, satellite_only: bool | None = None) -> list[str]:
        return [g.id for g in inventory.gateways
                if (kind is None or g.kind == kind)
                and (satellite_only is None or g.satellite_only == satellite_only)]

    return {
        "lines_of_carrier": inventory.lines_of_carrier,
        "lines_of_centre": inventory.lines_of_centre,
        "terrestrial_lines": lambda: [ln.id for ln in inventory.lines if ln.terrestrial],
        "gateways": gateways,
        "centres": lambda role=None: [c.id for c in inventory.centres
                                      if role is None or c.role == role],
        "home_gateways": lambda centre: [g.id for g in inventory.gateways
                                         if not g.satellite_only
                                         and (g.server_order[:1] or (_home(g.id),))[0] == centre],
        "inventory": inventory,
    }


def _home(gateway_id: str) -> str | None:
    try:
        return home_centre_of(gateway_id)
    except ValueError:
        return None


def resolve(drill: Drill, inventory: Inventory,
            overrides: Mapping[str, str] | None = None) -> ResolvedDrill:
    """Parameters filled in and checked against the inventory, templates rendered."""
    overrides = dict(overrides or {})
    problems: list[Problem] = []
    for name in overrides:
        if name not in drill.params:
            problems.append(Problem("--set", None, name,
                                    f"unknown parameter of {drill.id}; expected one of: "
                                    f"{', '.join(drill.params) or 'none'}"))
    values: dict[str, object] = {}
    for name, param in drill.params.items():
        given = name in overrides
        raw = overrides[name] if given else param.default
        value, message = _coerce(param, raw, inventory, from_text=given)
        if message:
            if given:
                problems.append(Problem("--set", None, name, message))
            else:
                problems.append(Problem(str(drill.path), drill.source.line(("params", name, "default")),
                                        f"params.{name}.default", message))
        values[name] = value
    if problems:
        raise InputError(one_line(problems))

    env = template_environment()
    context = {**helpers(inventory), **values}
    phases: dict[str, tuple[Step, ...]] = {}
    for phase in PHASES:
        steps = []
        for i, step in enumerate(drill.phases.get(phase, ())):
            where = ("phases", phase, i)
            rendered = _render(step.raw, where, env, context, drill, problems)
            if rendered is None:
                continue
            try:
                built = build_step(rendered, step.line)
            except InputError as e:
                problems += [Problem(str(drill.path), step.line, dotted(where), p.message)
                             for p in e.problems]
                continue
            built = _default_repoint(built, inventory)
            problems += _inventory_problems(built, inventory, drill, where)
            if not _repoints_nobody(built):
                steps.append(built)
        phases[phase] = tuple(steps)
    if problems:
        raise InputError(one_line(problems))
    if needs_sscc_notification(drill, phases, inventory):
        phases["precheck"] = (*phases.get("precheck", ()), sscc_notification_step(drill))
    return ResolvedDrill(drill=drill, params=MappingProxyType(values),
                         phases=MappingProxyType(phases))


SSCC_OPERATIONS = "0755-83182222"  # SSCC operations support, 00:00-24:00 daily (R-OPS-3)


def needs_sscc_notification(drill: Drill, phases: Mapping[str, tuple[Step, ...]],
                            inventory: Inventory) -> bool:
    """A production line or centre drill of an inventory with `notify_sscc_operations`
    tells SSCC operations support first; never on the lab, never for a drill SSCC or an
    exchange organises (they know)."""
    if not inventory.notify_sscc_operations or inventory.environment.is_lab or drill.organiser:
        return False
    return any(s.effect is not None and (s.effect.lines_down or s.effect.centres_down)
               for s in phases.get("fault", ()))


def sscc_notification_step(drill: Drill) -> Step:
    """The manual step that records SSCC operations support's reference (last of precheck,
    before any change); a standing approval's `sscc_notification` answers it when scheduled."""
    raw = {
        "name": {"zh": f"通知深证通运行支持（{SSCC_OPERATIONS}）并记录受理编号",
                 "en": f"Notify SSCC operations support ({SSCC_OPERATIONS}) and record its reference"},
        "manual": {"zh": f"演练开始前致电深证通运行支持（{SSCC_OPERATIONS}，每日 00:00–24:00），"
                         f"告知本次{drill.title.zh}的时间与影响范围，并记录深证通给出的受理编号。",
                   "en": f"Before the drill starts, call SSCC operations support ({SSCC_OPERATIONS}, "
                         f"00:00-24:00 daily), tell them the time and scope of this "
                         f"{drill.title.en}, and record the reference they give."},
        "reference": "sscc_notification",
    }
    return build_step(raw, None)


def _default_repoint(step: Step, inv: Inventory) -> Step:
    """`repoint` without `gateways` means every gateway that can reach Beijing (R-DR-2)."""
    e = step.effect
    written = (step.raw.get("effect") or {}).get("repoint") or {}
    if e is None or e.repoint_to is None or "gateways" in written:
        return step
    everyone = tuple(g.id for g in inv.gateways if not g.satellite_only)
    return replace(step, effect=replace(e, repoint_gateways=everyone))


def _repoints_nobody(step: Step) -> bool:
    """A repoint whose gateway list rendered empty (e.g. no gateway homed at NF) does
    nothing; run it and repoint.yml would take its default, every gateway."""
    e = step.effect
    written = (step.raw.get("effect") or {}).get("repoint") or {}
    return (e is not None and e.repoint_to is not None and "gateways" in written
            and not e.repoint_gateways and not (e.lines_down or e.lines_up or e.centres_down
                                                or e.centres_up or e.services_down
                                                or e.services_up))


def _coerce(param: Param, raw: object, inv: Inventory, from_text: bool) -> tuple[object, str | None]:
    t = param.type
    if t in ("line", "carrier", "centre"):
        value = str(raw)
        known = {"line": [ln.id for ln in inv.lines], "carrier": [c.id for c in inv.carriers],
                 "centre": [c.id for c in inv.centres]}[t]
        if value not in known:
            return value, f"unknown {t} {value!r}; expected one of: {', '.join(known)}"
        if t == "carrier" and not inv.lines_of_carrier(value):
            return value, f"carrier {value!r} owns no line in {inv.environment.name}"
        return value, None
    if t == "duration":
        try:
            parse_duration(raw)
        except InputError as e:
            return raw, e.problems[0].message
        return raw, None
    if t == "choice":
        if str(raw) not in param.choices:
            return raw, f"expected one of: {', '.join(param.choices)}; got {raw!r}"
        return str(raw), None
    if t == "int":
        if from_text:
            try:
                return int(str(raw)), None
            except ValueError:
                return raw, f"expected an integer, got {raw!r}"
        ok = isinstance(raw, int) and not isinstance(raw, bool)
        return raw, None if ok else f"expected an integer, got {raw!r}"
    if t == "bool":
        if isinstance(raw, bool):
            return raw, None
        text = str(raw).strip().lower()
        if from_text and text in TRUE_WORDS + FALSE_WORDS:
            return text in TRUE_WORDS, None
        return raw, f"expected true or false, got {raw!r}"
    return str(raw), None


def _render(raw: object, path: PathKey, env, context: dict, drill: Drill,
            problems: list[Problem]) -> object:
    """Render every template string in `raw`; None (and a problem) if one fails."""
    failed = False

    def walk(value: object, at: PathKey) -> object:
        nonlocal failed
        if isinstance(value, Mapping):
            return {k: walk(v, (*at, k)) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [walk(v, (*at, i)) for i, v in enumerate(value)]
        if not is_template(value):
            return value
        try:
            return env.from_string(value).render(**context)
        except Exception as e:  # any template failure is a fault in the drill file
            failed = True
            problems.append(Problem(str(drill.path), drill.source.line(at), dotted(at),
                                    f"template failed: {type(e).__name__}: {e}"))
            return None

    out = walk(raw, path)
    if failed:
        return None
    return _rendered_shape(out, path, drill, problems)


def _rendered_shape(step: object, path: PathKey, drill: Drill, problems: list[Problem]) -> object:
    """After rendering, durations, ids and ports must still have the right shape."""
    bad: list[tuple[PathKey, str]] = []
    assert isinstance(step, dict)

    def duration(at: PathKey, v: object) -> None:
        if v is None:
            return
        try:
            parse_duration(v)
        except InputError as e:
            bad.append((at, e.problems[0].message))

    def ids(at: PathKey, v: object) -> None:
        if v is None or isinstance(v, str):
            return
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            bad.append((at, f"expected a list of ids, got {v!r}"))

    for at, value in _leaves(step, path):
        if not isinstance(value, str | int | float | bool | type(None)):
            bad.append((at, f"expected plain data (text, numbers, lists, mappings) from the "
                            f"template, got {type(value).__name__}"))
    duration((*path, "timeout"), step.get("timeout"))
    if isinstance(step.get("effect"), dict):
        e = step["effect"]
        for k in ("lines_down", "lines_up", "centres_down", "centres_up"):
            ids((*path, "effect", k), e.get(k))
        for k in ("services_down", "services_up"):
            if isinstance(e.get(k), dict):
                ids((*path, "effect", k, "centres"), e[k].get("centres"))
                ids((*path, "effect", k, "services"), e[k].get("services"))
        if e.get("mode") not in (None, "blackhole", "shutdown"):
            bad.append(((*path, "effect", "mode"), f"expected blackhole or shutdown, got {e['mode']!r}"))
        if isinstance(e.get("repoint"), dict):
            ids((*path, "effect", "repoint", "gateways"), e["repoint"].get("gateways"))
    if isinstance(step.get("wait"), dict):
        w = step["wait"]
        duration((*path, "wait", "for"), w.get("for"))
        duration((*path, "wait", "timeout"), w.get("timeout"))
        msg = wait_problem(w)
        if msg:
            bad.append(((*path, "wait", "for"), msg))
    for i, x in enumerate(step.get("verify") or ()):
        if isinstance(x, dict):
            duration((*path, "verify", i, "within"), x.get("within"))
            port = x.get("port")
            if port is not None and not (isinstance(port, int) and not isinstance(port, bool)
                                         and 1 <= port <= 65535):
                bad.append(((*path, "verify", i, "port"), f"expected a port 1-65535, got {port!r}"))
    for at, message in bad:
        problems.append(Problem(str(drill.path), drill.source.line(at), dotted(at), message))
    return None if bad else step


def _leaves(value: object, path: PathKey) -> Iterator[tuple[PathKey, object]]:
    if isinstance(value, Mapping):
        for k, v in value.items():
            if not isinstance(k, str):
                yield (*path, str(k)), k
            yield from _leaves(v, (*path, str(k)))
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            yield from _leaves(v, (*path, i))
    else:
        yield path, value


def _inventory_problems(step: Step, inv: Inventory, drill: Drill, where: PathKey) -> list[Problem]:
    """Rendered ids must exist in the inventory."""
    out: list[Problem] = []
    lines_known = [ln.id for ln in inv.lines]
    centres_known = [c.id for c in inv.centres]
    gateways_known = [g.id for g in inv.gateways]

    def check(key: PathKey, values: tuple[str, ...], known: list[str], what: str) -> None:
        for v in values:
            if v not in known:
                at = (*where, *key)
                out.append(Problem(str(drill.path), drill.source.line(at), dotted(at),
                                   f"unknown {what} {v!r}; expected one of: {', '.join(known)}"))

    if step.effect:
        e = step.effect
        check(("effect", "lines_down"), e.lines_down, lines_known, "line")
        check(("effect", "lines_up"), e.lines_up, lines_known, "line")
        check(("effect", "centres_down"), e.centres_down, centres_known, "centre")
        check(("effect", "centres_up"), e.centres_up, centres_known, "centre")
        for key, down in (("services_down", True), ("services_up", False)):
            at = e.services_at(down)
            check(("effect", key, "centres"), tuple(c for c, _ in at), centres_known, "centre")
            check(("effect", key, "services"), tuple(s for _, s in at),
                  ["trading", "market_data", "settlement"], "service")
        check(("effect", "repoint", "gateways"), e.repoint_gateways, gateways_known, "gateway")
        if e.repoint_to is not None:
            check(("effect", "repoint", "to"), (e.repoint_to,), ["home", *centres_known],
                  "repoint target")
    if step.wait and step.wait.until == "on_centre":
        check(("wait", "until", "on_centre"), (step.wait.arg or "",), centres_known, "centre")
    for i, x in enumerate(step.verify):
        if isinstance(x.gateways, str):
            check(("verify", i, "gateways"), (x.gateways,),
                  ["all", *GATEWAY_KINDS, *gateways_known], "gateway kind or id")
        elif x.gateways:
            check(("verify", i, "gateways"), x.gateways, gateways_known, "gateway")
    over_ssh = [(i, x) for i, x in enumerate(step.verify) if x.probe in ("ssh-command", "ssh-tcp")]
    if over_ssh and inv.driver != "lab":  # the lab has no SSH host: the check fails saying so
        hosts = _ansible_hosts(inv)
        for i, x in over_ssh:
            check(("verify", i, "host"), (str(x.host),), hosts, "host of the inventory")
    return out


def _ansible_hosts(inv: Inventory) -> list[str]:
    """The hosts of the inventory's Ansible source (a verify step's ssh-* `host`)."""
    from orchestrator.config.ansible_inventory import read_inventory

    return sorted(read_inventory(inv.path).hosts)
