"""A gateway's own log, read through its profile: bytes → lines → events (pure, no I/O).

`LineSplitter` turns the bytes a follower read (any chunking, CRLF or LF, UTF-8 or
GB18030) into whole lines. `LogParser` turns one line into drill's events: the line's own
time (the profile's format and zone) converted to UTC and corrected by the host's clock
offset, with its uncertainty; the gateway id from the profile's identity pattern.
See docs/profiles.md and docs/observers.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from orchestrator.model.profile import Profile

SOURCE = "gateway-log"


@dataclass(frozen=True)
class ClockCorrection:
    """The host's clock minus drill's (subtracted from log times), and how well it is known."""

    offset_ns: int = 0
    uncertainty_ns: int = 0


@dataclass(frozen=True)
class LogEvent:
    """One event a log line shows, on drill's clock."""

    gateway: str | None  # the id the log declared last (None: not yet)
    type: str  # drill's event type: login, link_down, md_flow, transfer, …
    name: str  # the profile's event name: logged_in, link_lost, …
    ts_ns: int  # UTC, corrected by the clock offset
    uncertainty_ms: float  # clock offset's uncertainty plus the line's resolution
    data: Mapping[str, Any]
    line: str
    lineno: int

    def as_event(self, seq: int = 0) -> dict[str, Any]:
        """The event as the engine's tracker takes it (the monitor stream's shape, plus
        its source and uncertainty)."""
        return {"seq": seq, "ts_ns": self.ts_ns, "gateway": self.gateway, "type": self.type,
                "data": dict(self.data), "source": SOURCE,
                "uncertainty_ms": self.uncertainty_ms, "event": self.name,
                "line": self.line[:300]}


class LineSplitter:
    """Whole lines out of bytes read in any chunks; CRLF or LF; the profile's encoding."""

    def __init__(self, encoding: str = "utf-8") -> None:
        self.encoding = encoding
        self._buf = b""

    def feed(self, data: bytes) -> list[str]:
        self._buf += data
        *complete, self._buf = self._buf.split(b"\n")
        return [raw.decode(self.encoding, "replace").rstrip("\r") for raw in complete]

    def flush(self) -> list[str]:
        """The last line, when the file ended without a newline."""
        rest, self._buf = self._buf, b""
        return [rest.decode(self.encoding, "replace").rstrip("\r")] if rest.strip() else []


def zone_of(zone: str) -> Any:
    if zone == "UTC":
        return UTC
    m = re.fullmatch(r"([+-])(\d\d):?(\d\d)", zone)
    if m:
        delta = timedelta(hours=int(m.group(2)), minutes=int(m.group(3)))
        return timezone(delta if m.group(1) == "+" else -delta)
    from zoneinfo import ZoneInfo

    return ZoneInfo(zone)


def resolution_ms(fmt: str, ts_text: str) -> float:
    """How coarse a line's time is: its fraction digits (%f), else whole seconds."""
    if "%f" not in fmt:
        return 1000.0
    m = re.search(r"[.,](\d+)\s*$", ts_text) or re.search(r"[.,](\d+)", ts_text)
    digits = len(m.group(1)) if m else 0
    return 1000.0 / (10 ** min(digits, 6)) if digits else 1000.0


@dataclass
class LogParser:
    """Matches lines of one gateway's log against its profile."""

    profile: Profile
    clock: ClockCorrection = field(default_factory=ClockCorrection)
    # server address ("198.18.1.10" or "198.18.1.10:9000") -> centre id, for login data
    centres: Mapping[str, str] = field(default_factory=dict)
    service: str | None = None  # this gateway's service: events of others are skipped
    gateway: str | None = None  # the id the log declared last
    lineno: int = 0

    def __post_init__(self) -> None:
        p = self.profile
        self._ts = re.compile(p.timestamp.regex)
        self._zone = zone_of(p.timestamp.zone)
        self._identity = re.compile(p.identity)
        self._events = [(e, re.compile(e.pattern)) for e in p.events
                        if e.service is None or self.service is None or e.service == self.service]

    def line_time(self, line: str) -> tuple[int, float] | None:
        """The line's own time (UTC ns, on the host's clock) and its resolution in ms."""
        m = self._ts.match(line)
        if not m:
            return None
        text = m.group("ts")
        try:
            dt = datetime.strptime(text, self.profile.timestamp.format)
        except ValueError:
            return None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=self._zone)
        whole = int(dt.replace(microsecond=0).timestamp())
        return whole * 1_000_000_000 + dt.microsecond * 1000, resolution_ms(
            self.profile.timestamp.format, text)

    def parse(self, line: str) -> list[LogEvent]:
        """The events one line shows (none for a line without a time or a match)."""
        self.lineno += 1
        ident = self._identity.search(line)
        if ident:
            self.gateway = ident.group("gateway")
        stamp = self.line_time(line)
        if stamp is None:
            return []
        ts, res_ms = stamp
        ts -= self.clock.offset_ns
        unc = self.clock.uncertainty_ns / 1e6 + res_ms
        out = []
        for ev, rx in self._events:
            m = rx.search(line)
            if m:
                out.append(LogEvent(self.gateway, ev.event_type, ev.name, ts, unc,
                                    self._data(ev.name, m), line, self.lineno))
        return out

    def _data(self, name: str, m: re.Match) -> dict[str, Any]:
        groups = {k: v for k, v in m.groupdict().items() if v is not None}
        data: dict[str, Any] = dict(groups)
        server = groups.get("server")
        if server:
            port = groups.get("port")
            centre = self.centres.get(f"{server}:{port}") if port else None
            data["centre"] = centre or self.centres.get(server)
            if port:
                data["address"] = f"{server}:{port}"
        if name == "logged_in":
            data["session_id"] = groups.get("session")
        elif name == "link_lost":
            data["reason"] = m.group(0)
        elif name == "md_resumed":
            data["state"] = "flowing"
            if "source" in groups:  # where it flows from, in the vendor's words
                data["source"] = md_source_of(groups["source"])
            if "seq" in groups:
                data["seq"] = int(groups["seq"])
        elif name == "md_stalled":
            data["state"] = "stalled"
        elif name == "file_received":
            data["ok"] = True
        elif name == "logon_refused":
            data["reason"] = m.group(0)
        return data


def md_source_of(text: str) -> str:
    """A market-data source as drill names it (tcp | multicast) from a log's wording:
    组播, multicast, mcast or udp → multicast; TCP → tcp; else the text itself."""
    low = text.lower()
    if "组播" in text or "卫星" in text or any(w in low for w in ("multicast", "mcast", "udp")):
        return "multicast"
    return "tcp" if "tcp" in low else text


def replay(profile: Profile, raw: bytes, clock: ClockCorrection | None = None,
           centres: Mapping[str, str] | None = None) -> list[LogEvent]:
    """Every event of a whole log (`drill profile check`)."""
    splitter = LineSplitter(profile.encoding)
    parser = LogParser(profile, clock or ClockCorrection(), centres or {})
    out: list[LogEvent] = []
    for line in splitter.feed(raw) + splitter.flush():
        out += parser.parse(line)
    return out
