"""`drill list`, `drill show`, `drill validate`, `drill init`: the drill catalogue."""

from __future__ import annotations

import json
from pathlib import Path

import click

from orchestrator.cli._options import (
    inventory_option,
    json_option,
    lang_option,
    project_option,
    resolve_lang,
)


@click.command("list")
@lang_option
@json_option
@project_option
def list_drills(lang: str, as_json: bool, project: Path | None) -> None:
    """List the project's drills: id, title, spec clauses, cadence.

    Example:  drill list --lang zh
    """
    from tabulate import tabulate

    from orchestrator.config.catalog import list_drills
    from orchestrator.config.project import drill_home, find_project

    # Unchanged drill files are listed from a cache of their last full validation.
    drills = list_drills(find_project(project).drills_dir, cache_dir=drill_home() / "cache")
    if as_json:
        click.echo(json.dumps([{"id": d.id, "title": {"zh": d.title_zh, "en": d.title_en},
                                "spec": list(d.spec), "cadence": d.cadence,
                                "path": str(d.path)} for d in drills], ensure_ascii=False))
        return
    from orchestrator.model.i18n import LABELS

    lang = resolve_lang(lang)
    headers = [LABELS[f"col_{k}"][0 if lang == "zh" else 1] for k in ("id", "title", "clauses", "cadence")]
    rows = [[d.id, d.title(lang), ", ".join(d.spec), _cadence(d.cadence, lang)] for d in drills]
    click.echo(tabulate(rows, headers=headers, tablefmt="simple"))


@click.command("show")
@click.argument("drill_id", metavar="ID")
@lang_option
@json_option
@project_option
def show(drill_id: str, lang: str, as_json: bool, project: Path | None) -> None:
    """Show one drill as written: parameters with defaults, targets, steps per phase.

    Templates are shown unrendered; `drill plan ID` shows them resolved for an inventory.

    Example:  drill show carrier-outage
    """
    from orchestrator.config.project import find_project
    from orchestrator.config.scenario import find_drill

    drill = find_drill(find_project(project).drills_dir, drill_id)
    if as_json:
        click.echo(json.dumps(_drill_json(drill), ensure_ascii=False, default=str))
        return
    click.echo(_describe(drill, resolve_lang(lang)))


@click.command("validate")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@inventory_option
@project_option
@lang_option
def validate(files: tuple[Path, ...], inventory: str, project: Path | None, lang: str | None) -> None:
    """Check drill files against the schema, the inventory and the playbooks.

    Prints every problem in every file as `file:line: field: expected …` and exits 2 if
    there is any; exits 0 when all are valid. Without FILES, checks every drill in the
    project. Parameter defaults are checked against the inventory (default: lab).

    Example:  drill validate drills/single-line.yaml --inventory inventories/lab
    """
    from orchestrator.config.project import find_project
    from orchestrator.config.validate import validate as validate_project
    from orchestrator.errors import InputError

    outcome = validate_project(find_project(project), files, inventory)
    # bad input is English, before the language is known (the inventory may be it)
    # the inventory's language as validate read it: a second load costs as much again
    lang = "en" if outcome.problems else resolve_lang(lang or outcome.language)
    for drill in outcome.valid:
        click.echo(_label(lang, "valid_ok", path=drill.path, drill=drill.id))
    if outcome.problems:
        raise InputError(list(outcome.problems))
    against = _label(lang, "valid_against", environment=outcome.environment) if outcome.environment else ""
    click.echo(_label(lang, "valid_total", n=outcome.drills) + against)


@click.command("init")
@click.argument("dest", metavar="DIR", type=click.Path(file_okay=False, path_type=Path))
@lang_option
def init(dest: Path, lang: str | None) -> None:
    """Scaffold a firm's drill project in DIR from the shipped drills, playbooks, inventories.

    DIR must be new or empty. Edit inventories/ for your own lines and gateways, then
    run drills from inside DIR (or with --project DIR).

    Example:  drill init ~/sscc-drills
    """
    from orchestrator.config.project import init_project

    root = init_project(dest)
    lang = resolve_lang(lang)
    click.echo(_label(lang, "init_created", root=root))
    click.echo(_label(lang, "init_next"))


def _zh(key: str, default: str) -> str:
    from orchestrator.model.i18n import LABELS

    return LABELS[key][0] if key in LABELS else default


def _cadence(cadence: str, lang: str) -> str:
    return _zh(f"cad_{cadence}", cadence) if lang == "zh" else cadence


def _describe(drill, lang: str) -> str:
    from orchestrator.model.drill import PHASES

    zh = lang == "zh"
    L = lambda key, **kw: _label(lang, key, **kw)  # noqa: E731
    sec = lambda v: _secs(v, lang)  # noqa: E731
    colon = "：" if zh else ": "
    out = [f"{drill.id}: {drill.title.get(lang)}", "", drill.description.get(lang), "",
           f"{_zh('clauses', '') if zh else 'clauses'}: {', '.join(drill.spec)}",
           f"{_zh('cadence', '') if zh else 'cadence'}: {_cadence(drill.cadence, lang)}",
           f"{_zh('file', '') if zh else 'file'}: {drill.path}  {'SHA-256' if zh else 'sha256'} "
           f"{drill.sha256[:16]}…", ""]
    out.append(f"{_zh('params', '')}:" if zh else "parameters:")
    for p in drill.params.values():
        choices = f" [{'|'.join(p.choices)}]" if p.choices else ""
        desc = f"  {p.description.get(lang)}" if p.description else ""
        kind = _zh(f"show_type_{p.type}", p.type) if zh else p.type
        default = _duration_zh(str(p.default)) if zh and p.type == "duration" else p.default
        out.append(f"  {p.name} ({kind}{choices}) = {default}{desc}")
    if not drill.params:
        out.append("  —")
    t = drill.targets
    out.append(f"{_zh('targets', '')}:" if zh else "targets:")
    svc = lambda name: _zh(f"svc_{name}", name) if zh else name  # noqa: E731
    for name, secs in t.rto_s.items():
        out.append("  " + L("show_rto", service=svc(name), limit=sec(secs)))
    for name, secs in t.expected_s.items():
        out.append("  " + L("show_expected", service=svc(name), limit=sec(secs)))
    out.append("  " + L("show_no_double_login", value=_yes(t.no_double_login, lang)))
    if t.cutover_limit_s is not None or t.cutover_firm_s is not None:
        out.append("  " + L("show_cutover", firm=sec(t.cutover_firm_s), limit=sec(t.cutover_limit_s)))
    out.append(L("show_abort", blast=_yes(drill.abort.blast_radius, lang),
                 margin=sec(drill.abort.recovery_margin_s), failback=_yes(drill.failback, lang)))
    out.append("")
    for phase in PHASES:
        steps = drill.phases.get(phase, ())
        out.append(f"{_zh(f'phase_{phase}', phase) if zh else phase}:")
        if not steps:
            out.append("  —")
        for i, step in enumerate(steps, 1):
            kind = _zh(f"plan_kind_{step.kind}", step.kind) if zh else step.kind
            out.append(f"  {i}. [{kind}] {step.name.get(lang)}")
            raw = dict(step.raw)  # the drill file's own fragments, as written (code)
            for key in ("playbook", "vars", "effect", "timeout", "wait"):
                if key in raw:
                    out.append(f"       {L(f'show_field_{key}')}{colon}{_flow(raw[key])}")
            for expectation in raw.get("verify") or ():
                out.append(f"       {L('show_field_verify')}{colon}{_flow(expectation)}")
            if step.manual:
                out.append(f"       {L('show_field_manual')}{colon}{step.manual.get(lang)}")
        if phase == "restore" and _adds_failback(drill):
            out.append(f"  {len(steps) + 1}. [{L('plan_kind_playbook')}] {L('show_failback_step')}")
            out.append(f"       {L('plan_when')}{colon}{L('show_failback_when')}")
    return "\n".join(out)


def _duration_zh(text: str) -> str:
    """A drill file's duration (`5s`, `2m`, `100ms`) in Chinese units."""
    import re

    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)", text.strip())
    units = {"ms": "毫秒", "s": "秒", "m": "分钟", "h": "小时", "d": "天"}
    return f"{m.group(1)} {units[m.group(2)]}" if m else text


def _yes(value: bool, lang: str) -> str:
    return ("是" if value else "否") if lang == "zh" else str(value)


def _adds_failback(drill) -> bool:
    """The drill declares failback and spells out no repoint home: the run adds one after
    restore (engine/playbook.failback_step) when a gateway is off its home centre."""
    def home(step) -> bool:
        effect = step.raw.get("effect")
        repoint = effect.get("repoint") if isinstance(effect, dict) else None
        return isinstance(repoint, dict) and repoint.get("to") == "home"

    return bool(drill.failback) and not any(home(s) for s in drill.phases.get("restore", ()))


def _label(lang: str, key: str, **kw) -> str:
    from orchestrator.model.i18n import LABELS

    zh, en = LABELS[key]
    return (zh if lang == "zh" else en).format(**kw)


def _flow(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _secs(value: float | None, lang: str = "en") -> str:
    if value is None:
        return "—"
    units = (("天", 86400), ("小时", 3600), ("分钟", 60)) if lang == "zh" else \
        (("d", 86400), ("h", 3600), ("m", 60))
    for unit, size in units:
        if value >= size and value % size == 0:
            return f"{int(value // size)} {unit}" if lang == "zh" else f"{int(value // size)}{unit}"
    return f"{value:g} 秒" if lang == "zh" else f"{value:g}s"


def _drill_json(drill) -> dict:
    from orchestrator.model.drill import PHASES

    return {
        "id": drill.id, "title": vars(drill.title), "description": vars(drill.description),
        "spec": list(drill.spec), "cadence": drill.cadence, "path": str(drill.path),
        "sha256": drill.sha256,
        "params": {n: {"type": p.type, "default": p.default, "choices": list(p.choices)}
                   for n, p in drill.params.items()},
        "targets": {"rto_s": dict(drill.targets.rto_s),
                    "no_double_login": drill.targets.no_double_login,
                    "cutover_limit_s": drill.targets.cutover_limit_s,
                    "cutover_firm_s": drill.targets.cutover_firm_s,
                    "expected_interruption_s": dict(drill.targets.expected_s)},
        "abort": {"blast_radius": drill.abort.blast_radius,
                  "recovery_margin_s": drill.abort.recovery_margin_s},
        "failback": drill.failback,
        # a failback step the run adds after restore (only when a gateway is off its home centre)
        "adds_failback_step": _adds_failback(drill),
        "phases": {ph: [{"kind": s.kind, "line": s.line, **dict(s.raw)} for s in drill.phases[ph]]
                   for ph in PHASES},
    }


commands = [list_drills, show, validate, init]
