"""Real hosts over SSH: who they are, how to reach them, and which host keys we trust.

The SSH view of an inventory comes from ordinary Ansible host variables:
`ansible_host`, `ansible_port`, `ansible_user`, `ansible_ssh_private_key_file`, plus
`drill_ssh_via` (the inventory host to jump through, i.e. the bastion) and
`ssh_host_fingerprints` (the `SHA256:…` fingerprints the firm's records give for the
host). Trusted host keys live in the inventory's managed known_hosts file,
`<inventory folder>/known_hosts` (see docs/real-hosts.md); drill and Ansible both use it
with strict checking, and only `drill hosts trust` writes it.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestrator.errors import DrillError, InputError, Problem, RefusedError

if TYPE_CHECKING:  # paramiko is imported only where SSH is really used
    import paramiko

    from orchestrator.adapters.ssh import SshPool, SshSupplier

KNOWN_HOSTS_NAME = "known_hosts"


class HostKeyUnknown(RefusedError):
    """A host presented a key that is not in the inventory's known_hosts."""


class HostKeyChanged(RefusedError):
    """A host presented a key different from the one trusted for it."""


class HostUnreachable(DrillError):
    """A host could not be reached or logged in to over SSH."""


@dataclass(frozen=True)
class SshHost:
    name: str
    address: str
    port: int = 22
    user: str = "root"
    key_file: Path | None = None
    via: str | None = None  # inventory name of the jump host
    fingerprints: tuple[str, ...] = ()

    @property
    def known_hosts_name(self) -> str:
        """The host's name as OpenSSH writes it in known_hosts."""
        return self.address if self.port == 22 else f"[{self.address}]:{self.port}"

    def describe(self) -> str:
        via = f" via {self.via}" if self.via else ""
        return f"{self.name} ({self.address}:{self.port}{via})"


@dataclass(frozen=True)
class SshTopology:
    """Every SSH-reachable host of an inventory, and its managed known_hosts file."""

    hosts: Mapping[str, SshHost]
    known_hosts: Path

    def host(self, name: str) -> SshHost:
        try:
            return self.hosts[name]
        except KeyError:
            raise InputError(Problem("", None, "host", f"unknown host {name!r}; expected one of: "
                                     f"{', '.join(sorted(self.hosts)) or 'none'}")) from None

    def chain(self, name: str) -> list[SshHost]:
        """Jump hosts first, the host last: bastion → … → host."""
        out: list[SshHost] = []
        current: str | None = name
        while current is not None:
            h = self.host(current)
            if h in out:
                raise InputError(Problem("", None, f"{name}.drill_ssh_via", "jump hosts form a loop"))
            out.insert(0, h)
            current = h.via
        return out


# -- inventory -----------------------------------------------------------------------------

def known_hosts_path(inventory_path: Path) -> Path:
    """The managed known_hosts of an inventory: next to its hosts.yml."""
    folder = inventory_path if inventory_path.is_dir() else inventory_path.parent
    return folder / KNOWN_HOSTS_NAME


def load_topology(inventory_path: str | Path) -> SshTopology:
    """Read the SSH hosts (those with `ansible_host` and not a local connection).

    Each host's variables are the ones Ansible gives it (orchestrator.config.ansible_inventory:
    inventory file, group_vars/, host_vars/, merged by Ansible). Simple `{{ var }}`
    references and `{{ inventory_dir }}` are resolved; vault values are never decrypted.
    """
    from orchestrator.config.ansible_inventory import read_inventory
    from orchestrator.config.inventory import main_file

    path = Path(inventory_path)
    source = read_inventory(path)
    file = str(main_file(path))
    hosts: dict[str, SshHost] = {}
    problems: list[Problem] = []
    known_hosts = known_hosts_path(path)
    for name, host in source.hosts.items():
        hv = _resolve({k: v for k, v in host.effective.items() if k != "drill"}, source.folder)
        if "drill_known_hosts" in hv:
            known_hosts = Path(os.path.expanduser(str(hv["drill_known_hosts"])))
        if hv.get("ansible_connection") == "local" or "ansible_host" not in hv:
            continue
        key = hv.get("ansible_ssh_private_key_file")
        fps = hv.get("ssh_host_fingerprints") or ()
        if isinstance(fps, str):
            fps = (fps,)
        bad = [f for f in fps if not str(f).startswith("SHA256:")]
        if bad:
            problems.append(Problem(file, None, f"{name}.ssh_host_fingerprints",
                                    f"expected SHA256:… fingerprints (ssh-keygen -lf), got {bad[0]!r}"))
        if "{{" in str(hv["ansible_host"]):
            problems.append(Problem(file, None, f"{name}.ansible_host",
                                    f"expected an address drill can resolve, got {hv['ansible_host']!r}"))
        hosts[name] = SshHost(
            name=name, address=str(hv["ansible_host"]), port=int(hv.get("ansible_port", 22)),
            user=str(hv.get("ansible_user", "root")),
            key_file=Path(os.path.expanduser(str(key))) if key else None,
            via=hv.get("drill_ssh_via"), fingerprints=tuple(str(f) for f in fps))
    for h in hosts.values():
        if h.via is not None and h.via not in hosts:
            problems.append(Problem(file, None, f"{h.name}.drill_ssh_via",
                                    f"expected an SSH host of the inventory, got {h.via!r}"))
    if problems:
        raise InputError(problems)
    return SshTopology(hosts=hosts, known_hosts=known_hosts)


_REF = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def _resolve(hv: Mapping[str, Any], folder: Path) -> dict[str, Any]:
    """Substitute `{{ name }}` references to other plain variables (a few rounds)."""
    scope = {**hv, "inventory_dir": str(folder)}
    out = dict(hv)
    for _ in range(5):
        changed = False
        for k, v in out.items():
            if isinstance(v, str) and "{{" in v:
                new = _REF.sub(lambda m: str(scope[m.group(1)]) if isinstance(scope.get(m.group(1)),
                                                                              (str, int)) else m.group(0), v)
                if new != v:
                    out[k] = scope[k] = new
                    changed = True
        if not changed:
            break
    return out


# -- fingerprints and known_hosts ------------------------------------------------------------

def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH's SHA256 fingerprint, as `ssh-keygen -lf` prints it."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def load_known_hosts(path: Path) -> paramiko.HostKeys:
    import paramiko

    keys = paramiko.HostKeys()
    if path.exists():
        keys.load(str(path))
    return keys


def known_key(keys: paramiko.HostKeys, host: SshHost) -> paramiko.PKey | None:
    entry = keys.lookup(host.known_hosts_name)
    if not entry:
        return None
    return next(iter(entry.values()))


def unknown_message(host: SshHost, key: paramiko.PKey, known_hosts: Path) -> str:
    return (f"host {host.describe()} is not trusted: it presented {key.get_name()} key "
            f"{fingerprint(key)}, which is not in {known_hosts}. Check that fingerprint with "
            f"the host's owner, then run `drill hosts trust {host.name}`.")


def changed_message(host: SshHost, got: paramiko.PKey, expected: paramiko.PKey, known_hosts: Path) -> str:
    return (f"HOST KEY CHANGED for {host.describe()}: it presented {got.get_name()} key "
            f"{fingerprint(got)}, but {known_hosts} trusts {expected.get_name()} key "
            f"{fingerprint(expected)}. Refused: this may be someone impersonating the host. If the "
            f"host was rebuilt, confirm the new fingerprint and run `drill hosts trust {host.name}`.")


def write_known_hosts(path: Path, entries: Mapping[str, paramiko.PKey]) -> None:
    """Replace (or add) the given hosts' keys, keeping the other lines; atomic."""
    keep: list[str] = []
    if path.exists():
        for line in path.read_text().splitlines():
            names = line.split(" ", 1)[0].split(",") if line.strip() and not line.startswith("#") else []
            if not any(n in entries for n in names):
                keep.append(line)
    new = [f"{name} {key.get_name()} {key.get_base64()}" for name, key in sorted(entries.items())]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("\n".join([*keep, *new]) + "\n")
    tmp.chmod(0o644)
    os.replace(tmp, path)


# -- trust ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TrustDecision:
    host: str
    address: str
    key_type: str
    fingerprint: str
    previous: str | None  # fingerprint trusted before, if any
    status: str  # added | unchanged | replaced | rejected | mismatch | skipped (behind an untrusted jump host)


Confirm = Callable[[SshHost, str, str, str | None], bool]


def trust_hosts(topology: SshTopology, names: Iterable[str] | None = None, *,
                confirm: Confirm | None = None, from_inventory: bool = False,
                timeout_s: float = 10.0) -> list[TrustDecision]:
    """Enrol host keys into the managed known_hosts.

    Each host's key is read over SSH (through its jump hosts, which must be trusted
    first, so they are enrolled first). With `from_inventory` a key is accepted only when
    its fingerprint is among the host's `ssh_host_fingerprints`; otherwise `confirm(host,
    key_type, fingerprint, previous)` decides. Nothing is written when any host's
    fingerprint does not match the inventory.
    """
    from orchestrator.adapters.ssh import SshPool, fetch_host_key

    wanted = list(names) if names else sorted(topology.hosts)
    order: list[SshHost] = []
    for name in wanted:
        for h in topology.chain(name):
            if h not in order:
                order.append(h)
    trusted = load_known_hosts(topology.known_hosts)
    decisions: list[TrustDecision] = []
    accepted: dict[str, paramiko.PKey] = {}
    untrusted: set[str] = set()
    with SshPool(topology, host_keys=trusted) as pool:
        for h in order:
            if any(j.name in untrusted for j in topology.chain(h.name)[:-1]):
                # Behind a jump host we do not trust: its key cannot be read safely.
                untrusted.add(h.name)
                decisions.append(TrustDecision(h.name, h.known_hosts_name, "", "", None, "skipped"))
                continue
            key = fetch_host_key(pool, h, timeout_s)
            fp = fingerprint(key)
            old = known_key(trusted, h)
            previous = fingerprint(old) if old is not None else None
            if previous == fp:
                status = "unchanged"
            elif from_inventory:
                status = ("replaced" if previous else "added") if fp in h.fingerprints else "mismatch"
            elif confirm is not None and confirm(h, key.get_name(), fp, previous):
                status = "replaced" if previous else "added"
            else:
                status = "rejected"
            if status in ("added", "replaced"):
                # A replaced key must not linger: drop the host's other entries first.
                while trusted.lookup(h.known_hosts_name):
                    del trusted[h.known_hosts_name]
                trusted.add(h.known_hosts_name, key.get_name(), key)
                accepted[h.known_hosts_name] = key
            elif status in ("rejected", "mismatch"):
                untrusted.add(h.name)
            decisions.append(TrustDecision(h.name, h.known_hosts_name, key.get_name(), fp, previous, status))
    mismatches = [d for d in decisions if d.status == "mismatch"]
    if mismatches:
        raise HostKeyUnknown("\n".join(
            f"host {d.host} ({d.address}) presented {d.key_type} key {d.fingerprint}, which is not among its "
            f"ssh_host_fingerprints in the inventory ({', '.join(topology.hosts[d.host].fingerprints) or 'none given'})"
            "; nothing written" for d in mismatches))
    if accepted:
        write_known_hosts(topology.known_hosts, accepted)
    return decisions


# -- clock offset evidence ----------------------------------------------------------------------

@dataclass(frozen=True)
class ClockOffset:
    """How far a host's clock is from ours, and how well we know it."""

    host: str
    offset_ns: int  # host clock minus drill's clock
    uncertainty_ns: int  # half the round trip of the samples kept (estimate_offset)
    method: str  # session-min-delay
    measured_at_ns: int
    ntp: str | None = None  # chronyc/timedatectl summary, when the host has one

    def to_record(self) -> dict[str, Any]:
        from orchestrator.journal.chain import iso_ns

        return {"host": self.host, "offset_ms": self.offset_ns / 1e6,
                "uncertainty_ms": self.uncertainty_ns / 1e6, "method": self.method,
                "measured_at": iso_ns(self.measured_at_ns), "ntp": self.ntp}


_CHRONY = re.compile(r"System time\s*:\s*([\d.]+) seconds (fast|slow) of NTP time")


# One line in, the host's clock out, with no process started per sample: bash's
# $EPOCHREALTIME (bash >= 5), else `date` (a fork per sample: a little later, still inside
# the round trip, so the bound holds).
CLOCK_LOOP = ("exec bash -c 'while read -r _; do if [ -n \"$EPOCHREALTIME\" ]; "
              "then echo \"$EPOCHREALTIME\"; else date +%s.%N; fi; done' 2>/dev/null")
CLOCK_SAMPLES = 40
CLOCK_KEEP = 0.25  # the fraction of samples with the smallest round trip that count


@dataclass(frozen=True)
class OffsetEstimate:
    offset_ns: int  # the other clock minus ours
    uncertainty_ns: int  # half the best round trip, plus the other clock's resolution
    samples: int
    best_rtt_ns: int


def estimate_offset(ask: Callable[[], str], samples: int = CLOCK_SAMPLES,
                    keep: float = CLOCK_KEEP) -> OffsetEstimate:
    """NTP's rule over any request/answer channel: `ask` sends one request and returns
    the other clock's reading (seconds, `1733390000.123456`, or ns). Each sample brackets
    that reading between our send and our receive, so the true offset is within half the
    round trip of the midpoint; the samples with the smallest round trips (least queueing)
    count, their median offset is the estimate and half the best round trip its bound."""
    rows: list[tuple[int, int, int]] = []
    for _ in range(samples):
        before = time.time_ns()
        text = ask().strip()
        after = time.time_ns()
        remote, resolution = _clock_reading(text)
        rows.append((after - before, remote - (before + after) // 2, resolution))
    rows.sort()
    best = rows[:max(1, int(len(rows) * keep))]
    offsets = sorted(o for _, o, _ in best)
    median = offsets[len(offsets) // 2]
    # the median's own bracket: it lies within half the worst kept round trip of the truth
    rtt = max(r for r, _, _ in best)
    resolution = max(res for _, _, res in best)
    return OffsetEstimate(median, rtt // 2 + resolution, len(rows), rows[0][0])


def _clock_reading(text: str) -> tuple[int, int]:
    """(ns, resolution in ns) of `1733390000.123456` (seconds) or `1733390000123456789`."""
    if not re.fullmatch(r"\d+(\.\d+)?", text):
        raise ValueError(f"not a clock reading: {text!r}")
    if "." in text:
        whole, frac = text.split(".")
        digits = min(len(frac), 9)
        return int(whole) * 1_000_000_000 + int(frac[:9].ljust(9, "0")), 10 ** (9 - digits)
    return int(text), 1


def measure_clock_offset(pool: SshPool, host: str, samples: int = CLOCK_SAMPLES) -> ClockOffset:
    """The host's clock against ours over the host's already-open SSH connection: one
    channel, a shell loop that answers each line with the host's time (no process and no
    channel set up per sample), `estimate_offset` over the samples. The old estimate (one
    `date` per SSH exec) was biased by half an exec's asymmetric set-up (+72 ms ± 73 on a
    bed whose true offset is 0).

    Also records the host's own NTP view (chrony, else timedatectl) when it has one,
    because our offset says nothing about whether both clocks are right.
    """
    chan = pool.transport(host).open_session(timeout=pool.connect_timeout_s)
    try:
        chan.settimeout(10)
        chan.exec_command(CLOCK_LOOP)
        fh = chan.makefile("rb")

        def ask() -> str:
            chan.sendall(b"\n")
            line = fh.readline()
            if not line:
                raise HostUnreachable(f"host {host}: the clock loop ended")
            return line.decode(errors="replace")

        try:
            est = estimate_offset(ask, samples)
        except ValueError as e:
            raise HostUnreachable(f"host {host}: {e}") from None
    finally:
        chan.close()
    ntp = None
    chrony = pool.run(host, "chronyc tracking 2>/dev/null || timedatectl show 2>/dev/null", timeout_s=10)
    if chrony.stdout.strip():
        m = _CHRONY.search(chrony.stdout)
        if m:
            sign = 1 if m.group(2) == "fast" else -1
            ntp = f"chrony: {sign * float(m.group(1)) * 1e3:+.3f} ms from NTP"
        else:
            synced = re.search(r"NTPSynchronized=(\w+)", chrony.stdout)
            ntp = f"timedatectl: NTPSynchronized={synced.group(1)}" if synced else None
    return ClockOffset(host=host, offset_ns=est.offset_ns, uncertainty_ns=est.uncertainty_ns,
                       method="session-min-delay", measured_at_ns=time.time_ns(), ntp=ntp)


def record_clock_offsets(inventory_path: str | Path, dest: Path,
                         ssh: SshSupplier | None = None) -> list[dict[str, Any]]:
    """Measure every SSH host's clock offset and write them to `dest` (JSON); never raises.

    For a run's evidence: timings taken on several hosts (a router's fault task, a
    gateway's monitor) are only comparable within these offsets. A host that cannot be
    reached is recorded with its error. No SSH hosts (the lab): nothing is written. `ssh`:
    the run's pool supplier (adapters/run_ssh.py), else a pool of its own.
    """
    import json

    from orchestrator.adapters.ssh import pool_of

    try:
        topo = load_topology(inventory_path)
    except Exception as e:  # evidence collection must never break a run
        rows: list[dict[str, Any]] = [{"host": None, "error": f"{type(e).__name__}: {e}"}]
    else:
        if not topo.hosts:
            return []
        from orchestrator.adapters.router_hosts import network_routers, router_clock_row

        rows = []
        routers = network_routers(inventory_path)
        with pool_of(inventory_path, ssh) as pool:
            for name in sorted(topo.hosts):
                try:
                    rows.append(router_clock_row(pool, name, routers[name]) if name in routers
                                else measure_clock_offset(pool, name).to_record())
                except Exception as e:  # recorded, not raised
                    rows.append({"host": name, "error": f"{type(e).__name__}: {e}"})
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps({"clock_offsets": rows}, indent=2) + "\n", encoding="utf-8")
    return rows


@dataclass(frozen=True)
class MonitorForward:
    gateway: str
    host: str  # the gateway host that carries the connection on
    address: str
    port: int


def monitor_forwards(inventory_path: str | Path) -> list[MonitorForward]:
    """Gateways whose monitor listens on their SSH host's loopback: drill must forward them.

    Such a monitor (`monitor: {address: 127.0.0.1, port: P}` on a gateway host behind
    the bastion) is reachable only through that host; `drill hosts forward` listens on
    the same address and port locally, so the inventory's monitor address works for
    every drill command run meanwhile.
    """
    import ipaddress

    from orchestrator.config.inventory import load_inventory

    inv = load_inventory(inventory_path)
    topo = load_topology(inventory_path)
    out = []
    for g in inv.gateways:
        if g.observe == "host" or g.monitor is None:  # no monitor to forward: drill reads its log (observers.md)
            continue
        try:
            loopback = ipaddress.ip_address(g.monitor.address).is_loopback
        except ValueError:
            loopback = False
        if loopback and g.host in topo.hosts:
            out.append(MonitorForward(g.id, g.host, g.monitor.address, g.monitor.port))
    return out
