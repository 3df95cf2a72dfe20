"""SSH probes and evidence over paramiko: one long-lived connection per host, through the bastion.

Ansible (over OpenSSH) changes the hosts; this module only watches them. Host keys are
checked against the inventory's managed known_hosts (`orchestrator.hosts`): an unknown
key or a changed key is refused with a message naming the host and both fingerprints.

Kinds registered for the probe runtime: `ssh-command` (run a command, match its output),
`ssh-log` (follow a log file, read timestamps from its lines) and `ssh-tcp` (a TCP
connect made from a host, through a direct-tcpip channel).
"""

from __future__ import annotations

import asyncio
import queue
import re
import select
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import paramiko

from orchestrator.adapters.hosts import (
    HostKeyChanged,
    HostKeyUnknown,
    HostUnreachable,
    SshHost,
    SshTopology,
    changed_message,
    known_key,
    load_known_hosts,
    unknown_message,
)
from orchestrator.probes import Sample

_DEFAULT_KEYS = ("~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/id_rsa")


@dataclass(frozen=True)
class CommandResult:
    host: str
    command: str
    exit_status: int
    stdout: str
    stderr: str
    started_ns: int
    ended_ns: int


class SshPool:
    """One authenticated SSH transport per host, opened on first use and kept.

    A host with `via` is reached by a direct-tcpip channel over its jump host's
    transport (ProxyJump). Thread-safe: probes run in the probe runtime's thread.
    """

    def __init__(self, topology: SshTopology, host_keys: paramiko.HostKeys | None = None,
                 connect_timeout_s: float = 10.0) -> None:
        self.topology = topology
        self.host_keys = host_keys if host_keys is not None else load_known_hosts(topology.known_hosts)
        self.connect_timeout_s = connect_timeout_s
        self._transports: dict[str, paramiko.Transport] = {}
        self._lock = threading.RLock()

    def __enter__(self) -> SshPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            # Hosts behind a jump host first, so their channels close before the jump's transport.
            for name in sorted(self._transports, key=lambda n: -len(self.topology.chain(n))):
                self._transports.pop(name).close()

    # -- connections ------------------------------------------------------------------------
    def open_socket(self, host: SshHost) -> socket.socket | paramiko.Channel:
        """A byte stream to the host's SSH port: direct, or a channel through its jump host."""
        if host.via is None:
            try:
                return socket.create_connection((host.address, host.port), timeout=self.connect_timeout_s)
            except OSError as e:
                raise HostUnreachable(f"host {host.describe()}: cannot connect: {e}") from None
        return self.open_tcp(host.via, host.address, host.port)

    def open_tcp(self, via: str, address: str, port: int, timeout_s: float | None = None) -> paramiko.Channel:
        """A TCP connection made by host `via` to address:port (direct-tcpip)."""
        transport = self.transport(via)
        try:
            return transport.open_channel("direct-tcpip", (address, port), ("127.0.0.1", 0),
                                          timeout=timeout_s or self.connect_timeout_s)
        except (paramiko.ChannelException, paramiko.SSHException, EOFError, OSError) as e:
            raise HostUnreachable(f"{via} could not connect to {address}:{port}: {_reason(e)}") from None

    def transport(self, name: str) -> paramiko.Transport:
        with self._lock:
            t = self._transports.get(name)
            if t is not None and t.is_active():
                return t
            t = self._connect(self.topology.host(name))
            self._transports[name] = t
            return t

    def _connect(self, host: SshHost) -> paramiko.Transport:
        sock = self.open_socket(host)
        t = paramiko.Transport(sock)
        try:
            t.start_client(timeout=self.connect_timeout_s)
            self.verify(host, t.get_remote_server_key())
            t.auth_publickey(host.user, _private_key(host))
        except (HostKeyChanged, HostKeyUnknown):
            t.close()
            raise
        except (paramiko.SSHException, EOFError, OSError) as e:
            t.close()
            raise HostUnreachable(f"host {host.describe()}: SSH login as {host.user} failed: {_reason(e)}") from None
        t.set_keepalive(15)
        return t

    def verify(self, host: SshHost, key: paramiko.PKey) -> None:
        """Refuse unless the key is the one trusted for this host (RejectPolicy, with reasons)."""
        entry = self.host_keys.lookup(host.known_hosts_name)
        if entry and key.get_name() in entry and entry[key.get_name()] == key:
            return
        expected = known_key(self.host_keys, host)
        if expected is None:
            raise HostKeyUnknown(unknown_message(host, key, self.topology.known_hosts))
        raise HostKeyChanged(changed_message(host, key, expected, self.topology.known_hosts))

    # -- commands ---------------------------------------------------------------------------
    def run(self, name: str, command: str, timeout_s: float = 30.0) -> CommandResult:
        started = time.time_ns()
        chan = self.transport(name).open_session(timeout=self.connect_timeout_s)
        try:
            chan.exec_command(command)
            out, err = _drain(chan, time.monotonic() + timeout_s, f"{name}: {command}")
            status = chan.recv_exit_status()
        finally:
            chan.close()
        return CommandResult(name, command, status, out.decode(errors="replace"),
                             err.decode(errors="replace"), started, time.time_ns())


def fetch_host_key(pool: SshPool, host: SshHost, timeout_s: float = 10.0) -> paramiko.PKey:
    """The key a host presents, without trusting it (for `drill hosts trust`)."""
    sock = pool.open_socket(host)
    t = paramiko.Transport(sock)
    try:
        t.start_client(timeout=timeout_s)
        return t.get_remote_server_key()
    except (paramiko.SSHException, EOFError, OSError) as e:
        raise HostUnreachable(f"host {host.describe()}: no SSH handshake: {_reason(e)}") from None
    finally:
        t.close()


def _private_key(host: SshHost) -> paramiko.PKey:
    candidates = [host.key_file] if host.key_file else [Path(p).expanduser() for p in _DEFAULT_KEYS]
    for path in candidates:
        if path is not None and path.exists():
            return paramiko.PKey.from_path(path)
    raise HostUnreachable(f"host {host.describe()}: no private key (set ansible_ssh_private_key_file)")


def _drain(chan: paramiko.Channel, deadline: float, what: str) -> tuple[bytes, bytes]:
    out, err = bytearray(), bytearray()
    while True:
        while chan.recv_ready():
            out += chan.recv(65536)
        while chan.recv_stderr_ready():
            err += chan.recv_stderr(65536)
        idle = not chan.recv_ready() and not chan.recv_stderr_ready()
        if chan.exit_status_ready() and idle and (chan.eof_received or chan.closed):
            return bytes(out), bytes(err)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"{what}: no exit after the timeout")
        select.select([chan], [], [], min(remaining, 0.2))


def _reason(e: BaseException) -> str:
    if isinstance(e, paramiko.ChannelException):
        return {1: "administratively prohibited", 2: "connect failed", 3: "unknown channel type",
                4: "resource shortage"}.get(e.code, f"channel error {e.code}")
    return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__


# -- port forwarding ------------------------------------------------------------------------------

class SshForward:
    """A local listener whose connections host `via` carries on to address:port (ssh -L).

    For endpoints only reachable behind the bastion, such as a gateway's monitor port on
    its gateway host: HTTP probes and event streams connect to the local end.
    """

    def __init__(self, pool: SshPool, via: str, remote: tuple[str, int],
                 local: tuple[str, int] = ("127.0.0.1", 0)) -> None:
        self.pool, self.via, self.remote = pool, via, remote
        self._listener = socket.create_server(local, reuse_port=False)
        self._closing = threading.Event()
        self._threads: list[threading.Thread] = []
        self._open: set[Any] = set()
        self._lock = threading.Lock()

    @property
    def local(self) -> tuple[str, int]:
        return self._listener.getsockname()[:2]

    def start(self) -> SshForward:
        t = threading.Thread(target=self._accept, name=f"ssh-forward {self.via}", daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def _accept(self) -> None:
        while not self._closing.is_set():
            ready, _, _ = select.select([self._listener], [], [], 0.2)
            if not ready:
                continue
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            t = threading.Thread(target=self._pump, args=(conn,), daemon=True)
            t.start()
            self._threads.append(t)

    def _pump(self, conn: socket.socket) -> None:
        try:
            chan = self.pool.open_tcp(self.via, *self.remote)
        except (HostUnreachable, HostKeyChanged, HostKeyUnknown):
            conn.close()  # the client sees a reset, as with an unreachable port
            return
        with self._lock:
            self._open.update((conn, chan))
        try:
            while not self._closing.is_set():
                ready, _, _ = select.select([conn, chan], [], [], 0.2)
                if conn in ready:
                    data = conn.recv(65536)
                    if not data:
                        break
                    chan.sendall(data)
                if chan in ready:
                    data = chan.recv(65536)
                    if not data:
                        break
                    conn.sendall(data)
        except (OSError, EOFError, paramiko.SSHException):
            pass
        finally:
            chan.close()
            conn.close()
            with self._lock:
                self._open.difference_update((conn, chan))

    def close(self) -> None:
        self._closing.set()
        self._listener.close()
        with self._lock:
            for item in list(self._open):
                item.close()
        for t in self._threads:
            t.join(timeout=2)


# -- log following ------------------------------------------------------------------------------

_ISO = re.compile(r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:[.,](\d{1,9}))?\s?(Z|[+-]\d{2}:?\d{2})?")


def parse_line_time(line: str, tz: str = "UTC") -> int | None:
    """Unix ns of the first ISO-8601-like timestamp in a log line (no zone: `tz`)."""
    m = _ISO.search(line)
    if not m:
        return None
    day, clock, frac, zone = m.groups()
    if zone in (None, "Z"):
        zinfo: Any = ZoneInfo("UTC" if zone == "Z" else tz)
        dt = datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=zinfo)
    else:
        dt = datetime.fromisoformat(f"{day}T{clock}{zone[:3]}:{zone[-2:]}")
    return int(dt.timestamp()) * 1_000_000_000 + int((frac or "0").ljust(9, "0"))


@dataclass(frozen=True)
class LogLine:
    host: str
    path: str
    text: str
    ts_ns: int | None  # from the line itself, on the host's clock
    received_ns: int  # when drill read it


@dataclass
class SshLogFollower:
    """`tail -F` of a file on a host, over the host's long-lived connection."""

    pool: SshPool
    host: str
    path: str
    from_start: bool = False
    tz: str = "UTC"
    lines: queue.Queue = field(default_factory=queue.Queue)
    _chan: paramiko.Channel | None = None
    _thread: threading.Thread | None = None

    def start(self) -> SshLogFollower:
        chan = self.pool.transport(self.host).open_session(timeout=self.pool.connect_timeout_s)
        start = "+1" if self.from_start else "0"
        chan.exec_command(f"exec tail -n {start} -F -- {_quote(self.path)} 2>/dev/null")
        self._chan = chan
        self._thread = threading.Thread(target=self._read, name=f"ssh-log {self.host}", daemon=True)
        self._thread.start()
        return self

    def _read(self) -> None:
        assert self._chan is not None
        buf = b""
        while True:
            try:
                data = self._chan.recv(65536)
            except (OSError, EOFError, paramiko.SSHException):
                data = b""
            if not data:
                self.lines.put(None)
                return
            buf += data
            *complete, buf = buf.split(b"\n")
            for raw in complete:
                text = raw.decode(errors="replace").rstrip("\r")
                self.lines.put(LogLine(self.host, self.path, text, parse_line_time(text, self.tz), time.time_ns()))

    def wait_for(self, pattern: str, timeout_s: float) -> LogLine | None:
        """The next line matching `pattern` (regex), or None at the deadline."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            try:
                line = self.lines.get(timeout=remaining) if remaining > 0 else self.lines.get_nowait()
            except queue.Empty:
                return None
            if line is None:
                return None
            if rx.search(line.text):
                return line

    def close(self) -> None:
        if self._chan is not None:
            self._chan.close()
        if self._thread is not None:
            self._thread.join(timeout=5)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


# -- probe kinds --------------------------------------------------------------------------------

@dataclass
class SshCommandProbe:
    """`ssh-command`: ok when the command exits 0 and its output matches `expect` (regex)."""

    pool: SshPool
    host: str
    command: str
    expect: str | None = None
    timeout_s: float = 10.0
    kind: str = "ssh-command"

    @property
    def target(self) -> str:
        return f"{self.host}:{self.command}"

    def sample_sync(self) -> Sample:
        t_ns, mono = time.time_ns(), time.monotonic_ns()
        try:
            res = self.pool.run(self.host, self.command, self.timeout_s)
        except (HostUnreachable, HostKeyChanged, HostKeyUnknown, TimeoutError, paramiko.SSHException) as e:
            return Sample(self.kind, self.target, t_ns, mono, False, _ms(mono), None, str(e))
        value = {"exit_status": res.exit_status, "stdout": res.stdout[-4000:], "stderr": res.stderr[-2000:]}
        if res.exit_status != 0:
            return Sample(self.kind, self.target, t_ns, mono, False, _ms(mono), value,
                          f"exit status {res.exit_status}")
        if self.expect is not None and not re.search(self.expect, res.stdout):
            return Sample(self.kind, self.target, t_ns, mono, False, _ms(mono), value,
                          f"output does not match {self.expect!r}")
        return Sample(self.kind, self.target, t_ns, mono, True, _ms(mono), value)

    async def sample(self) -> Sample:
        return await asyncio.to_thread(self.sample_sync)


@dataclass
class SshTcpProbe:
    """`ssh-tcp`: a TCP connect to address:port made by host `via` (default: the bastion)."""

    pool: SshPool
    address: str
    port: int
    via: str = "bastion"
    timeout_s: float = 5.0
    kind: str = "ssh-tcp"

    @property
    def target(self) -> str:
        return f"{self.address}:{self.port} via {self.via}"

    def sample_sync(self) -> Sample:
        t_ns, mono = time.time_ns(), time.monotonic_ns()
        try:
            chan = self.pool.open_tcp(self.via, self.address, self.port, self.timeout_s)
        except (HostUnreachable, HostKeyChanged, HostKeyUnknown) as e:
            return Sample(self.kind, self.target, t_ns, mono, False, _ms(mono), None, str(e))
        latency = _ms(mono)
        chan.close()
        return Sample(self.kind, self.target, t_ns, mono, True, latency)

    async def sample(self) -> Sample:
        return await asyncio.to_thread(self.sample_sync)


@dataclass
class SshLogProbe:
    """`ssh-log`: ok once a line matching `pattern` appeared; value carries its timestamp."""

    pool: SshPool
    host: str
    path: str
    pattern: str
    tz: str = "UTC"
    kind: str = "ssh-log"
    _follower: SshLogFollower | None = None
    _match: LogLine | None = None

    @property
    def target(self) -> str:
        return f"{self.host}:{self.path}"

    def sample_sync(self) -> Sample:
        t_ns, mono = time.time_ns(), time.monotonic_ns()
        try:
            if self._follower is None:
                self._follower = SshLogFollower(self.pool, self.host, self.path, tz=self.tz).start()
        except (HostUnreachable, HostKeyChanged, HostKeyUnknown, paramiko.SSHException) as e:
            return Sample(self.kind, self.target, t_ns, mono, False, _ms(mono), None, str(e))
        if self._match is None:
            self._match = self._follower.wait_for(self.pattern, 0.0)
        line = self._match
        if line is None:
            return Sample(self.kind, self.target, t_ns, mono, False, _ms(mono), None, "no matching line yet")
        return Sample(self.kind, self.target, t_ns, mono, True, _ms(mono),
                      {"line": line.text, "ts_ns": line.ts_ns, "received_ns": line.received_ns})

    async def sample(self) -> Sample:
        return await asyncio.to_thread(self.sample_sync)

    def close(self) -> None:
        if self._follower is not None:
            self._follower.close()


def _ms(mono: int) -> float:
    return (time.monotonic_ns() - mono) / 1e6


def register(registry: Any) -> None:
    """Add the SSH kinds to a probe registry; their factories need `pool=SshPool(...)`."""
    registry.register("ssh-command", SshCommandProbe)
    registry.register("ssh-tcp", SshTcpProbe)
    registry.register("ssh-log", SshLogProbe)
