"""`log` probe: a regex on a gateway log, with the log line's own timestamp.

A log line starts with its UTC time (`2026-11-25T11:15:00.123456789Z …`, the lab
gateway's format); lines without one take the time they were read.
"""

from __future__ import annotations

import re
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


@dataclass
class LogProbe:
    """Follows a log file; a sample is ok when a new line matched `pattern`."""

    path: str
    pattern: str
    gateway: str = ""
    kind: str = "log"
    _offset: int = field(default=0, repr=False)

    @property
    def target(self) -> str:
        return self.gateway or self.path

    async def sample(self) -> Sample:
        t_ns, mono = time.time_ns(), time.monotonic_ns()
        rx = re.compile(self.pattern)
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self._offset)
                data = fh.read()
        except OSError as e:
            return Sample(self.kind, self.target, t_ns, mono, False, 0.0, None, str(e))
        complete, _, _rest = data.rpartition(b"\n")
        self._offset += len(complete) + (1 if complete or data.startswith(b"\n") else 0)
        hits = []
        for raw in complete.decode("utf-8", "replace").splitlines():
            if rx.search(raw):
                hits.append({"ts_ns": line_time(raw), "line": raw[:500]})
        return Sample(self.kind, self.target, t_ns, mono, bool(hits),
                      (time.monotonic_ns() - mono) / 1e6, {"matches": hits} if hits else None)
