"""Gateway profiles: how to read one vendor's gateway log (see docs/profiles.md).

Pure types: `orchestrator.config.profile.load_profile` reads `profiles/<name>.yaml` into a
frozen `Profile`; `orchestrator.probes.gateway_log` matches log lines against it.
"""

from __future__ import annotations

from dataclasses import dataclass

ENCODINGS = ("utf-8", "gb18030")
# profile event name -> drill's event type (what the engine times; None: recorded only)
EVENT_TYPES = {
    "connecting": "connecting",
    "logged_in": "login",
    "link_lost": "link_down",
    "logon_refused": "logon_refused",
    "switching": "switching",
    "md_resumed": "md_flow",
    "md_stalled": "md_flow",
    "file_received": "transfer",
}
REQUIRED_EVENTS = ("logged_in", "link_lost")
SERVICES = ("trading", "market_data", "settlement")


@dataclass(frozen=True)
class EventPattern:
    name: str  # the profile's event name (`logged_in`)
    pattern: str  # a Python regex, searched in the line
    service: str | None = None  # only lines of this service, when one log carries several

    @property
    def event_type(self) -> str:
        return EVENT_TYPES[self.name]


@dataclass(frozen=True)
class TimestampFormat:
    regex: str  # named group `ts`, at line start
    format: str  # strptime format of group `ts`
    zone: str  # IANA zone, UTC, or a fixed offset `+08:00`


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    encoding: str
    timestamp: TimestampFormat
    identity: str  # a regex with named group `gateway`
    events: tuple[EventPattern, ...]
    path: str = ""  # the file it was read from

    def event(self, name: str) -> EventPattern | None:
        for e in self.events:
            if e.name == name:
                return e
        return None

    @property
    def detects_double_logon(self) -> bool:
        """Whether the log says when the exchange refuses a duplicate logon."""
        return self.event("logon_refused") is not None
