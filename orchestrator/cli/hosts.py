"""`drill hosts`: enrol and check the SSH host keys of an inventory's real hosts (docs/real-hosts.md)."""

from __future__ import annotations

import json
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


def _topology(project: Path | None, inventory: str):
    from orchestrator.adapters.hosts import load_topology
    from orchestrator.errors import InputError, Problem

    path = inventory_path(project, inventory)
    topo = load_topology(path)
    if not topo.hosts:
        raise InputError(Problem(str(path), None, "hosts",
                                 "no SSH hosts in this inventory (hosts with ansible_host, not local)"))
    return topo


@click.group()
def hosts() -> None:
    """Real hosts over SSH: host keys and reachability.

    Example:  drill hosts trust -i inventories/prod --yes-fingerprints-from-inventory
    """


@hosts.command()
@project_option
@inventory_option
@click.argument("names", nargs=-1)
@click.option("--yes-fingerprints-from-inventory", "from_inventory", is_flag=True,
              help="Accept a key only when its fingerprint is in the host's ssh_host_fingerprints; "
                   "ask nothing.")
@json_option
@lang_option
def trust(project: Path | None, inventory: str, names: tuple[str, ...], from_inventory: bool,
          as_json: bool, lang: str | None) -> None:
    """Enrol host keys into the inventory's managed known_hosts.

    Reads each host's key over SSH (hosts behind a bastion through it; the bastion is
    enrolled first), shows its SHA256 fingerprint and asks you to confirm it against the
    host owner's records. With --yes-fingerprints-from-inventory the keys are checked
    against `ssh_host_fingerprints` in the inventory instead, and nothing is written if
    one does not match. drill and Ansible then refuse any other key for these hosts.

    Example:  drill hosts trust -i inventories/prod ct-router gw-trade-01
    """
    from orchestrator.adapters.hosts import trust_hosts

    topo = _topology(project, inventory)
    lang = resolve_lang(lang, inventory_path(project, inventory))
    for name in names:
        topo.host(name)

    def confirm(host, key_type: str, fp: str, previous: str | None) -> bool:
        change = _say(lang, "hosts_key_changed", previous=previous) if previous else ""
        return click.confirm(_say(lang, "hosts_trust_ask", host=host.describe(), key_type=key_type,
                                  fingerprint=fp, change=change), default=False)

    decisions = trust_hosts(topo, names or None, confirm=None if from_inventory else confirm,
                            from_inventory=from_inventory)
    if as_json:
        click.echo(json.dumps({"known_hosts": str(topo.known_hosts),
                               "hosts": [d.__dict__ for d in decisions]}, indent=2))
    else:
        for d in decisions:
            click.echo(trust_line(d, lang))
        click.echo(_say(lang, "hosts_known_hosts", path=topo.known_hosts))
    refused = [d.host for d in decisions if d.status in ("rejected", "skipped")]
    if refused:
        from orchestrator.errors import DrillError

        raise DrillError(_say(lang, "hosts_not_trusted", hosts=", ".join(refused)))


def trust_line(d, lang: str) -> str:
    """One host's decision: status, host, address, key type, fingerprint."""
    status = _say(lang, f"hosts_status_{d.status}") if lang == "zh" else d.status
    return f"{status:<10} {d.host:<16} {d.address:<22} {d.key_type} {d.fingerprint}"


def clock_line(r: dict, lang: str) -> str:
    """One host's clock, from `measure_clock_offset(...).to_record()`."""
    import re

    if r["offset_ms"] is None:  # a network router (adapters/router_hosts.py)
        return _say(lang, "hosts_router", host=f"{r['host']:<16}", platform=r["platform"],
                    clock=_say(lang, "hosts_router_clock"))
    said = r["ntp"] or ""
    chrony = re.fullmatch(r"chrony: (\S+) ms from NTP", said)
    if lang == "zh" and chrony:  # the summaries measure_clock_offset writes
        said = _say(lang, "hosts_ntp_chrony", offset=chrony.group(1))
    elif lang == "zh" and said.startswith("timedatectl: "):
        said = f"`timedatectl`：{said.split(': ', 1)[1]}"
    ntp = f"  {said}" if said else ""
    return _say(lang, "hosts_clock", host=f"{r['host']:<16}", offset=f"{r['offset_ms']:+.3f}",
                uncertainty=f"{r['uncertainty_ms']:.3f}", ntp=ntp)


@hosts.command()
@project_option
@inventory_option
@click.argument("names", nargs=-1)
@json_option
@lang_option
def check(project: Path | None, inventory: str, names: tuple[str, ...], as_json: bool,
          lang: str | None) -> None:
    """Log in to each host with strict host keys and measure its clock offset.

    A network router (a line's `platform` other than linux) runs its vendor's CLI, not a
    shell: its host key is checked (no login) and its clock is said to be not measured
    here (each line step reads it).

    Exits 4 when a host's key is unknown or changed, 1 when a host cannot be reached.

    Example:  drill hosts check -i inventories/prod
    """
    from orchestrator.adapters.hosts import measure_clock_offset
    from orchestrator.adapters.router_hosts import network_routers, router_clock_row
    from orchestrator.adapters.ssh import SshPool

    topo = _topology(project, inventory)
    routers = network_routers(inventory_path(project, inventory))
    wanted = list(names) or sorted(topo.hosts)
    rows = []
    with SshPool(topo) as pool:
        for name in wanted:
            rows.append(router_clock_row(pool, name, routers[name]) if name in routers
                        else measure_clock_offset(pool, name).to_record())
    if as_json:
        click.echo(json.dumps({"known_hosts": str(topo.known_hosts), "hosts": rows}, indent=2))
        return
    lang = resolve_lang(lang, inventory_path(project, inventory))
    for r in rows:
        click.echo(clock_line(r, lang))


def forward_line(f, lang: str) -> str:
    """One forward of `drill hosts forward`: here → the gateway host's loopback."""
    return _say(lang, "hosts_forwarding", local=f"{f.address}:{f.port}", host=f.host,
                remote=f"{f.address}:{f.port}", gateway=f.gateway)


def forward_note(text: str, lang: str) -> str:
    """What the SSH forward says of its connection (adapters.ssh, English): quoted in zh."""
    return _say(lang, "hosts_forward_note", text=text) if lang == "zh" else text


@hosts.command()
@project_option
@inventory_option
@lang_option
def forward(project: Path | None, inventory: str, lang: str | None) -> None:
    """Forward gateway monitors that listen on their host's loopback, until Ctrl-C.

    A gateway host behind the bastion often serves its monitor on 127.0.0.1 only. This
    listens on the same address and port here and carries each connection through the
    bastion to the gateway host (ssh -L), so `drill run` and `drill check` in another
    terminal reach the monitors at the inventory's addresses.

    Example:  drill hosts forward -i inventories/prod
    """
    import signal
    import threading

    from orchestrator.adapters.hosts import monitor_forwards
    from orchestrator.adapters.ssh import SshPool, start_forwards
    from orchestrator.errors import DrillError

    topo = _topology(project, inventory)
    plan = monitor_forwards(inventory_path(project, inventory))
    lang = resolve_lang(lang, inventory_path(project, inventory))
    if not plan:
        raise DrillError(_say(lang, "hosts_forward_none"))
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with SshPool(topo) as pool:
            forwards = start_forwards(pool, plan, say=lambda m: click.echo(forward_note(m, lang), err=True))
            try:
                for f in plan:
                    click.echo(forward_line(f, lang))
                click.echo(_say(lang, "hosts_forward_ready"), err=True)
                stop.wait()
            finally:
                for fw in forwards:
                    fw.close()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


commands = [hosts]
