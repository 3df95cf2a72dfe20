"""Drill files: drills/*.yaml read and validated (the types are orchestrator.model.drill).

See docs/drill-format.md. `load_drill` checks a file against
`schemas/drill.schema.json` and then its meaning (id, clauses, parameter defaults,
templates, fault steps with effects), raising one `InputError` with every problem.
`orchestrator.config.resolve.resolve` then fills in parameters and renders templates.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import MappingProxyType

from orchestrator.config.project import drill_files
from orchestrator.config.yamlsrc import Lines, PathKey, dotted, load_yaml, one_line, schema_problems
from orchestrator.errors import InputError, Problem
from orchestrator.model.drill import (
    DEFAULT_STEP_TIMEOUT_S,
    HELPERS,
    KNOWN_CLAUSES,
    NOTICE_PARAM,
    PARAM_TYPES,
    PHASES,
    STEP_KINDS,
    AbortRules,
    Drill,
    Effect,
    Expectation,
    Param,
    Step,
    Targets,
    WaitSpec,
    is_template,
    parse_duration,
)
from orchestrator.model.inventory import GATEWAY_KINDS
from orchestrator.model.text import Text


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
    """Every playbook a drill names must exist in the project's playbooks/ and stay there
    (no `..` out of it, no symlink leading out: config/confine.py)."""
    from orchestrator.config.confine import confined

    out = []
    for phase in PHASES:
        for i, step in enumerate(drill.phases.get(phase, ())):
            if not step.playbook:
                continue
            at = ("phases", phase, i, "playbook")
            where = dict(file=str(drill.path), line=drill.source.line(at), field=dotted(at))
            try:
                path = confined(Path(playbooks_dir), step.playbook,
                                root_name=f"the project's playbooks/ ({playbooks_dir})", **where)
            except InputError as e:
                out += e.problems
                continue
            if not path.is_file():
                out.append(Problem(message=f"no playbook {step.playbook!r} in {playbooks_dir}",
                                   **where))
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
            out.append(lines.problem(("spec", i), f"expected a clause of docs/spec.md, got {clause!r}"))
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
    out += _target_problems(data.get("targets"), lines)
    out += _organised_problems(data, lines, params)
    for phase, steps in phases.items():
        for i, step in enumerate(steps if isinstance(steps, list) else ()):
            wait = step.get("wait") if isinstance(step, dict) else None
            msg = wait_problem(wait) if isinstance(wait, dict) else None
            if msg:
                out.append(lines.problem(("phases", phase, i, "wait", "for"), msg))
    return out


def _organised_problems(data: dict, lines: Lines, params: dict) -> list[Problem]:
    """An organised drill carries its notice number as the text parameter `notice`."""
    if not isinstance(data.get("organised"), dict):
        return []
    p = params.get(NOTICE_PARAM)
    if isinstance(p, dict) and p.get("type") == "str":
        return []
    at = ("params", NOTICE_PARAM, "type") if isinstance(p, dict) else ("organised",)
    return [lines.problem(at, f"expected a parameter {NOTICE_PARAM!r} of type str on an "
                              "organised drill: the organiser's notice number (通知编号), "
                              f"given with --set {NOTICE_PARAM}=…",
                          field=f"params.{NOTICE_PARAM}")]


def _literal_seconds(value: object) -> float | None:
    """A duration written out (not a template) in seconds; None when absent, templated or
    malformed (the schema reports those)."""
    if value is None or is_template(value):
        return None
    try:
        return parse_duration(value)
    except InputError:
        return None


def _target_problems(targets: object, lines: Lines) -> list[Problem]:
    """Targets no run can meet: an RTO (or cutover limit) of zero."""
    out: list[Problem] = []
    if not isinstance(targets, dict):
        return out
    at: list[tuple[PathKey, object]] = [((svc, "rto"), t.get("rto")) for svc, t in targets.items()
                                        if svc in GATEWAY_KINDS and isinstance(t, dict)]
    if isinstance(targets.get("cutover"), dict):
        at += [(("cutover", k), targets["cutover"].get(k)) for k in ("sscc_takeover", "limit", "firm")]
    for path, value in at:
        seconds = _literal_seconds(value)
        if seconds is not None and seconds <= 0:
            out.append(lines.problem(("targets", *path),
                                     f"expected a target > 0, got {value!r}: an interruption "
                                     "always lasts some time, so no run could meet it"))
    return out


def wait_problem(wait: dict) -> str | None:
    """A soak longer than the wait's own timeout could never finish (resolve.py checks
    the rendered values as well)."""
    for_s, timeout_s = _literal_seconds(wait.get("for")), _literal_seconds(wait.get("timeout"))
    if for_s is not None and timeout_s is not None and for_s > timeout_s:
        return (f"expected at most the wait's own timeout ({wait.get('timeout')}), got "
                f"{wait.get('for')!r}: the wait would time out before it could finish")
    return None


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

    env = template_environment()
    allowed = params | set(HELPERS) | set(env.globals)
    out: list[Problem] = []
    for path, text in _strings(phases, ("phases",)):
        if not is_template(text):
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
    if is_template(value):
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
               for svc in GATEWAY_KINDS if "rto" in (raw_targets.get(svc) or {})},
        expected_s={svc: parse_duration(raw_targets[svc]["expected_interruption"])
                    for svc in GATEWAY_KINDS
                    if "expected_interruption" in (raw_targets.get(svc) or {})},
        no_double_login=bool(raw_targets.get("no_double_login", True)),
        cutover_limit_s=_seconds(cutover.get("sscc_takeover", cutover.get("limit"))),
        cutover_firm_s=_seconds(cutover.get("firm")),
    )
    raw_abort = data.get("abort") or {}
    margin = _seconds(raw_abort.get("recovery_margin"), 10.0)
    abort = AbortRules(blast_radius=bool(raw_abort.get("blast_radius", True)),
                       recovery_margin_s=10.0 if margin is None else margin)
    phases = {
        phase: tuple(build_step(raw, lines.line(("phases", phase, i)))
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
        source=lines, organiser=(data.get("organised") or {}).get("organiser"),
    )


def build_step(raw: Mapping[str, object], line: int | None) -> Step:
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
            services_down=_service_pairs(e.get("services_down")),
            services_up=_service_pairs(e.get("services_up")),
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
        reference=str(raw["reference"]) if kind == "manual" and raw.get("reference") else None,
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


def template_environment():
    """Jinja2 with native types (a list stays a list), sandboxed: drill files are data."""
    from jinja2 import StrictUndefined
    from jinja2.nativetypes import NativeEnvironment
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class _Env(ImmutableSandboxedEnvironment, NativeEnvironment):
        pass

    return _Env(undefined=StrictUndefined)


def _service_pairs(value: object) -> tuple[str, ...]:
    """`{services: [...], centres: [...]}` as "CENTRE:service" pairs (model/drill.py)."""
    if not isinstance(value, Mapping):
        return ()
    return tuple(f"{c}:{s}" for c in _ids(value.get("centres")) for s in _ids(value.get("services")))
