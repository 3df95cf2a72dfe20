"""P11: SSH fan-out on the netns bed: one repoint step over many gateway hosts (root only).

Method: the netns bed (tests/hostbed/bed.py) with extra gateway hosts g00, g01, … beside
`gw`, each its own namespace with its own sshd on the management LAN (reached only through
the bastion) and its own macvlans on gw's two lines. Each host runs `--per-host` lab
gateway programs under the bed's service manager (tests/hostbed/svc.py), the `driver:
linux` inventory naming each gateway's host, config and service. The step is the drill's
own `playbooks/repoint.yml` with `to: home` (render every gateway's server list on its
host, restart its service, wait until every monitor shows the login), run through drill's
Ansible adapter the way the engine runs a step: one run-wide ControlPersist folder and
forks sized to the estate (`adapters/run_ssh.RunConnections`), each gateway's monitor
reached through `drill hosts forward` (drill's paramiko stack, one transport per host).

Small: `--small-hosts` hosts × `--per-host` gateways; large: `--hosts` × `--per-host`.
Each size: a first repoint (the service starts, the SSH masters open), then `--rounds`
timed repoints. Reported: the median step, its ratio large/small, the bastion's accepted
SSH logins during the timed rounds and during the whole size (its sshd log), and where
the large step's time goes (each task's span, first start to last end).

    sudo .venv/bin/python bench/p11_fanout.py [--hosts 20] [--per-host 10] [--small-hosts 2]
                                               [--rounds 3] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from _common import ROOT, write_section

TARGET_RATIO = 1.5


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--hosts", type=int, default=20)
    ap.add_argument("--per-host", type=int, default=10)
    ap.add_argument("--small-hosts", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    if min(args.hosts, args.per_host, args.small_hosts, args.rounds) < 1 or args.small_hosts > args.hosts:
        ap.error("--hosts, --per-host, --small-hosts and --rounds must be at least 1, "
                 "and --small-hosts at most --hosts")
    if os.geteuid() != 0:
        print("P11 needs root (network namespaces)", file=sys.stderr)
        return 2
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    with tempfile.TemporaryDirectory(prefix="drill-p11-") as tmp:
        small, large = run(Path(tmp), args)
    body = render(args, small, large, load_before)
    if args.no_write:
        print(body)
    else:
        write_section("P11", body)
    return 0


def run(root: Path, args) -> tuple[dict, dict]:
    from hostbed import bed as bedlib

    from orchestrator.lab.testing import free_ports

    bed = bedlib.build(root / "bed")
    extra: list[str] = []
    try:
        extra = add_gateway_hosts(bed, args.hosts)
        gateways = {name: [f"W{k * args.per_host + j:06d}T" for j in range(args.per_host)]
                    for k, name in enumerate(extra)}
        ids = [g for each in gateways.values() for g in each]
        ports = dict(zip(ids, free_ports(len(ids)), strict=True))  # distinct: one monitor each
        large_inv = write_inventory(bed, root / "inv-large", gateways, ports)
        small_inv = write_inventory(bed, root / "inv-small",
                                    {h: gateways[h] for h in extra[:args.small_hosts]}, ports)
        try:
            bed.start_centres(large_inv / "hosts.yml")  # the exchange knows every gateway
        except bedlib.BedError:
            for log in sorted(bed.root.glob("centre-*.log")):
                print(f"{log.name}:\n{log.read_text(errors='replace')[-3000:]}", file=sys.stderr)
            raise
        small = measure(bed, small_inv, root / "small", args.rounds,
                        args.small_hosts, args.small_hosts * args.per_host)
        large = measure(bed, large_inv, root / "large", args.rounds, args.hosts, len(ids))
    finally:
        left = remove_hosts(bed, extra) + bed.teardown()
        if left:
            print(f"P11: the bed left behind: {left}", file=sys.stderr)
    return small, large


def add_gateway_hosts(bed, count: int) -> list[str]:
    """`count` gateway hosts like gw: management port on the bastion's LAN, sshd, and a
    macvlan on each of gw's lines (so a line taken down takes every host's route down)."""
    from hostbed import bed as bedlib

    authorized = bed.root / "authorized_keys"
    names = [f"g{k:02d}" for k in range(count)]
    for k, name in enumerate(names):
        hdir = bed.root / name
        hdir.mkdir(parents=True, exist_ok=True)
        host = bedlib.BedHost(name, f"{bed.prefix}-{name}", f"{bed.mgmt_net}.{150 + k}", hdir)
        bed.hosts[name] = host
        bedlib.run("ip", "netns", "add", host.netns)
        bed.exec(name, "ip", "link", "set", "lo", "up")
        for key in ("all", "default"):
            bed.exec(name, "sysctl", "-qw", f"net.ipv4.conf.{key}.ignore_routes_with_linkdown=1")
            bed.exec(name, "sysctl", "-qw", f"net.ipv4.conf.{key}.rp_filter=0")
        port = f"m-{name}"
        bedlib.run("ip", "link", "add", "mgmt0", "netns", host.netns, "type", "veth", "peer", "name",
                   port, "netns", bed.ns("bastion"))
        bedlib.run("ip", "-n", bed.ns("bastion"), "link", "set", port, "master", "mgmt0", "up")
        bedlib._ns_addr(bed, name, "mgmt0", f"{host.mgmt_address}/25")
        base = 8 + 4 * k  # this host's /30 on each line: .base+1 the host, .base+2 the router
        for iface, net, router in (("ct0", "198.18.1", "ct"), ("cu0", "198.18.2", "cu")):
            tmp = f"{bed.prefix}{k:02d}{iface[:2]}"
            bed.exec("gw", "ip", "link", "add", tmp, "link", iface, "type", "macvlan", "mode", "bridge")
            bed.exec("gw", "ip", "link", "set", tmp, "netns", host.netns)
            bed.exec(name, "ip", "link", "set", tmp, "name", iface)
            bedlib._ns_addr(bed, name, iface, f"{net}.{base + 1}/30")
            bed.exec(router, "ip", "addr", "add", f"{net}.{base + 2}/30", "dev", "line0")
        for prefix, first, second in (("198.18.101.0/24", "198.18.1", "198.18.2"),
                                      ("198.18.102.0/24", "198.18.2", "198.18.1")):
            bed.exec(name, "ip", "route", "append", prefix, "via", f"{first}.{base + 2}", "metric", "10")
            bed.exec(name, "ip", "route", "append", prefix, "via", f"{second}.{base + 2}", "metric", "20")
        bedlib.run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f",
                   str(hdir / "ssh_host_ed25519_key"))
        (hdir / "sshd_config").write_text(bedlib._SSHD_CONFIG.format(
            address=host.mgmt_address, dir=hdir, authorized=authorized, forwarding="yes"))
        bed._start_sshd(host)
    # The centres' way back to every host's line address (the base bed routes only gw's /30).
    for centre, entries in {"ft": (("198.18.1.0/24", "198.18.11.1"), ("198.18.2.0/24", "198.18.20.2")),
                            "nf": (("198.18.2.0/24", "198.18.12.1"), ("198.18.1.0/24", "198.18.20.1"))}.items():
        for prefix, via in entries:
            bed.exec(centre, "ip", "route", "append", prefix, "via", via, "metric", "10")
    return names


def remove_hosts(bed, names: list[str]) -> list[str]:
    """Stop every process in the extra hosts' namespaces and delete them; what is left."""
    from hostbed import bed as bedlib

    left = []
    for name in names:
        ns = bed.ns(name)
        if not bedlib._netns_exists(ns):
            continue
        for pid in bedlib._netns_pids(ns):
            bedlib._kill_pid(pid)
        if bedlib.run("ip", "netns", "del", ns, check=False).returncode != 0:
            left.append(f"namespace {ns}")
        bed.hosts.pop(name, None)
    return left


def write_inventory(bed, folder: Path, gateways: dict[str, list[str]], ports: dict[str, int]) -> Path:
    """The bed's `driver: linux` inventory with `gateways` on their hosts (and no gw host)."""
    import json

    import yaml
    from hostbed.inventory import fingerprint_of, inventory_doc, ssh_args, trust_all

    folder.mkdir(parents=True)
    doc = inventory_doc(bed, folder)
    entries, hosts = [], {}
    for name, ids in gateways.items():
        h = bed.host(name)
        svc = h.dir / "svc"
        for sub in ("units", "logs"):
            (svc / sub).mkdir(parents=True, exist_ok=True)
        for gid in ids:
            config = h.dir / "gateways" / gid / "server_list.xml"
            config.parent.mkdir(parents=True, exist_ok=True)
            (svc / "units" / f"sscc-gateway@{gid}.json").write_text(json.dumps({
                "argv": [sys.executable, "-m", "orchestrator.lab.gateway", str(config)],
                "log": str(svc / "logs" / f"{gid}.log")}))
            entries.append({"id": gid, "kind": "trading", "host": name,
                            "monitor": {"address": "127.0.0.1", "port": ports[gid]},
                            "config": str(config), "config_format": "lab-xml",
                            "service": f"sscc-gateway@{gid}"})
        hosts[name] = {"ansible_host": h.mgmt_address,
                       "ansible_ssh_common_args": ssh_args(folder / "known_hosts", bed.client_key,
                                                           bed.bastion_address),
                       "drill_ssh_via": "bastion",
                       "ssh_host_fingerprints": [fingerprint_of(h.host_key_pub)],
                       "drill_service_ctl": f"{sys.executable} {ROOT / 'tests/hostbed/svc.py'} --dir {svc}",
                       "drill_gateway_log": str(svc / "logs" / "{id}.log")}
    doc["all"]["vars"]["drill"]["gateways"] = entries
    doc["all"]["children"]["gateway_hosts"]["hosts"] = hosts
    (folder / "hosts.yml").write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True),
                                      encoding="utf-8")
    trust_all(bed, folder)
    return folder


def bastion_logins(bed) -> int:
    return (bed.host("bastion").dir / "sshd.log").read_text(errors="replace").count("Accepted publickey")


def control_cpu_s() -> float:
    """CPU seconds of this process's reaped descendants: ansible-playbook and its workers,
    their ssh clients (the control side of a step; the hosts' sshd, modules and gateway
    programs are not descendants of this process)."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def cpu_busy_s() -> float:
    """The whole machine's busy CPU seconds so far (/proc/stat: everything but idle and iowait)."""
    with open("/proc/stat") as fh:
        f = [int(x) for x in fh.readline().split()[1:]]
    return (sum(f) - f[3] - f[4]) / os.sysconf("SC_CLK_TCK")


def measure(bed, inv: Path, work: Path, rounds: int, hosts: int, count: int) -> dict:
    """The first repoint (services start, masters open), then `rounds` timed repoints."""
    from orchestrator.adapters.ansible import PlaybookRun, run_playbook
    from orchestrator.adapters.hosts import known_hosts_path
    from orchestrator.adapters.run_ssh import RunConnections

    work.mkdir(parents=True)
    env = {**os.environ, "DRILL_HOME": str(work / "home")}
    logins_before = bastion_logins(bed)
    forward = subprocess.Popen([str(Path(sys.executable).with_name("drill")), "hosts", "forward", "-i", str(inv)],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               start_new_session=True, env=env)
    conns = RunConnections(inv)
    try:
        for _ in range(count):
            line = forward.stdout.readline()
            if not line.startswith("forwarding 127.0.0.1:"):
                raise RuntimeError(f"drill hosts forward: {line!r}")
        steps = []
        for i in range(rounds + 1):
            if i == 1:
                timed_from = bastion_logins(bed)
            started, busy, ctl = time.monotonic(), cpu_busy_s(), control_cpu_s()
            result = run_playbook(PlaybookRun(
                playbook=ROOT / "playbooks" / "repoint.yml", inventory=inv, extravars={"to": "home"},
                private_data_dir=work / f"pdd-{i}", timeout_s=1800, known_hosts=known_hosts_path(inv),
                control_dir=conns.control_dir(), forks=conns.forks()))
            wall, busy, ctl = time.monotonic() - started, cpu_busy_s() - busy, control_cpu_s() - ctl
            if not result.ok:
                raise RuntimeError(f"repoint failed: {[(t.task, t.msg[:200]) for t in result.failed_tasks]}")
            steps.append((wall, result, busy, ctl))
        timed_logins = bastion_logins(bed) - timed_from
    finally:
        conns.close()
        os.killpg(forward.pid, 15)
        forward.wait(timeout=30)
    walls = [w for w, *_ in steps[1:]]
    cores = statistics.median(b / w for w, _, b, _ in steps[1:])
    busy_s = statistics.median(b for _, _, b, _ in steps[1:])
    control_s = statistics.median(c for *_, c in steps[1:])
    return {"gateways": count, "hosts": hosts, "forks": conns.forks(),
            "first_s": steps[0][0], "walls": walls, "median_s": statistics.median(walls),
            "timed_logins": timed_logins,
            "busy_cores": cores, "busy_s": busy_s, "control_s": control_s,
            "all_logins": bastion_logins(bed) - logins_before,
            "profile": profile(steps[len(steps) // 2][1])}


def profile(result) -> list[tuple[str, float]]:
    """Each task's span in one repoint: its first start to its last end."""
    spans: dict[str, list[int]] = {}
    for t in result.tasks:
        s = spans.setdefault(t.task, [t.started_ns, t.ended_ns])
        s[0], s[1] = min(s[0], t.started_ns), max(s[1], t.ended_ns)
    return sorted(((task, (e - s) / 1e9) for task, (s, e) in spans.items()), key=lambda x: -x[1])


def render(args, small: dict, large: dict, load_before: str) -> str:
    ratio = large["median_s"] / small["median_s"]
    per_host = large["timed_logins"] / args.rounds / large["hosts"]
    verdict = "met" if ratio <= TARGET_RATIO else "**missed**"
    rows = [f"| {s['gateways']} gateways on {s['hosts']} hosts | {s['forks']} | {s['first_s']:.1f} s | "
            f"{' / '.join(f'{w:.1f}' for w in s['walls'])} s | {s['median_s']:.1f} s | {s['timed_logins']} | "
            f"{s['all_logins']} | {s['busy_cores']:.2f} of {os.cpu_count()} | {s['busy_s']:.1f} s | "
            f"{s['control_s']:.1f} s |" for s in (small, large)]
    prof = "\n".join(f"| {task} | {span:.1f} s | {span / large['gateways']:.2f} s |"
                     for task, span in large["profile"][:6])
    return (
        f"## P11: SSH fan-out, {large['gateways']} gateways on {large['hosts']} hosts behind one bastion\n\n"
        + __doc__.split("\n\n", 1)[1].split("    sudo")[0].strip()
        + f"\n\nReproduce: `sudo .venv/bin/python bench/p11_fanout.py`. Load average before: "
        f"{load_before}; after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}.\n\n"
        "| size | forks | first repoint | timed repoints | median | bastion logins (timed) "
        "| bastion logins (all) | CPU busy during the step (cores) | CPU seconds, whole machine "
        "| of which the control side |\n|---|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows)
        + f"\n\nRatio large/small: **{ratio:.2f}×** against ≤ {TARGET_RATIO}× ({verdict}). "
        f"Bastion logins during the timed repoints: {large['timed_logins']} for {args.rounds} rounds "
        f"on {large['hosts']} hosts ({per_host:.2f} per host per step).\n\n"
        "Where the large step's time goes (one timed repoint, each task from its first start to "
        "its last end):\n\n| task | span | per gateway |\n|---|---|---|\n" + prof + "\n"
    )


if __name__ == "__main__":
    sys.exit(main())
