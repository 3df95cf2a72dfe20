"""A test bed of real Linux hosts: network namespaces, veth links, routes and OpenSSH.

Hosts (one namespace each, unique prefix per bed):

    gw       the firm's gateway host (runs the gateway program)
    ct, cu   the carrier routers; each owns one line (`line0`, its firm-facing interface)
    ft, nf   the SSCC centres (service addresses on lo), joined by a backbone link
    bastion  the jump host; the only host the operations host (root namespace) reaches

Data network, 198.18.0.0/16 (fixed, never visible outside the bed's namespaces):

    gw ct0 198.18.1.1/30 ── 198.18.1.2 line0 [ct] ft0 198.18.11.1 ── 198.18.11.2 [ft]
    gw cu0 198.18.2.1/30 ── 198.18.2.2 line0 [cu] nf0 198.18.12.1 ── 198.18.12.2 [nf]
    ft bb0 198.18.20.1/30 ── 198.18.20.2 [nf]            (SSCC backbone)
    FT services 198.18.101.{30,60,70}, NF services 198.18.102.{30,60,70}

gw prefers CT for FT (metric 10, CU metric 20) and CU for NF. Every namespace sets
`ignore_routes_with_linkdown`, so when a router takes its line down (`ip link set line0
down`) the gateway host's route through it goes linkdown and the kernel uses the backup.

Management network, 198.19.N.0/24 (N picked free per bed): the root namespace reaches
the bastion on a point-to-point link (198.19.N.1 ↔ .2); the bastion bridges a LAN
198.19.N.128/25 to every host's `mgmt0`. The bastion does not forward, so every other
host is reached only through it (ProxyJump / direct-tcpip). Cutting a data line never
touches the management network.

Extended bed (`build(root, extended=True)`, for the vendor gateway of tests/hostbed/vendorgw):

    gw2      a second gateway host behind the same lines: its ct0/cu0 are macvlans on gw's
             ct0/cu0 (198.18.1.5/30 ↔ ct 198.18.1.6, 198.18.2.5/30 ↔ cu 198.18.2.6), so a
             line taken down on its router takes both hosts' routes down. Its sshd, and so
             every command run over SSH on it, runs under libfaketime (`SKEW`, e.g. +2.5 s).
    bj       the Beijing centre (services 198.18.103.{30,60,70}), on the SSCC backbone
             behind FT (bb1 198.18.21.0/30) and NF (bb2 198.18.22.0/30), so reached
             through either line.
    sat      the satellite market-data broadcast: a bridge `sat` on ft (198.18.30.1/24)
             with gw's and gw2's `sat0` (198.18.30.2, .3); FT's centre sends every tick to
             the multicast group `SAT_GROUP` on it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

SSHD = "/usr/sbin/sshd"
HOSTS = ("bastion", "gw", "ct", "cu", "ft", "nf")
ROUTERS = ("ct", "cu", "ft", "nf")  # forward packets
CENTRE_NET = {"FT": "198.18.101", "NF": "198.18.102"}
CENTRE_HOST = {"FT": "ft", "NF": "nf"}
SERVICE_HOSTS = {"trading": 30, "market_data": 60, "settlement": 70}
# The extended bed (build(extended=True)): a clock-skewed second gateway host, Beijing, satellite.
EXTENDED_HOSTS = ("gw2", "bj")
BJ_NET = "198.18.103"
SAT_GROUP = ("239.18.30.1", 7400)
SAT_ADDRESS = {"ft": "198.18.30.1", "gw": "198.18.30.2", "gw2": "198.18.30.3"}
SKEW = "+2.5s"  # libfaketime's FAKETIME for gw2
SKEW_NS = 2_500_000_000
FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"


class BedError(RuntimeError):
    """The test bed could not be built or torn down."""


def run(*args: str, check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess:
    proc = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise BedError(f"{' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc


def wait_for(condition, timeout: float, what: str, period: float = 0.05):
    """Poll `condition` until it returns a truthy value or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise BedError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(period)


@dataclass(frozen=True)
class BedHost:
    name: str
    netns: str
    mgmt_address: str
    dir: Path

    @property
    def host_key_pub(self) -> Path:
        return self.dir / "ssh_host_ed25519_key.pub"


@dataclass
class HostBed:
    """A built bed; `teardown()` removes every namespace and process it made."""

    prefix: str
    root: Path
    mgmt_net: str  # "198.19.N"
    hosts: dict[str, BedHost] = field(default_factory=dict)
    procs: list[subprocess.Popen] = field(default_factory=list)
    root_iface: str = ""
    exchanges: tuple[int, ...] = ()  # ports the centre responders listen on
    centres: Path | None = None  # the inventory the centres' exchanges serve
    extended: bool = False  # gw2 (skewed clock), bj and the satellite link (see the module doc)

    # -- paths -----------------------------------------------------------------
    @property
    def client_key(self) -> Path:
        return self.root / "id_ed25519"

    @property
    def bastion_address(self) -> str:
        return f"{self.mgmt_net}.2"

    def host(self, name: str) -> BedHost:
        return self.hosts[name]

    def ns(self, name: str) -> str:
        return self.hosts[name].netns if name in self.hosts else f"{self.prefix}-{name}"

    # -- commands inside the bed ---------------------------------------------------
    def exec(self, host: str, *args: str, check: bool = True, timeout: float = 30):
        return run("ip", "netns", "exec", self.ns(host), *args, check=check, timeout=timeout)

    def spawn(self, host: str, args: Sequence[str], log: Path, env: dict | None = None) -> subprocess.Popen:
        """Start a long-running process in a host's namespace, in its own process group."""
        out = open(log, "ab")  # noqa: SIM115 - handed to the child
        try:
            proc = subprocess.Popen(["ip", "netns", "exec", self.ns(host), *args], stdout=out,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True, env=env)
        finally:
            out.close()
        self.procs.append(proc)
        return proc

    def known_hosts_lines(self) -> list[str]:
        """OpenSSH known_hosts lines for every host (what a trusted enrolment writes)."""
        lines = []
        for h in self.hosts.values():
            kind, blob = h.host_key_pub.read_text().split()[:2]
            lines.append(f"{h.mgmt_address} {kind} {blob}")
        return lines

    def regenerate_host_key(self, name: str) -> None:
        """Give a host a new host key (what a rebuilt or impersonated host looks like)."""
        h = self.hosts[name]
        key = h.dir / "ssh_host_ed25519_key"
        key.unlink()
        h.host_key_pub.unlink()
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"{name}-rotated", "-f", str(key))
        # sshd reads host keys at start: restart this host's sshd.
        for proc in list(self.procs):
            if proc.args[3] == h.netns and SSHD in proc.args:
                _kill_group(proc)
                self.procs.remove(proc)
        self._start_sshd(h)

    def start_exchanges(self, ports: Sequence[int] = (7043, 7044, 7013, 7015)) -> None:
        """Run the minimal responder (exchange.py) on every centre's service addresses."""
        import sys

        if self.exchanges:
            return
        self.exchanges = tuple(ports)
        script = Path(__file__).with_name("exchange.py")
        for centre, net in CENTRE_NET.items():
            host = CENTRE_HOST[centre]
            eps = [f"{net}.{last}:{port}" for last in SERVICE_HOSTS.values() for port in ports]
            self.spawn(host, [sys.executable, str(script), centre, *eps], self.root / f"exchange-{centre}.log")
            first = eps[0].rsplit(":", 1)
            wait_for(lambda h=host, a=first: _listening(self.ns(h), a[0], int(a[1])), 15, f"exchange on {host}")

    def start_centres(self, inventory: Path) -> None:
        """Run the lab's exchange (tests/hostbed/centre.py) on the FT and NF hosts (once per bed)."""
        import sys

        if self.centres is not None:
            return
        self.centres = inventory
        script = Path(__file__).with_name("centre.py")
        # The extended bed adds Beijing, and FT broadcasts the satellite feed.
        hosts = {**CENTRE_HOST, **({"BJ": "bj"} if self.extended else {})}
        nets = {**CENTRE_NET, "BJ": BJ_NET}
        for centre, host in hosts.items():
            truth = self.root / f"truth-{centre}.jsonl"
            mcast = ([f"{SAT_GROUP[0]}:{SAT_GROUP[1]}@{SAT_ADDRESS['ft']}"]
                     if self.extended and centre == "FT" else [])
            self.spawn(host, [sys.executable, str(script), str(inventory), centre, str(truth), *mcast],
                       self.root / f"centre-{centre}.log")
            addr = f"{nets[centre]}.{SERVICE_HOSTS['trading']}"
            wait_for(lambda h=host, a=addr: _listening(self.ns(h), a, 7043), 20, f"exchange on {host}")

    # -- teardown --------------------------------------------------------------------
    def teardown(self) -> list[str]:
        """Remove everything; returns what could not be removed (empty when clean)."""
        problems: list[str] = []
        for proc in reversed(self.procs):
            _kill_group(proc)
        self.procs.clear()
        for name in (*HOSTS, *EXTENDED_HOSTS):
            ns = self.ns(name)
            if not _netns_exists(ns):
                continue
            for pid in _netns_pids(ns):
                _kill_pid(pid)
            if _netns_pids(ns):
                problems.append(f"processes left in {ns}: {_netns_pids(ns)}")
            if run("ip", "netns", "del", ns, check=False).returncode != 0:
                problems.append(f"could not delete namespace {ns}")
        if self.root_iface and run("ip", "link", "show", self.root_iface, check=False).returncode == 0:
            run("ip", "link", "del", self.root_iface, check=False)
        return problems + leftovers(self.prefix)

    # -- building ----------------------------------------------------------------------
    def _start_sshd(self, h: BedHost) -> None:
        cfg = h.dir / "sshd_config"
        env = {**os.environ, **_skew_env_of(h)} if h.name == "gw2" else None
        self.spawn(h.name, [SSHD, "-D", "-e", "-f", str(cfg)], h.dir / "sshd.log", env=env)
        wait_for(lambda: _listening(h.netns, h.mgmt_address, 22), 15, f"sshd on {h.name}")


def leftovers(prefix: str) -> list[str]:
    """Anything of a bed with this prefix still present: namespaces, links."""
    found = [f"namespace {n}" for n in _netns_list() if n.startswith(prefix + "-")]
    links = run("ip", "-o", "link", "show", check=False).stdout
    found += [f"link {ln.split(':')[1].strip()}" for ln in links.splitlines() if f" {prefix}" in ln]
    return found


def build(root: Path, start_sshd: bool = True, extended: bool = False) -> HostBed:
    """Create the bed under `root` (keys, configs, logs). Tears down what it made on failure."""
    root.mkdir(parents=True, exist_ok=True)
    prefix = "dh" + secrets.token_hex(3)
    bed = HostBed(prefix=prefix, root=root, mgmt_net=_free_mgmt_net(), extended=extended)
    try:
        _build(bed, start_sshd)
    except BaseException:
        bed.teardown()
        raise
    return bed


def skew_env() -> dict[str, str]:
    """The environment that runs a program under libfaketime with the bed's skew."""
    return {"LD_PRELOAD": FAKETIME_LIB, "FAKETIME": SKEW, "FAKETIME_DONT_FAKE_MONOTONIC": "1"}


def _build(bed: HostBed, start_sshd: bool) -> None:
    names = HOSTS + (EXTENDED_HOSTS if bed.extended else ())
    for i, name in enumerate(names):
        # The operations host reaches the bastion on its point-to-point address.
        addr = bed.bastion_address if name == "bastion" else f"{bed.mgmt_net}.{129 + i}"
        hdir = bed.root / name
        hdir.mkdir(parents=True, exist_ok=True)
        bed.hosts[name] = BedHost(name, f"{bed.prefix}-{name}", addr, hdir)
        run("ip", "netns", "add", bed.ns(name))
        bed.exec(name, "ip", "link", "set", "lo", "up")
        for key in ("all", "default"):
            bed.exec(name, "sysctl", "-qw", f"net.ipv4.conf.{key}.ignore_routes_with_linkdown=1")
            bed.exec(name, "sysctl", "-qw", f"net.ipv4.conf.{key}.rp_filter=0")
        if name in ROUTERS or name == "bj":
            bed.exec(name, "sysctl", "-qw", "net.ipv4.ip_forward=1")

    # Management: root <-> bastion, then the bastion's LAN bridge to every host.
    bed.root_iface = f"{bed.prefix}o"
    run("ip", "link", "add", bed.root_iface, "type", "veth", "peer", "name", "ops0",
        "netns", bed.ns("bastion"))
    run("ip", "addr", "add", f"{bed.mgmt_net}.1/30", "dev", bed.root_iface)
    run("ip", "link", "set", bed.root_iface, "up")
    _ns_addr(bed, "bastion", "ops0", f"{bed.mgmt_net}.2/30")
    run("ip", "-n", bed.ns("bastion"), "link", "add", "mgmt0", "type", "bridge")
    _ns_addr(bed, "bastion", "mgmt0", f"{bed.mgmt_net}.129/25")
    for name in names[1:]:
        port = f"m-{name}"
        run("ip", "link", "add", "mgmt0", "netns", bed.ns(name), "type", "veth", "peer", "name", port,
            "netns", bed.ns("bastion"))
        run("ip", "-n", bed.ns("bastion"), "link", "set", port, "master", "mgmt0", "up")
        _ns_addr(bed, name, "mgmt0", f"{bed.hosts[name].mgmt_address}/25")

    # Data: the lines, the router uplinks and the SSCC backbone.
    _link(bed, "gw", "ct0", "198.18.1.1/30", "ct", "line0", "198.18.1.2/30")
    _link(bed, "gw", "cu0", "198.18.2.1/30", "cu", "line0", "198.18.2.2/30")
    _link(bed, "ct", "ft0", "198.18.11.1/30", "ft", "ct0", "198.18.11.2/30")
    _link(bed, "cu", "nf0", "198.18.12.1/30", "nf", "cu0", "198.18.12.2/30")
    _link(bed, "ft", "bb0", "198.18.20.1/30", "nf", "bb0", "198.18.20.2/30")
    for centre, net in CENTRE_NET.items():
        for last in SERVICE_HOSTS.values():
            bed.exec(CENTRE_HOST[centre], "ip", "addr", "add", f"{net}.{last}/32", "dev", "lo")
    routes = {
        "gw": [("198.18.101.0/24", "198.18.1.2", 10), ("198.18.101.0/24", "198.18.2.2", 20),
               ("198.18.102.0/24", "198.18.2.2", 10), ("198.18.102.0/24", "198.18.1.2", 20)],
        "ct": [("198.18.101.0/24", "198.18.11.2", 10), ("198.18.102.0/24", "198.18.11.2", 10)],
        "cu": [("198.18.102.0/24", "198.18.12.2", 10), ("198.18.101.0/24", "198.18.12.2", 10)],
        "ft": [("198.18.1.0/30", "198.18.11.1", 10), ("198.18.2.0/30", "198.18.20.2", 10),
               ("198.18.102.0/24", "198.18.20.2", 10)],
        "nf": [("198.18.2.0/30", "198.18.12.1", 10), ("198.18.1.0/30", "198.18.20.1", 10),
               ("198.18.101.0/24", "198.18.20.1", 10)],
    }
    for host, entries in routes.items():
        for prefix, via, metric in entries:
            bed.exec(host, "ip", "route", "append", prefix, "via", via, "metric", str(metric))
    if bed.extended:
        from hostbed.bed_extended import build_extended

        build_extended(bed)

    # SSH: one client key, one host key and sshd per host.
    run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "drill-hostbed", "-f", str(bed.client_key))
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    authorized = bed.root / "authorized_keys"
    authorized.write_text(bed.client_key.with_suffix(".pub").read_text())
    for h in bed.hosts.values():
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", h.name, "-f",
            str(h.dir / "ssh_host_ed25519_key"))
        (h.dir / "sshd_config").write_text(_SSHD_CONFIG.format(
            address=h.mgmt_address + (f"\nListenAddress {bed.mgmt_net}.129" if h.name == "bastion" else ""),
            dir=h.dir, authorized=authorized,
            forwarding="yes") + (_skew_setenv(h) if h.name == "gw2" else ""))
        if start_sshd:
            bed._start_sshd(h)


def _skew_env_of(h: BedHost) -> dict[str, str]:
    from hostbed.bed_extended import skew_env_of

    return skew_env_of(h)


def _skew_setenv(h: BedHost) -> str:
    from hostbed.bed_extended import skew_setenv

    return skew_setenv(h)


_SSHD_CONFIG = """\
# drill test bed: key authentication only, on the management address only.
ListenAddress {address}
Port 22
HostKey {dir}/ssh_host_ed25519_key
PidFile {dir}/sshd.pid
AuthorizedKeysFile {authorized}
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
AllowTcpForwarding {forwarding}
X11Forwarding no
PrintMotd no
MaxStartups 50:30:100
MaxSessions 50
Subsystem sftp internal-sftp
LogLevel VERBOSE
"""



def _ns_addr(bed: HostBed, host: str, iface: str, cidr: str) -> None:
    bed.exec(host, "ip", "addr", "add", cidr, "dev", iface)
    bed.exec(host, "ip", "link", "set", iface, "up")


def _link(bed: HostBed, a: str, ifa: str, addr_a: str, b: str, ifb: str, addr_b: str) -> None:
    run("ip", "link", "add", ifa, "netns", bed.ns(a), "type", "veth", "peer", "name", ifb,
        "netns", bed.ns(b))
    _ns_addr(bed, a, ifa, addr_a)
    _ns_addr(bed, b, ifb, addr_b)


def _free_mgmt_net() -> str:
    used = run("ip", "-4", "-o", "addr", "show").stdout + run("ip", "-4", "route", "show").stdout
    for _ in range(200):
        n = secrets.randbelow(250) + 1
        if f"198.19.{n}." not in used:
            return f"198.19.{n}"
    raise BedError("no free 198.19.N.0/24 management network")


def _netns_list() -> list[str]:
    out = run("ip", "netns", "list", check=False).stdout
    return [ln.split()[0] for ln in out.splitlines() if ln.strip()]


def _netns_exists(ns: str) -> bool:
    return ns in _netns_list()


def _netns_pids(ns: str) -> list[int]:
    out = run("ip", "netns", "pids", ns, check=False).stdout
    return [int(p) for p in out.split()]


def _listening(ns: str, address: str, port: int) -> bool:
    out = run("ip", "netns", "exec", ns, "ss", "-Hltn", check=False).stdout
    return f"{address}:{port} " in out


def _kill_group(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def _kill_pid(pid: int) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        try:
            wait_for(lambda: not _alive(pid), 3, f"pid {pid} to exit")
            return
        except BedError:
            continue


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie child of ours counts as gone once reaped elsewhere; check state.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def tools_missing() -> list[str]:
    return [t for t in ("ip", "ssh", "ssh-keygen", "ss", "sysctl") if shutil.which(t) is None] + (
        [] if Path(SSHD).exists() else ["sshd"])
