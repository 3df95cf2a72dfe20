"""`drill lab`: start, inspect, fault and stop the embedded lab (docs/lab.md)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from orchestrator.cli._console import label as _say  # a message key in the run's language
from orchestrator.cli._options import (
    inventory_option,
    inventory_path,
    json_option,
    lang_option,
    project_option,
    resolve_lang,
)


def _secs(lang: str, value: float) -> str:
    return f"{value:.1f} 秒" if lang == "zh" else f"{value:.1f}s"


def _inventory(project: Path | None, inventory: str):
    from orchestrator.config.inventory import load_inventory

    path = inventory_path(project, inventory)
    return path, load_inventory(path)


def _state_dir(project: Path | None, inventory: str, inv=None, environment: str | None = None) -> Path:
    from orchestrator.lab.control import lab_state_dir

    if environment is not None:
        return lab_state_dir(environment)
    if inv is None:
        _, inv = _inventory(project, inventory)
    return lab_state_dir(inv.environment.name)


def _client(project: Path | None, inventory: str, inv=None, environment: str | None = None):
    from orchestrator.lab.control import LabClient, LabNotRunning, is_running

    state_dir = _state_dir(project, inventory, inv, environment)
    if not is_running(state_dir):
        named = f"environment {environment!r}" if environment is not None else repr(inventory)
        raise LabNotRunning(f"no lab running for {named} (state {state_dir}); "
                            "start it with `drill lab up`")
    return LabClient(state_dir)


# The playbooks name the lab by its environment: reading the inventory again only to learn
# that name cost every lab command about half a second (issue 19, P4), seconds on a big one.
environment_option = click.option(
    "--environment", "environment", default=None, metavar="NAME",
    help="With --json: the lab of this environment, without reading the inventory "
         "(what the playbooks use: an inventory of 2,000 gateways takes seconds to read).")


def _environment(environment: str | None, as_json: bool, command: str) -> str | None:
    """`--environment NAME`, checked: a plain name, and only with --json (the text output
    reads the inventory's language and time zone)."""
    import re

    from orchestrator.errors import InputError, Problem

    if environment is None:
        return None
    if not as_json:
        raise InputError(Problem(f"drill lab {command}", None, "--environment",
                                 "expected with --json (the text output reads the inventory's "
                                 "language and time zone)"))
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", environment):
        raise InputError(Problem(f"drill lab {command}", None, "--environment",
                                 f"expected an environment name (letters, digits, . _ -), got {environment!r}"))
    return environment


def _show(resp: dict, as_json: bool, text: str, lang: str = "en") -> None:
    # One compact object per line: a batch prints one line per target (playbooks read each).
    if as_json:
        click.echo(json.dumps(resp, ensure_ascii=False))
    else:
        click.echo(_say(lang, "lab_at", text=text, at=resp["effective_at"]))


def _lang(project: Path | None, inventory: str, lang: str | None) -> str:
    return lang or resolve_lang(None, inventory_path(project, inventory))


def _unique(ids: tuple[str, ...]) -> list[str]:
    return list(dict.fromkeys(ids))


def _apply(project: Path | None, inventory: str, requests: list[dict],
           environment: str | None = None) -> list[dict]:
    return _client(project, inventory, environment=environment).apply(requests)


@click.group()
def lab() -> None:
    """The embedded lab: SSCC centres, carrier lines and gateways on loopback.

    Example:  drill lab up && drill lab status
    """


@lab.command()
@project_option
@inventory_option
@click.option("--gateways", type=click.IntRange(min=1), default=None,
              help="Generate N gateways (trading, market data, settlement in turn).")
@click.option("--off-hours", is_flag=True,
              help="Stop the lab's flows (no market data, no CCNET transfers), as at night, "
                   "on a weekend or a holiday; sessions and heartbeats carry on.")
@lang_option
def up(project: Path | None, inventory: str, gateways: int | None, off_hours: bool,
       lang: str | None) -> None:
    """Start the lab in the background and wait until every gateway is logged in.

    Example:  drill lab up --gateways 200
    """
    from orchestrator.lab.control import lab_up

    path, inv = _inventory(project, inventory)
    lang = resolve_lang(lang, path)
    started = time.monotonic()
    handle = lab_up(path, gateways=gateways, off_hours=off_hours)
    env = inv.environment.name
    if not handle.started:
        click.echo(_say(lang, "lab_already_up", env=env, pid=handle.pid))
        return
    n = len(handle.status()["gateways"])
    click.echo(_say(lang, "lab_up", env=env, secs=_secs(lang, time.monotonic() - started), n=n,
                    pid=handle.pid, state=handle.state_dir))


@lab.command()
@project_option
@inventory_option
@lang_option
def down(project: Path | None, inventory: str, lang: str | None) -> None:
    """Stop the lab; checks by pid that no lab process is left.

    Example:  drill lab down
    """
    from orchestrator.lab.control import is_running, lab_down, read_pid

    path, inv = _inventory(project, inventory)
    lang = resolve_lang(lang, path)
    state_dir = _state_dir(project, inventory, inv)
    pid = read_pid(state_dir)
    if pid is None:
        click.echo(_say(lang, "lab_not_running", inventory=inventory))
        return
    running = is_running(state_dir)
    started = time.monotonic()
    killed = lab_down(state_dir)
    extra = _say(lang, "lab_killed", n=len(killed)) if killed else ""
    click.echo(_say(lang, "lab_down" if running else "lab_was_not_running",
                    secs=_secs(lang, time.monotonic() - started), pid=pid, extra=extra))


@lab.command()
@project_option
@inventory_option
@json_option
@environment_option
@lang_option
def status(project: Path | None, inventory: str, as_json: bool, environment: str | None,
           lang: str | None) -> None:
    """Show centres, lines and gateways with their sessions.

    Example:  drill lab status --json
    """
    from orchestrator.lab.control import LabNotRunning

    if environment is not None:
        click.echo(json.dumps(_status_of(environment, as_json), indent=2, ensure_ascii=False))
        return
    path, inv = _inventory(project, inventory)
    lang = resolve_lang(lang, path)
    try:
        st = _client(project, inventory, inv).status()
    except LabNotRunning:
        if as_json:
            click.echo(json.dumps({"ok": True, "running": False,
                                   "environment": inv.environment.name}))
            return
        if lang == "zh":
            raise LabNotRunning(_say(lang, "lab_none", inventory=inventory,
                                     state=_state_dir(project, inventory, inv))) from None
        raise
    if as_json:
        click.echo(json.dumps({**st, "running": True}, indent=2, ensure_ascii=False))
        return
    from zoneinfo import ZoneInfo

    from orchestrator.journal.chain import parse_iso_ns

    tz = ZoneInfo(inv.environment.timezone)

    def local(iso: str | None) -> str:
        if not iso:
            return "-"
        from datetime import datetime

        ns = parse_iso_ns(iso)
        return datetime.fromtimestamp(ns / 1e9, tz).strftime("%H:%M:%S.%f")[:-3]

    click.echo(_say(lang, "lab_status_head", env=st["environment"], pid=st["pid"],
                    since=local(st["started_at"]), tz=inv.environment.timezone) + "\n")
    click.echo(_status_tables(st, lang, local))
    logged = sum(1 for g in st["gateways"] if g["state"] == "logged_in")
    click.echo("\n" + _say(lang, "lab_logged_in", logged=logged, n=len(st["gateways"])))


def _status_of(environment: str, as_json: bool) -> dict:
    """`drill lab status --environment NAME --json`: the lab's status, or not running."""
    from orchestrator.lab.control import LabClient, is_running, lab_state_dir

    state_dir = lab_state_dir(_environment(environment, as_json, "status"))
    if not is_running(state_dir):
        return {"ok": True, "running": False, "environment": environment}
    return {**LabClient(state_dir).status(), "running": True}


def _status_tables(st: dict, lang: str, local) -> str:
    """The centres, lines and gateways of `drill lab status`, headed and worded in `lang`
    (ids, addresses and pids as they are)."""
    from tabulate import tabulate  # only for the table: a slow import (playbooks read --json)

    from orchestrator.model.i18n import LABELS

    zh = lang == "zh"

    def heads(*names: str) -> list[str]:
        return [_say(lang, f"lab_col_{n}") for n in names]

    def word(prefix: str, value: str | None) -> str:
        """An enumerated value (a state, a role, a medium, a kind) in zh, else as it is."""
        if not value or not zh:
            return value or ""
        return next((LABELS[k][0] for k in (f"{prefix}_{value}", f"gwkind_{value}", f"medium_{value}")
                     if k in LABELS), value)

    def name(c: dict) -> str:
        return (c.get("name_zh") or c["name"]) if zh else c["name"]

    def state(ln: dict) -> str:
        mode = ln["mode"]
        said = word("lab_state", ln["state"])
        if not mode:
            return said
        return f"{said}（{word('lab_mode', mode)}）" if zh else f"{said} ({mode})"

    centres = tabulate([[c["id"], name(c), word("lab_role", c["role"]), word("lab_state", c["state"]),
                         c["sessions"]] for c in st["centres"]],
                       headers=heads("centre", "name", "role", "state", "sessions"))
    lines = tabulate([[ln["id"], ln["carrier"], ln["centre"], word("medium", ln["medium"]),
                       ln["preference"], state(ln), ln["flows"]] for ln in st["lines"]],
                     headers=heads("line", "carrier", "centre", "medium", "pref", "state", "flows"))
    gateways = tabulate([[g["id"], word("gwkind", g["kind"]), word("lab_state", g["state"]),
                          g["centre"] or "-", g["line"] or "-", g["session_id"] or "-",
                          local(g["login_time"]), word("lab_md", g["md_source"]), g["monitor"],
                          g["pid"] or "-"] for g in st["gateways"]],
                        headers=heads("gateway", "kind", "state", "centre", "line", "session",
                                      "login", "md", "monitor", "pid"))
    return f"{centres}\n\n{lines}\n\n{gateways}"


@lab.group()
def line() -> None:
    """Fail or restore carrier lines."""


@line.command("down")
@click.argument("line_ids", metavar="ID...", nargs=-1, required=True)
@click.option("--mode", type=click.Choice(["blackhole", "shutdown"]), default="blackhole",
              show_default=True, help="blackhole: flows stall silently; shutdown: flows reset.")
@project_option
@inventory_option
@json_option
@environment_option
@lang_option
def line_down(line_ids: tuple[str, ...], mode: str, project: Path | None, inventory: str,
              as_json: bool, environment: str | None, lang: str | None) -> None:
    """Take lines down (several: all checked first, then cut together, each stamped).

    Example:  drill lab line down ct-ft ct-nf --mode blackhole --json
    """
    environment = _environment(environment, as_json, "line down")
    reqs = [{"op": "line_down", "line": lid, "mode": mode} for lid in _unique(line_ids)]
    lang = "en" if as_json else _lang(project, inventory, lang)
    for resp in _apply(project, inventory, reqs, environment):
        how = _say(lang, f"lab_mode_{mode}") if lang == "zh" else mode
        _show(resp, as_json, _say(lang, "lab_line_down", line=resp["target"], mode=how,
                                  flows=resp.get("flows", 0)), lang)


def _target_command(group: click.Group, name: str, op: str, key: str, verb: str, help_text: str):
    """A command that sends `op` for each ID (one request, or a batch for several)."""
    @group.command(name)
    @click.argument("ids", metavar="ID...", nargs=-1, required=True)
    @project_option
    @inventory_option
    @json_option
    @environment_option
    @lang_option
    def command(ids: tuple[str, ...], project: Path | None, inventory: str, as_json: bool,
                environment: str | None, lang: str | None) -> None:
        environment = _environment(environment, as_json, f"{group.name} {name}")
        reqs = [{"op": op, key: target} for target in _unique(ids)]
        lang = "en" if as_json else _lang(project, inventory, lang)
        for resp in _apply(project, inventory, reqs, environment):
            text = f"{key} {resp['target']} {verb}"
            _show(resp, as_json, _say(lang, f"lab_{op}", target=resp["target"]) if lang == "zh" else text,
                  lang)

    # click reads help when decorating; a __doc__ set afterwards never reaches --help.
    command.help = help_text
    return command


line_up = _target_command(line, "up", "line_up", "line", "up",
                          "Bring lines back.\n\nExample:  drill lab line up ct-ft ct-nf")


@lab.group()
def centre() -> None:
    """Fail or restore whole centres (FT, NF, BJ)."""


centre_down = _target_command(
    centre, "down", "centre_down", "centre", "down",
    "Stall centres: their services stop answering, without resets.\n\n"
    "Example:  drill lab centre down FT")
centre_up = _target_command(centre, "up", "centre_up", "centre", "up",
                            "Bring centres back.\n\nExample:  drill lab centre up FT")


@lab.group()
def service() -> None:
    """Make services unreachable at centres from the firm's side, or reachable again."""


def _service_command(name: str, op: str, help_text: str):
    @service.command(name)
    @click.argument("centre_ids", metavar="CENTRE...", nargs=-1, required=True)
    @click.option("--service", "services", multiple=True, required=True,
                  type=click.Choice(["trading", "market_data", "settlement"]),
                  help="The service (repeatable).")
    @project_option
    @inventory_option
    @json_option
    @environment_option
    @lang_option
    def command(centre_ids: tuple[str, ...], services: tuple[str, ...], project: Path | None,
                inventory: str, as_json: bool, environment: str | None, lang: str | None) -> None:
        environment = _environment(environment, as_json, f"service {name}")
        reqs = [{"op": op, "centre": cid, "services": list(_unique(services))}
                for cid in _unique(centre_ids)]
        lang = "en" if as_json else _lang(project, inventory, lang)
        for resp in _apply(project, inventory, reqs, environment):
            said = resp.get("services", [])
            if lang == "zh":
                said = [_say(lang, f"svc_{sv}") for sv in said]
            _show(resp, as_json, _say(lang, f"lab_{op}", services=("、" if lang == "zh" else ", ").join(said),
                                      centre=resp["target"]), lang)

    command.help = help_text
    return command


service_down = _service_command(
    "down", "service_down",
    "Black-hole services at centres: their flows stall, every other service carries on.\n\n"
    "Example:  drill lab service down FT NF --service market_data --json")
service_up = _service_command(
    "up", "service_up", "Give services back.\n\nExample:  drill lab service up FT NF --service market_data")


@lab.group()
def gateway() -> None:
    """Stop, start, restart or repoint lab gateways (a restart re-reads the config)."""


gateway_restart, gateway_stop, gateway_start = (
    _target_command(gateway, name, f"gateway_{name}", "gateway", verb,
                    f"{name.capitalize()} gateway processes (several at once).\n\n"
                    f"Example:  drill lab gateway {name} W000000T W00001TF")
    for name, verb in (("restart", "restarted"), ("stop", "stopped"), ("start", "started")))


@gateway.command("repoint")
@click.option("--plan", "plan_file", type=click.File("r", encoding="utf-8"), required=True,
              help="JSON list of {gateway: {id, ...}, servers: [{centre, address, port}, ...]} "
                   "(repoint.yml's plan); - for stdin.")
@click.option("--template", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              default=None, help="Server list template (default: the project's "
                                 "playbooks/templates/server_list.xml.j2).")
@click.option("--no-restart", is_flag=True, help="Only render the configs.")
@project_option
@inventory_option
@json_option
@environment_option
@lang_option
def gateway_repoint(plan_file, template: Path | None, no_restart: bool, project: Path | None,
                    inventory: str, as_json: bool, environment: str | None, lang: str | None) -> None:
    """Render each planned gateway's server list, then restart them all at once.

    Prints one line per gateway restarted (with --json its effective_ns).

    Example:  echo '[{"gateway": {"id": "W000000T"}, "servers": [...]}]' |
              drill lab gateway repoint --plan - --json
    """
    from orchestrator.errors import InputError, Problem
    from orchestrator.lab.gateway_files import render_server_lists, repoint_plan

    where = getattr(plan_file, "name", "--plan")
    try:
        plan = json.load(plan_file)
    except ValueError as e:
        raise InputError(Problem(where, None, "--plan", f"expected JSON: {e}")) from None
    client = _client(project, inventory, environment=_environment(environment, as_json, "gateway repoint"))
    servers = repoint_plan(plan, where)
    render_server_lists(client.state_dir, servers, template)
    lang = "en" if as_json else _lang(project, inventory, lang)
    if no_restart:
        for gid in servers:
            click.echo(json.dumps({"ok": True, "target": gid, "rendered": True}) if as_json
                       else _say(lang, "lab_rendered", gateway=gid))
        return
    reqs = [{"op": "gateway_restart", "gateway": gid} for gid in servers]
    for resp in client.apply(reqs):
        _show(resp, as_json, _say(lang, "lab_repointed", gateway=resp["target"]), lang)


@lab.command()
@click.argument("gateway_ids", metavar="[ID...]", nargs=-1)
@click.option("--dest", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Evidence folder to fill (configs/, logs/, routes/).")
@click.option("--status/--no-status", "with_status", default=True, show_default=True,
              help="Also store the lab's lines and routes (routes/lab-status.json).")
@project_option
@inventory_option
@json_option
@environment_option
@lang_option
def evidence(gateway_ids: tuple[str, ...], dest: Path, with_status: bool,
             project: Path | None, inventory: str, as_json: bool, environment: str | None,
             lang: str | None) -> None:
    """Copy the named gateways' configs and logs, the lab's ground truth and log, and its
    status into an evidence folder, in one go (docs/run-folder.md layout).

    Example:  drill lab evidence --dest /tmp/ev W000000T W00001TF
    """
    from orchestrator.lab.gateway_files import collect_evidence

    state_dir = _state_dir(project, inventory, environment=_environment(environment, as_json, "evidence"))
    files = collect_evidence(state_dir, dest, _unique(gateway_ids), with_status=with_status)
    if as_json:
        click.echo(json.dumps({"ok": True, "dest": str(dest), "files": files}, ensure_ascii=False))
    else:
        click.echo(_say(_lang(project, inventory, lang), "lab_evidence", n=len(files), dest=dest))


commands = [lab]
