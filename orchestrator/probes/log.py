"""`log` probe and the local log follower: a gateway log read as it grows, across rotation.

The `log` probe matches a regex; a log line starts with its UTC time
(`2026-11-25T11:15:00.123456789Z …`, the lab gateway's format); lines without one take the
time they were read. `LogTail` reads what a file gained since the last read, in bytes,
and carries on in the new file when the old one was rotated away (renamed, or truncated);
`LocalLogFollower` runs it in a thread for the `host` observer on the lab (the SSH
follower, `probes/ssh.py`, does the same on a remote host with `tail -F`).
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.journal.chain import parse_iso_ns
from orchestrator.probes import Sample

STAMP = re.compile(r"^\[?(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?Z)\]?")


@dataclass(frozen=True)
class LogMatch:
    ts_ns: int
    line: str
    stamped: bool  # True when the time came from the line itself


def line_time(line: str) -> int | None:
    m = STAMP.match(line)
    if not m:
        return None
    try:
        return parse_iso_ns(m.group(1))
    except ValueError:
        return None


def find_matches(path: Path, pattern: str, since_ns: int = 0) -> list[LogMatch]:
    rx = re.compile(pattern)
    out: list[LogMatch] = []
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return out
    now = time.time_ns()
    for line in text.splitlines():
        if not rx.search(line):
            continue
        ts = line_time(line)
        stamped = ts is not None
        ts = ts if ts is not None else now
        if ts >= since_ns:
            out.append(LogMatch(ts, line, stamped))
    return out


@dataclass(frozen=True)
class LogLine:
    """One line of a followed log, as drill read it."""

    host: str
    path: str
    text: str
    ts_ns: int | None  # from the line itself, on the host's clock (None: not parsed here)
    received_ns: int  # when drill read it


class LogTail:
    """The bytes a file gained since the last `read`; follows it across rotation: when the
    path names another file (renamed away, a new one created) or the file shrank
    (truncated), the rest of the old file is read, then the new one from its start."""

    def __init__(self, path: str | Path, from_start: bool = True) -> None:
        self.path = Path(path)
        self.from_start = from_start
        self._fh = None
        self._ino: int | None = None
        self.rotations = 0

    def _open(self, at_end: bool) -> bool:
        try:
            fh = open(self.path, "rb")  # noqa: SIM115 - kept open between reads, closed in close()
        except OSError:
            return False
        self._fh, self._ino = fh, os.fstat(fh.fileno()).st_ino
        if at_end:
            fh.seek(0, os.SEEK_END)
        return True

    def read(self) -> bytes:
        """What was appended since the last read (b"" when nothing); raises OSError only
        when the file was never there to open."""
        if self._fh is None and not self._open(at_end=not self.from_start):
            raise FileNotFoundError(f"cannot open {self.path}")
        assert self._fh is not None
        data = self._fh.read()
        try:
            st = os.stat(self.path)
        except OSError:
            return data  # between the rename and the new file: keep the old one
        if st.st_ino != self._ino or st.st_size < self._fh.tell():
            data += self._fh.read()  # what was written to the old file before it went
            self._fh.close()
            self.rotations += 1
            if self._open(at_end=False):
                data += self._fh.read()
        return data

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


@dataclass
class LocalLogFollower:
    """`tail -F` of a local file in a thread: whole lines into `lines` (None: stopped).
    `previous`: a rotated-away file read first, once (the state the log showed before)."""

    path: str
    encoding: str = "utf-8"
    from_start: bool = True
    previous: str | None = None
    poll_s: float = 0.02
    host: str = "localhost"
    lines: queue.Queue = field(default_factory=queue.Queue)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> LocalLogFollower:
        self._thread = threading.Thread(target=self._read, name=f"log {self.path}", daemon=True)
        self._thread.start()
        return self

    def _read(self) -> None:
        from orchestrator.probes.gateway_log import LineSplitter

        split = LineSplitter(self.encoding)
        if self.previous and self.from_start:
            with contextlib.suppress(OSError):
                self._put(split.feed(Path(self.previous).read_bytes()) + split.flush())
        tail = LogTail(self.path, self.from_start)
        try:
            while not self._stop.is_set():
                try:
                    data = tail.read()
                except OSError:
                    break
                if data:
                    self._put(split.feed(data))
                else:
                    self._stop.wait(self.poll_s)  # polling the file: nothing to wait on
        finally:
            tail.close()
            self.lines.put(None)

    def _put(self, texts: list[str]) -> None:
        now = time.time_ns()
        for text in texts:
            self.lines.put(LogLine(self.host, self.path, text, None, now))

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


@dataclass
class LogProbe:
    """Follows a log file; a sample is ok when a new line matched `pattern`."""

    path: str
    pattern: str
    gateway: str = ""
    kind: str = "log"
    _tail: LogTail | None = field(default=None, repr=False)
    _rest: bytes = field(default=b"", repr=False)

    @property
    def target(self) -> str:
        return self.gateway or self.path

    async def sample(self) -> Sample:
        t_ns, mono = time.time_ns(), time.monotonic_ns()
        rx = re.compile(self.pattern)
        if self._tail is None:
            self._tail = LogTail(self.path, from_start=True)
        try:
            data = self._rest + self._tail.read()
        except OSError as e:
            self._tail = None
            return Sample(self.kind, self.target, t_ns, mono, False, 0.0, None, str(e))
        complete, _, self._rest = data.rpartition(b"\n")
        hits = []
        for raw in complete.decode("utf-8", "replace").splitlines():
            if rx.search(raw):
                hits.append({"ts_ns": line_time(raw), "line": raw[:500]})
        return Sample(self.kind, self.target, t_ns, mono, bool(hits),
                      (time.monotonic_ns() - mono) / 1e6, {"matches": hits} if hits else None)
