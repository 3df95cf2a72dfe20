"""`drill lab`: start, inspect, fault and stop the embedded lab (docs/lab.md)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from orchestrator.cli._options import inventory_option, json_option, project_option


def _inventory(project: Path | None, inventory: str):
    from orchestrator.inventory import load_inventory
    from orchestrator.project import find_project

    path = find_project(project).inventory_path(inventory)
    return path, load_inventory(path)


def _state_dir(project: Path | None, inventory: str) -> Path:
    from orchestrator.lab.control import lab_state_dir

    _, inv = _inventory(project, inventory)
    return lab_state_dir(inv.environment.name)


def _client(project: Path | None, inventory: str):
    from orchestrator.lab.control import LabClient, LabNotRunning, is_running

    state_dir = _state_dir(project, inventory)
    if not is_running(state_dir):
        raise LabNotRunning(f"no lab running for {inventory!r} (state {state_dir}); "
                            "start it with `drill lab up`")
    return LabClient(state_dir)


def _show(resp: dict, as_json: bool, text: str) -> None:
    if as_json:
        click.echo(json.dumps(resp, indent=2, ensure_ascii=False))
    else:
        click.echo(f"{text} at {resp['effective_at']}")


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
def up(project: Path | None, inventory: str, gateways: int | None) -> None:
    """Start the lab in the background and wait until every gateway is logged in.

    Example:  drill lab up --gateways 200
    """
    from orchestrator.lab.control import lab_up

    path, inv = _inventory(project, inventory)
    started = time.monotonic()
    handle = lab_up(path, gateways=gateways)
    if not handle.started:
        click.echo(f"lab {inv.environment.name!r} is already up (pid {handle.pid}); nothing to do")
        return
    n = len(handle.status()["gateways"])
    click.echo(f"lab {inv.environment.name!r} up in {time.monotonic() - started:.1f}s: "
               f"{n} gateways logged in (pid {handle.pid}, state {handle.state_dir})")


@lab.command()
@project_option
@inventory_option
def down(project: Path | None, inventory: str) -> None:
    """Stop the lab; checks by pid that no lab process is left.

    Example:  drill lab down
    """
    from orchestrator.lab.control import is_running, lab_down, read_pid

    state_dir = _state_dir(project, inventory)
    pid = read_pid(state_dir)
    if pid is None:
        click.echo(f"no lab running for {inventory!r}; nothing to do")
        return
    running = is_running(state_dir)
    started = time.monotonic()
    killed = lab_down(state_dir)
    what = "down" if running else "was not running; cleaned up"
    extra = f"; killed {len(killed)} leftover process(es)" if killed else ""
    click.echo(f"lab {what} in {time.monotonic() - started:.1f}s, no process left "
               f"(process group {pid}){extra}")


@lab.command()
@project_option
@inventory_option
@json_option
def status(project: Path | None, inventory: str, as_json: bool) -> None:
    """Show centres, lines and gateways with their sessions.

    Example:  drill lab status --json
    """
    from tabulate import tabulate

    from orchestrator.lab.control import LabNotRunning

    _, inv = _inventory(project, inventory)
    try:
        st = _client(project, inventory).status()
    except LabNotRunning:
        if as_json:
            click.echo(json.dumps({"ok": True, "running": False,
                                   "environment": inv.environment.name}))
            return
        raise
    if as_json:
        click.echo(json.dumps({**st, "running": True}, indent=2, ensure_ascii=False))
        return
    from zoneinfo import ZoneInfo

    from orchestrator.journal import parse_iso_ns

    tz = ZoneInfo(inv.environment.timezone)

    def local(iso: str | None) -> str:
        if not iso:
            return "-"
        from datetime import datetime

        ns = parse_iso_ns(iso)
        return datetime.fromtimestamp(ns / 1e9, tz).strftime("%H:%M:%S.%f")[:-3]

    click.echo(f"lab {st['environment']!r}, supervisor pid {st['pid']}, since "
               f"{local(st['started_at'])} ({inv.environment.timezone})\n")
    click.echo(tabulate([[c["id"], c["name"], c["role"], c["state"], c["sessions"]]
                         for c in st["centres"]],
                        headers=["centre", "name", "role", "state", "sessions"]))
    click.echo()
    click.echo(tabulate([[ln["id"], ln["carrier"], ln["centre"], ln["medium"], ln["preference"],
                          ln["state"] + (f" ({ln['mode']})" if ln["mode"] else ""), ln["flows"]]
                         for ln in st["lines"]],
                        headers=["line", "carrier", "centre", "medium", "pref", "state", "flows"]))
    click.echo()
    click.echo(tabulate([[g["id"], g["kind"], g["state"], g["centre"] or "-", g["line"] or "-",
                          g["session_id"] or "-", local(g["login_time"]), g["md_source"] or "",
                          g["monitor"], g["pid"] or "-"]
                         for g in st["gateways"]],
                        headers=["gateway", "kind", "state", "centre", "line", "session",
                                 "login", "md", "monitor", "pid"]))
    logged = sum(1 for g in st["gateways"] if g["state"] == "logged_in")
    click.echo(f"\n{logged}/{len(st['gateways'])} gateways logged in")


@lab.group()
def line() -> None:
    """Fail or restore a carrier line."""


@line.command("down")
@click.argument("line_id", metavar="ID")
@click.option("--mode", type=click.Choice(["blackhole", "shutdown"]), default="blackhole",
              show_default=True, help="blackhole: flows stall silently; shutdown: flows reset.")
@project_option
@inventory_option
@json_option
def line_down(line_id: str, mode: str, project: Path | None, inventory: str,
              as_json: bool) -> None:
    """Take a line down.

    Example:  drill lab line down ct-ft --mode blackhole
    """
    resp = _client(project, inventory).line_down(line_id, mode)
    _show(resp, as_json, f"line {line_id} down ({mode}), {resp.get('flows', 0)} flow(s) hit,")


@line.command("up")
@click.argument("line_id", metavar="ID")
@project_option
@inventory_option
@json_option
def line_up(line_id: str, project: Path | None, inventory: str, as_json: bool) -> None:
    """Bring a line back.

    Example:  drill lab line up ct-ft
    """
    _show(_client(project, inventory).line_up(line_id), as_json, f"line {line_id} up")


@lab.group()
def centre() -> None:
    """Fail or restore a whole centre (FT, NF, BJ)."""


@centre.command("down")
@click.argument("centre_id", metavar="ID")
@project_option
@inventory_option
@json_option
def centre_down(centre_id: str, project: Path | None, inventory: str, as_json: bool) -> None:
    """Stall a centre: its services stop answering, without resets.

    Example:  drill lab centre down FT
    """
    _show(_client(project, inventory).centre_down(centre_id), as_json,
          f"centre {centre_id} down")


@centre.command("up")
@click.argument("centre_id", metavar="ID")
@project_option
@inventory_option
@json_option
def centre_up(centre_id: str, project: Path | None, inventory: str, as_json: bool) -> None:
    """Bring a centre back.

    Example:  drill lab centre up FT
    """
    _show(_client(project, inventory).centre_up(centre_id), as_json, f"centre {centre_id} up")


@lab.group()
def gateway() -> None:
    """Stop, start or restart a lab gateway (a restart re-reads its config)."""


def _gateway_command(name: str, verb: str):
    @gateway.command(name)
    @click.argument("gateway_id", metavar="ID")
    @project_option
    @inventory_option
    @json_option
    def command(gateway_id: str, project: Path | None, inventory: str, as_json: bool) -> None:
        client = _client(project, inventory)
        resp = getattr(client, f"gateway_{name}")(gateway_id)
        _show(resp, as_json, f"gateway {gateway_id} {verb}")

    # click reads help when decorating; a __doc__ set afterwards never reaches --help.
    command.help = (f"{name.capitalize()} a gateway process.\n\n"
                    f"Example:  drill lab gateway {name} W000000T")
    return command


gateway_restart = _gateway_command("restart", "restarted")
gateway_stop = _gateway_command("stop", "stopped")
gateway_start = _gateway_command("start", "started")

commands = [lab]
