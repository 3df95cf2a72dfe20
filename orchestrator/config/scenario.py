"""The drill model: drills/*.yaml read, validated and resolved against an inventory.

See docs/drill-format.md. `load_drill` checks a file against
`schemas/drill.schema.json` and then its meaning (id, clauses, parameter defaults,
templates, fault steps with effects), raising one `InputError` with every problem.
`resolve` fills in parameters (defaults or `--set`), checks them against the inventory
and renders the Jinja2 templates, so the engine only ever sees concrete steps.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType

from orchestrator.config.project import drill_files
from orchestrator.config.yamlsrc import Lines, PathKey, dotted, load_yaml, one_line, schema_problems
from orchestrator.errors import InputError, Problem
from orchestrator.model.inventory import GATEWAY_KINDS, Inventory, Text, home_centre_of

PHASES = ("precheck", "fault", "recovery", "hold", "restore")
STEP_KINDS = ("playbook", "manual", "wait", "verify")
PARAM_TYPES = ("line", "carrier", "centre", "duration", "choice", "int", "str", "bool")
CADENCES = ("monthly", "quarterly", "half-yearly", "yearly")
HELPERS = ("lines_of_carrier", "lines_of_centre", "terrestrial_lines", "gateways", "centres",
           "home_gateways", "inventory")
# Clause ids of /SPEC.md; a drill citing anything else is a typo.
KNOWN_CLAUSES = frozenset(
    [f"R-APP-{i}" for i in range(1, 8)]
    + ["R-NET-1", "R-NET-2", "R-NET-2a", "R-NET-2b", "R-NET-2c", "R-NET-3", "R-NET-4", "R-NET-5"]
    + [f"R-SEC-{i}" for i in range(1, 4)]
    + [f"R-OPS-{i}" for i in range(1, 4)]
    + [f"R-DR-{i}" for i in range(1, 5)]
)
DEFAULT_STEP_TIMEOUT_S = 300.0


def _empty() -> Mapping[str, object]:
    return MappingProxyType({})
_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h|d)\s*$")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    default: object
    choices: tuple[str, ...] = ()
    description: Text | None = None


@dataclass(frozen=True)
class Effect:
    lines_down: tuple[str, ...] = ()
    lines_up: tuple[str, ...] = ()
    mode: str | None = None
    centres_down: tuple[str, ...] = ()
    centres_up: tuple[str, ...] = ()
    repoint_gateways: tuple[str, ...] = ()
    repoint_to: str | None = None


@dataclass(frozen=True)
class WaitSpec:
    until: str | None = None  # all_restored | all_logged_in | steady | on_centre | md_source
    arg: str | None = None  # on_centre: the centre id; md_source: multicast | tcp
    for_s: float | None = None
    timeout_s: float | None = None
    while_: str | None = None  # no_new_loss


@dataclass(frozen=True)
class Expectation:
    probe: str  # tcp | monitor | http-json | log | ssh-command | ssh-log
    gateways: str | tuple[str, ...] | None = None  # a kind, "all", or gateway ids
    address: str | None = None
    port: int | None = None
    expect: Mapping[str, object] = field(default_factory=_empty)
    pattern: str | None = None
    within_s: float | None = None
    host: str | None = None  # ssh probes: the Ansible host
    command: str | None = None  # ssh-command


@dataclass(frozen=True)
class Step:
    """One step. In `Drill.phases` templated values are still their template text
    (lists) or None (numbers); `ResolvedDrill.phases` holds them rendered."""

    name: Text
    kind: str  # playbook | manual | wait | verify
    playbook: str | None = None
    vars: Mapping[str, object] = field(default_factory=_empty)
    effect: Effect | None = None
    timeout_s: float = DEFAULT_STEP_TIMEOUT_S
    manual: Text | None = None
    wait: WaitSpec | None = None
    verify: tuple[Expectation, ...] = ()
    line: int | None = None
    raw: Mapping[str, object] = field(default_factory=_empty, repr=False, compare=False)


@dataclass(frozen=True)
class Targets:
    rto_s: Mapping[str, float]  # service -> seconds (trading, market_data, settlement)
    no_double_login: bool = True
    cutover_limit_s: float | None = None
    cutover_firm_s: float | None = None


@dataclass(frozen=True)
class AbortRules:
    blast_radius: bool = True
    recovery_margin_s: float = 10.0


@dataclass(frozen=True)
class Drill:
    id: str
    title: Text
    description: Text
    spec: tuple[str, ...]
    cadence: str
    params: Mapping[str, Param]
    targets: Targets
    abort: AbortRules
    failback: bool
    phases: Mapping[str, tuple[Step, ...]]
    path: Path
    sha256: str
    source: Lines = field(default_factory=lambda: Lines(""), repr=False, compare=False)  # file:line of every value

    def steps(self) -> Iterator[tuple[str, Step]]:
        for phase in PHASES:
            for step in self.phases.get(phase, ()):
                yield phase, step


@dataclass(frozen=True)
class ResolvedDrill:
    drill: Drill
    params: Mapping[str, object]
    phases: Mapping[str, tuple[Step, ...]]

    def steps(self) -> Iterator[tuple[str, Step]]:
        for phase in PHASES:
            for step in self.phases.get(phase, ()):
                yield phase, step


# ---------------------------------------------------------------- durations


def parse_duration(text: object) -> float:
    """`500ms`, `5s`, `2m`, `1h`, `3d` (or a number of seconds) → seconds."""
    if isinstance(text, bool):
        raise InputError(Problem("", None, "duration", f"expected a duration such as 5s, got {text!r}"))
    if isinstance(text, int | float):
        if text < 0 or text != text or text == float("inf"):
            raise InputError(Problem("", None, "duration", f"expected a duration >= 0, got {text!r}"))
        return float(text)
    if isinstance(text, str):
        m = _DURATION.match(text)
        if m:
            return float(m.group(1)) * _UNIT_S[m.group(2)]
    raise InputError(Problem("", None, "duration",
                             f"expected a duration such as 500ms, 5s, 2m, 1h or 3d, got {text!r}"))


def _is_template(value: object) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


# ---------------------------------------------------------------- loading


def load_drill(path: Path) -> Drill:
    """Read and validate one drill file; `InputError` lists every problem in it."""
    path = Path(path)
    data, lines = load_yaml(path)
    if not isinstance(data, dict):
        raise InputError(Problem(str(path), lines.line(()), "",
                                 "expected a drill: a mapping with id, title, spec, cadence, phases"))
    problems = schema_problems(data, "drill.schema.json", lines)
    problems += _meaning_problems(data, lines, path)
    if problems:
        raise InputError(one_line(_sorted(problems)))
    return _build(data, lines, path)


def load_drills(folder: Path) -> list[Drill]:
    """Every drill in a folder; problems are collected across all files before raising."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(Problem(str(folder), None, "", "no such drills folder"))
    drills: list[Drill] = []
    problems: list[Problem] = []
    for file in drill_files(folder):
        try:
            drills.append(load_drill(file))
        except InputError as e:
            problems += e.problems
    seen: dict[str, Path] = {}
    for d in drills:
        if d.id in seen:
            problems.append(Problem(str(d.path), d.source.line(("id",)), "id",
                                    f"duplicate drill id; also in {seen[d.id]}"))
        seen[d.id] = d.path
    if problems:
        raise InputError(problems)
    return sorted(drills, key=lambda d: d.id)


def find_drill(folder: Path, drill_id: str) -> Drill:
    """The drill `drill_id` in `folder`; an unknown id names the drills that exist."""
    folder = Path(folder)
    for suffix in (".yaml", ".yml"):
        candidate = folder / f"{drill_id}{suffix}"
        if re.fullmatch(r"[a-z0-9][a-z0-9-]*", drill_id) and candidate.is_file():
            return load_drill(candidate)
    known = [p.stem for p in drill_files(folder)] if folder.is_dir() else []
    raise InputError(Problem(str(folder), None, "drill",
                             f"no drill {drill_id!r}; expected one of: {', '.join(known) or 'none'}"))


def playbook_problems(drill: Drill, playbooks_dir: Path) -> list[Problem]:
    """Every playbook a drill names must exist in the project's playbooks/."""
    out = []
    for phase in PHASES:
        for i, step in enumerate(drill.phases.get(phase, ())):
            if step.playbook and not (Path(playbooks_dir) / step.playbook).is_file():
                at = ("phases", phase, i, "playbook")
                out.append(Problem(str(drill.path), drill.source.line(at), dotted(at),
                                   f"no playbook {step.playbook!r} in {playbooks_dir}"))
    return out


def _sorted(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.file, p.line or 0))


def _meaning_problems(data: dict, lines: Lines, path: Path) -> list[Problem]:
    """Checks a JSON Schema cannot express. Defensive: `data` may be schema-invalid."""
    out: list[Problem] = []
    did = data.get("id")
    if isinstance(did, str) and did != path.stem:
        out.append(lines.problem(("id",), f"expected the file name {path.stem!r}, got {did!r}"))
    spec = data.get("spec")
    for i, clause in enumerate(spec if isinstance(spec, list) else []):
        if isinstance(clause, str) and re.fullmatch(r"R-[A-Z]+-[0-9]+[a-z]?", clause) \
                and clause not in KNOWN_CLAUSES:
            out.append(lines.problem(("spec", i), f"expected a clause of SPEC.md, got {clause!r}"))
    params = data.get("params") if isinstance(data.get("params"), dict) else {}
    for name, p in params.items():
        if isinstance(p, dict) and p.get("type") in PARAM_TYPES and "default" in p:
            msg = _default_problem(p)
            if msg:
                out.append(lines.problem(("params", name, "default"), msg))
    out += _template_problems(data, lines, set(params))
    phases = data.get("phases") if isinstance(data.get("phases"), dict) else {}
    fault = phases.get("fault") if isinstance(phases.get("fault"), list) else []
    for i, step in enumerate(fault):
        if isinstance(step, dict) and ("playbook" in step or "manual" in step) \
                and "effect" not in step:
            out.append(lines.problem(("phases", "fault", i, "effect"),
                                     "required on a fault step; expected what it does to the "
                                     "network (lines_down, centres_down, repoint …)"))
    if fault and not phases.get("restore"):
        out.append(lines.problem(("phases", "restore") if "restore" in phases else ("phases",),
                                 "expected restore steps that undo the fault phase",
                                 field="phases.restore"))
    return out


def _default_problem(p: dict) -> str | None:
    t, default = p["type"], p["default"]
    if t == "duration":
        try:
            parse_duration(default)
        except InputError as e:
            return e.problems[0].message
    elif t == "choice":
        choices = p.get("choices")
        if isinstance(choices, list) and default not in choices:
            return f"expected one of the choices ({', '.join(map(str, choices))}), got {default!r}"
    elif t == "int" and (isinstance(default, bool) or not isinstance(default, int)):
        return f"expected an integer, got {default!r}"
    elif t == "bool" and not isinstance(default, bool):
        return f"expected true or false, got {default!r}"
    elif t in ("line", "carrier", "centre", "str") and not (isinstance(default, str) and default):
        return f"expected a {t} id as text, got {default!r}" if t != "str" else \
            f"expected text, got {default!r}"
    return None


def _strings(value: object, path: PathKey) -> Iterator[tuple[PathKey, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, (*path, i))


def _template_problems(data: dict, lines: Lines, params: set[str]) -> list[Problem]:
    phases = data.get("phases")
    if not isinstance(phases, dict):
        return []
    from jinja2 import TemplateSyntaxError, meta

    env = _environment()
    allowed = params | set(HELPERS) | set(env.globals)
    out: list[Problem] = []
    for path, text in _strings(phases, ("phases",)):
        if not _is_template(text):
            continue
        try:
            unknown = sorted(meta.find_undeclared_variables(env.parse(text)) - allowed)
        except TemplateSyntaxError as e:
            out.append(lines.problem(path, f"expected a valid Jinja2 template: {e.message}"))
            continue
        except RecursionError:
            out.append(lines.problem(path, "expected a valid Jinja2 template: nested too deeply"))
            continue
        for name in unknown:
            out.append(lines.problem(path, f"unknown name {name!r} in template; expected a "
                                           f"parameter ({', '.join(sorted(params)) or 'none'}) "
                                           f"or a helper ({', '.join(HELPERS)})"))
    return out


def _text(value: object) -> Text:
    if isinstance(value, dict):
        return Text(zh=str(value.get("zh", "")), en=str(value.get("en", "")))
    return Text(zh=str(value), en=str(value))


def _seconds(value: object, default: float | None = None) -> float | None:
    if value is None:
        return default
    if _is_template(value):
        return None
    return parse_duration(value)


def _ids(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):  # a template not yet rendered, or a single id
        return (value,)
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return (str(value),)


def _build(data: dict, lines: Lines, path: Path) -> Drill:
    params = {
        name: Param(name=name, type=p["type"], default=p["default"],
                    choices=tuple(p.get("choices") or ()),
                    description=_text(p["description"]) if "description" in p else None)
        for name, p in (data.get("params") or {}).items()
    }
    raw_targets = data.get("targets") or {}
    cutover = raw_targets.get("cutover") or {}
    targets = Targets(
        rto_s={svc: parse_duration(raw_targets[svc]["rto"])
               for svc in GATEWAY_KINDS if svc in raw_targets},
        no_double_login=bool(raw_targets.get("no_double_login", True)),
        cutover_limit_s=_seconds(cutover.get("limit")),
        cutover_firm_s=_seconds(cutover.get("firm")),
    )
    raw_abort = data.get("abort") or {}
    margin = _seconds(raw_abort.get("recovery_margin"), 10.0)
    abort = AbortRules(blast_radius=bool(raw_abort.get("blast_radius", True)),
                       recovery_margin_s=10.0 if margin is None else margin)
    phases = {
        phase: tuple(_step(raw, lines.line(("phases", phase, i)))
                     for i, raw in enumerate((data.get("phases") or {}).get(phase) or ()))
        for phase in PHASES
    }
    blob = path.read_bytes()
    return Drill(
        id=data["id"], title=_text(data["title"]),
        description=_text(data.get("description", data["title"])),
        spec=tuple(data["spec"]), cadence=data["cadence"],
        params=MappingProxyType(params), targets=targets, abort=abort,
        failback=bool(data.get("failback", False)),
        phases=MappingProxyType(phases), path=path, sha256=hashlib.sha256(blob).hexdigest(),
        source=lines,
    )


def _step(raw: Mapping[str, object], line: int | None) -> Step:
    """A typed step from its mapping (as written, or rendered)."""
    kind = next(k for k in STEP_KINDS if k in raw)
    effect = None
    if isinstance(raw.get("effect"), Mapping):
        e = raw["effect"]
        repoint = e.get("repoint") if isinstance(e.get("repoint"), Mapping) else {}
        effect = Effect(
            lines_down=_ids(e.get("lines_down")), lines_up=_ids(e.get("lines_up")),
            mode=None if e.get("mode") is None else str(e["mode"]),
            centres_down=_ids(e.get("centres_down")), centres_up=_ids(e.get("centres_up")),
            repoint_gateways=_ids(repoint.get("gateways")),
            repoint_to=None if repoint.get("to") is None else str(repoint["to"]),
        )
    wait = None
    if kind == "wait":
        w = raw["wait"]
        until, arg = w.get("until"), None
        if isinstance(until, Mapping):
            until, arg = next(iter(until.items()))
            arg = str(arg)
        wait = WaitSpec(until=until, arg=arg, for_s=_seconds(w.get("for")),
                        timeout_s=_seconds(w.get("timeout")), while_=w.get("while"))
    verify: tuple[Expectation, ...] = ()
    if kind == "verify":
        verify = tuple(_expectation(x) for x in raw["verify"])
    return Step(
        name=_text(raw["name"]), kind=kind,
        playbook=raw.get("playbook") if kind == "playbook" else None,
        vars=MappingProxyType(dict(raw.get("vars") or {})),
        effect=effect,
        timeout_s=_or(_seconds(raw.get("timeout"), DEFAULT_STEP_TIMEOUT_S), DEFAULT_STEP_TIMEOUT_S),
        manual=_text(raw["manual"]) if kind == "manual" else None,
        wait=wait, verify=verify, line=line, raw=MappingProxyType(dict(raw)),
    )


def _or(value: float | None, default: float) -> float:
    return default if value is None else value


def _expectation(x: Mapping[str, object]) -> Expectation:
    gws = x.get("gateways")
    port = x.get("port")
    return Expectation(
        probe=str(x["probe"]),
        gateways=tuple(str(g) for g in gws) if isinstance(gws, list | tuple) else gws,
        address=None if x.get("address") is None else str(x["address"]),
        port=port if isinstance(port, int) and not isinstance(port, bool) else None,
        expect=MappingProxyType(dict(x.get("expect") or {})),
        pattern=x.get("pattern"), within_s=_seconds(x.get("within")),
        host=x.get("host"), command=x.get("command"),
    )


# ---------------------------------------------------------------- resolving


def _environment():
    """Jinja2 with native types (a list stays a list), sandboxed: drill files are data."""
    from jinja2 import StrictUndefined
    from jinja2.nativetypes import NativeEnvironment
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class _Env(ImmutableSandboxedEnvironment, NativeEnvironment):
        pass

    return _Env(undefined=StrictUndefined)


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
                                         if not g.satellite_only and _home(g.id) == centre],
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

    env = _environment()
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
                built = _step(rendered, step.line)
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
    return ResolvedDrill(drill=drill, params=MappingProxyType(values),
                         phases=MappingProxyType(phases))


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
                                                or e.centres_up))


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
        if from_text and text in _TRUE + _FALSE:
            return text in _TRUE, None
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
        if not _is_template(value):
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
        if e.get("mode") not in (None, "blackhole", "shutdown"):
            bad.append(((*path, "effect", "mode"), f"expected blackhole or shutdown, got {e['mode']!r}"))
        if isinstance(e.get("repoint"), dict):
            ids((*path, "effect", "repoint", "gateways"), e["repoint"].get("gateways"))
    if isinstance(step.get("wait"), dict):
        w = step["wait"]
        duration((*path, "wait", "for"), w.get("for"))
        duration((*path, "wait", "timeout"), w.get("timeout"))
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
    return out
