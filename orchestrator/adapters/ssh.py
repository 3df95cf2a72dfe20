"""SSH connections over paramiko: one long-lived transport per host, through the bastion.

Ansible (over OpenSSH) changes the hosts; drill only watches them, over these connections
(probes, evidence, clock offsets, forwards to monitor ports). Host keys are checked against
the inventory's managed known_hosts (`orchestrator.adapters.hosts`): an unknown key or a
changed key is refused with a message naming the host and both fingerprints.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paramiko

from orchestrator.adapters.backoff import Backoff, BackoffPolicy
from orchestrator.adapters.hosts import (
    HostKeyChanged,
    HostKeyUnknown,
    HostUnreachable,
    SshHost,
    SshTopology,
    changed_message,
    known_key,
    load_known_hosts,
    load_topology,
    unknown_message,
)
from orchestrator.errors import DrillError

_DEFAULT_KEYS = ("~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/id_rsa")
log = logging.getLogger(__name__)
# SSH logins to a host that failed, and channel opens a forward's remote refused: the
# first retry after 0.25 s, doubling to one every 5 s (adapters/backoff.py).
RETRY = BackoffPolicy(first_s=0.25, cap_s=5.0)


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
                 connect_timeout_s: float = 10.0, retry: BackoffPolicy = RETRY) -> None:
        self.topology = topology
        self.host_keys = host_keys if host_keys is not None else load_known_hosts(topology.known_hosts)
        self.connect_timeout_s = connect_timeout_s
        self.retry = retry
        self._transports: dict[str, paramiko.Transport] = {}
        self._backoff: dict[str, Backoff] = {}
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
        """The host's live transport; a lost one is reconnected, backing off after a
        failed login (`HostUnreachable` says what it waits for, without connecting)."""
        with self._lock:
            t = self._transports.get(name)
            if t is not None and t.is_active():
                return t
            backoff = self._backoff.setdefault(name, Backoff(f"SSH to {name}", self.retry))
            if not backoff.ready():
                raise HostUnreachable(backoff.describe())
            try:
                t = self._connect(self.topology.host(name))
            except HostUnreachable as e:
                delay = backoff.failed(str(e))
                if backoff.should_say():
                    log.warning("%s", backoff.describe(delay))
                raise
            if backoff.succeeded():
                log.warning("SSH to %s: connected again", name)
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
    def _session(self, name: str) -> paramiko.Channel:
        """A new channel; a transport the peer closed under us (EOF on open) is dropped and
        connected once more, as `transport` does for one found dead beforehand."""
        t = self.transport(name)
        try:
            return t.open_session(timeout=self.connect_timeout_s)
        except (EOFError, paramiko.SSHException) as e:
            log.warning("SSH to %s: the connection closed (%s); connecting again", name, e or type(e).__name__)
            with self._lock:
                if self._transports.get(name) is t:
                    del self._transports[name]
            t.close()
            return self.transport(name).open_session(timeout=self.connect_timeout_s)

    def run(self, name: str, command: str, timeout_s: float = 30.0) -> CommandResult:
        started = time.time_ns()
        chan = self._session(name)
        try:
            chan.exec_command(command)
            out, err = _drain(chan, time.monotonic() + timeout_s, f"{name}: {command}")
            status = chan.recv_exit_status()
        finally:
            chan.close()
        return CommandResult(name, command, status, out.decode(errors="replace"),
                             err.decode(errors="replace"), started, time.time_ns())


# Gives a run's shared pool (adapters/run_ssh.py), opened on first use and left open.
SshSupplier = Callable[[], "SshPool"]


@contextlib.contextmanager
def pool_of(inventory_path: str | Path, shared: SshSupplier | None = None) -> Iterator[SshPool]:
    """The run's shared pool when given (left open), else a pool of our own for the block."""
    if shared is not None:
        yield shared()
        return
    with SshPool(load_topology(inventory_path)) as pool:
        yield pool


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
                 local: tuple[str, int] = ("127.0.0.1", 0), retry: BackoffPolicy = RETRY,
                 say: Callable[[str], None] | None = None) -> None:
        self.pool, self.via, self.remote = pool, via, remote
        self.backoff = Backoff(f"forward to {remote[0]}:{remote[1]} via {via}", retry)
        self.say = say or (lambda m: log.warning("%s", m))
        self.attempts = 0  # channel opens tried (the bastion sees each one)
        self.turned_away = 0  # local connections closed unforwarded while backing off
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
            try:  # close() may close the listener while select waits on it
                ready, _, _ = select.select([self._listener], [], [], 0.2)
                if not ready:
                    continue
                conn, _ = self._listener.accept()
            except (OSError, ValueError):
                return
            t = threading.Thread(target=self._pump, args=(conn,), daemon=True)
            t.start()
            self._threads.append(t)

    def _pump(self, conn: socket.socket) -> None:
        if not self.backoff.begin():
            self.turned_away += 1
            conn.close()  # backing off: no channel open through the bastion
            return
        try:
            self.attempts += 1
            chan = self.pool.open_tcp(self.via, *self.remote)
        except (HostUnreachable, HostKeyChanged, HostKeyUnknown) as e:
            delay = self.backoff.failed(str(e))
            if self.backoff.should_say():
                self.say(self.backoff.describe(delay))
            conn.close()  # the client sees a reset, as with an unreachable port
            return
        if self.backoff.succeeded():
            self.say(f"{self.backoff.what}: connected again")
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


def start_forwards(pool: SshPool, plan: Iterable[Any],
                   say: Callable[[str], None] | None = None) -> list[SshForward]:
    """One `SshForward` per planned monitor (`host`, `address`, `port`, `gateway`), listening
    on the same address and port here. Logs in to each host first, so a refused host key
    fails here, clearly; on any failure the forwards already started are closed."""

    forwards: list[SshForward] = []
    try:
        for f in plan:
            pool.transport(f.host)
            try:
                fw = SshForward(pool, f.host, (f.address, f.port), (f.address, f.port), say=say)
            except OSError as e:
                raise DrillError(f"cannot listen on {f.address}:{f.port} for {f.gateway}: {e}") from None
            forwards.append(fw.start())
    except BaseException:
        for fw in forwards:
            fw.close()
        raise
    return forwards
