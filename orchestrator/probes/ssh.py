"""SSH probe kinds and the log follower, over the connections of `orchestrator.adapters.ssh`.

Kinds registered for the probe runtime: `ssh-command` (run a command, match its output),
`ssh-log` (follow a log file, read timestamps from its lines) and `ssh-tcp` (a TCP
connect made from a host, through a direct-tcpip channel).
"""

from __future__ import annotations

import asyncio
import queue
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import paramiko

from orchestrator.adapters.hosts import HostKeyChanged, HostKeyUnknown, HostUnreachable
from orchestrator.adapters.ssh import SshPool
from orchestrator.probes import Sample
from orchestrator.probes.log import LogLine

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


@dataclass
class SshLogFollower:
    """`tail -F` of a file on a host, over the host's long-lived connection: it follows
    the path across rotation (a new file from its start). `encoding`: the log's (UTF-8,
    GB18030; CRLF or LF). `previous`: a rotated-away file printed first, once, with
    `from_start` (the state the log showed before its last rotation)."""

    pool: SshPool
    host: str
    path: str
    from_start: bool = False
    tz: str = "UTC"
    encoding: str = "utf-8"
    previous: str | None = None
    lines: queue.Queue = field(default_factory=queue.Queue)
    _chan: paramiko.Channel | None = None
    _thread: threading.Thread | None = None

    def start(self) -> SshLogFollower:
        chan = self.pool.transport(self.host).open_session(timeout=self.pool.connect_timeout_s)
        start = "+1" if self.from_start else "0"
        first = (f"cat -- {_quote(self.previous)} 2>/dev/null; "
                 if self.previous and self.from_start else "")
        chan.exec_command(f"{first}exec tail -n {start} -F -- {_quote(self.path)} 2>/dev/null")
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
                text = raw.decode(self.encoding, errors="replace").rstrip("\r")
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

class _SshSampling:
    """What the SSH kinds share: a blocking `sample_sync` run off the event loop, and
    samples stamped with the start of the attempt."""

    kind: str
    target: str

    def sample_sync(self) -> Sample:
        raise NotImplementedError

    async def sample(self) -> Sample:
        return await asyncio.to_thread(self.sample_sync)

    def _sample(self, t_ns: int, mono: int, ok: bool, value: Any = None, error: str | None = None,
                latency_ms: float | None = None) -> Sample:
        latency = _ms(mono) if latency_ms is None else latency_ms
        return Sample(self.kind, self.target, t_ns, mono, ok, latency, value, error)


@dataclass
class SshCommandProbe(_SshSampling):
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
            return self._sample(t_ns, mono, False, error=str(e))
        value = {"exit_status": res.exit_status, "stdout": res.stdout[-4000:], "stderr": res.stderr[-2000:]}
        if res.exit_status != 0:
            return self._sample(t_ns, mono, False, value, f"exit status {res.exit_status}")
        if self.expect is not None and not re.search(self.expect, res.stdout):
            return self._sample(t_ns, mono, False, value, f"output does not match {self.expect!r}")
        return self._sample(t_ns, mono, True, value)


@dataclass
class SshTcpProbe(_SshSampling):
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
            return self._sample(t_ns, mono, False, error=str(e))
        latency = _ms(mono)
        chan.close()
        return self._sample(t_ns, mono, True, latency_ms=latency)


@dataclass
class SshLogProbe(_SshSampling):
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
            return self._sample(t_ns, mono, False, error=str(e))
        if self._match is None:
            self._match = self._follower.wait_for(self.pattern, 0.0)
        line = self._match
        if line is None:
            return self._sample(t_ns, mono, False, error="no matching line yet")
        return self._sample(t_ns, mono, True,
                            {"line": line.text, "ts_ns": line.ts_ns, "received_ns": line.received_ns})

    def close(self) -> None:
        if self._follower is not None:
            self._follower.close()


def _ms(mono: int) -> float:
    return (time.monotonic_ns() - mono) / 1e6


# The kinds a drill's `verify` step may name, and the factory arguments (all but `pool`)
# its expectation gives each (docs/drill-format.md; the schema's `expectation`).
VERIFY_KINDS = ("ssh-command", "ssh-tcp")


def verify_arguments(x: Any) -> dict[str, Any]:
    """`x`: a `model.drill.Expectation` of one of VERIFY_KINDS. ssh-command: run `command`
    on `host`, its output matched by `pattern`; ssh-tcp: connect to address:port from `host`."""
    if x.probe == "ssh-command":
        return {"host": x.host, "command": x.command, "expect": x.pattern}
    if x.probe == "ssh-tcp":
        return {"address": x.address, "port": int(x.port), "via": x.host}
    raise ValueError(f"probe kind {x.probe!r} is not one a verify step runs over SSH")


def register(registry: Any) -> None:
    """Add the SSH kinds to a probe registry; their factories need `pool=SshPool(...)`."""
    registry.register("ssh-command", SshCommandProbe)
    registry.register("ssh-tcp", SshTcpProbe)
    registry.register("ssh-log", SshLogProbe)
