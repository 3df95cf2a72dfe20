"""`drill hosts`: enrol and check the SSH host keys of an inventory's real hosts (docs/real-hosts.md)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from orchestrator.cli._options import inventory_option, inventory_path, json_option, project_option


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
def trust(project: Path | None, inventory: str, names: tuple[str, ...], from_inventory: bool,
          as_json: bool) -> None:
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
    for name in names:
        topo.host(name)

    def confirm(host, key_type: str, fp: str, previous: str | None) -> bool:
        change = f"  KEY CHANGED: was {previous}\n" if previous else ""
        return click.confirm(f"{host.describe()}\n  {key_type} {fp}\n{change}  Trust this key?", default=False)

    decisions = trust_hosts(topo, names or None, confirm=None if from_inventory else confirm,
                            from_inventory=from_inventory)
    if as_json:
        click.echo(json.dumps({"known_hosts": str(topo.known_hosts),
                               "hosts": [d.__dict__ for d in decisions]}, indent=2))
    else:
        for d in decisions:
            click.echo(f"{d.status:<10} {d.host:<16} {d.address:<22} {d.key_type} {d.fingerprint}")
        click.echo(f"known_hosts: {topo.known_hosts}")
    refused = [d.host for d in decisions if d.status in ("rejected", "skipped")]
    if refused:
        from orchestrator.errors import DrillError

        raise DrillError(f"not trusted: {', '.join(refused)}; drill and Ansible will refuse them")


@hosts.command()
@project_option
@inventory_option
@click.argument("names", nargs=-1)
@json_option
def check(project: Path | None, inventory: str, names: tuple[str, ...], as_json: bool) -> None:
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
    for r in rows:
        if r["offset_ms"] is None:
            click.echo(f"ok  {r['host']:<16} host key trusted, login not tested ({r['platform']}); "
                       f"clock {r['clock']}")
            continue
        ntp = f"  {r['ntp']}" if r["ntp"] else ""
        click.echo(f"ok  {r['host']:<16} clock offset {r['offset_ms']:+.3f} ms "
                   f"(±{r['uncertainty_ms']:.3f}){ntp}")


@hosts.command()
@project_option
@inventory_option
def forward(project: Path | None, inventory: str) -> None:
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
    if not plan:
        raise DrillError("no gateway monitor to forward (none listens on its SSH host's loopback)")
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with SshPool(topo) as pool:
            forwards = start_forwards(pool, plan, say=lambda m: click.echo(m, err=True))
            try:
                for f in plan:
                    click.echo(f"forwarding {f.address}:{f.port} → {f.host}:{f.address}:{f.port} ({f.gateway})")
                click.echo("ready; Ctrl-C to stop", err=True)
                stop.wait()
            finally:
                for fw in forwards:
                    fw.close()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


commands = [hosts]
