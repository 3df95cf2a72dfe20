"""The inventory model: the firm's SSCC access topology, read from an Ansible inventory.

See docs/inventory.md. Pure types: `orchestrator.config.inventory.load_inventory` reads an
inventory into a frozen `Inventory` or raises `InputError` naming every problem.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from orchestrator.model.approvals import StandingApproval
from orchestrator.model.hours import Holiday, ServiceHours
from orchestrator.model.review import ReportSettings
from orchestrator.model.text import Text

SHENZHEN = ("FT", "NF")
SERVICE_OF_KIND = {"trading": "trading", "market_data": "market_data", "settlement": "settlement"}
GATEWAY_KINDS = tuple(SERVICE_OF_KIND)
TERRESTRIAL = ("terrestrial", "multicast-terrestrial")
# What a line's router runs (docs/inventory.md, "Line routers"); orchestrator.adapters.routers
# holds one dialect per platform but linux.
ROUTER_PLATFORMS = ("linux", "huawei_vrp", "h3c_comware", "cisco_ios")


@dataclass(frozen=True)
class Endpoint:
    address: str
    port: int

    def __str__(self) -> str:
        return f"{self.address}:{self.port}"


@dataclass(frozen=True)
class Environment:
    name: str
    kind: str  # lab | production | test (a test bed: not the lab, not evidence for filing)
    timezone: str = "Asia/Shanghai"
    language: str | None = None  # zh | en: what drill prints and renders; None: the locale's

    @property
    def is_lab(self) -> bool:
        return self.kind == "lab"


@dataclass(frozen=True)
class Timing:
    heartbeat_interval: float = 0.5
    heartbeat_timeout: float = 2.0
    server_session_timeout: float = 2.0
    reconnect_interval: float = 0.5
    probe_period: float = 0.05


@dataclass(frozen=True)
class Centre:
    id: str
    role: str  # production | dr
    name: Text
    services: Mapping[str, Endpoint]
    driver: str | None = None  # how a centre drill fails it (None: drill.driver)


@dataclass(frozen=True)
class Carrier:
    id: str
    name: Text


@dataclass(frozen=True)
class Line:
    id: str
    carrier: str
    centre: str
    mbps: float
    port_layer: int
    medium: str
    preference: int
    router: str
    interface: str | None = None
    local_address: str | None = None
    remote_address: str | None = None
    driver: str | None = None
    platform: str = "linux"  # ROUTER_PLATFORMS: what `router` runs (the linux driver's dialect)

    @property
    def terrestrial(self) -> bool:
        return self.medium in TERRESTRIAL


@dataclass(frozen=True)
class Multicast:
    address: str
    port: int
    line: str | None


@dataclass(frozen=True)
class Gateway:
    id: str
    kind: str  # trading | market_data | settlement
    host: str
    monitor: Endpoint | None  # None: observe: host with no monitor (docs/inventory.md)
    config: str
    service: str | None = None
    satellite_only: bool = False
    driver: str | None = None
    # the config format a repoint writes (orchestrator.adapters.config_formats); None: none
    config_format: str | None = None
    # how drill learns what it does (docs/observers.md): its monitor, or its host (its own
    # log read through `profile`, at `log` on its host; a lab's relative to the lab state)
    observe: str = "monitor"  # monitor | host
    profile: str | None = None
    log: str | None = None
    # issue 15: where the server entries are in the vendor's own file (inline), or the name
    # of an adapter definition adapters/<name>.yaml in the project; docs/inventory.md
    config_locator: Mapping[str, Any] | None = None
    config_adapter: str | None = None
    # the SSCC-assigned order of the Shenzhen centres; empty: the even/odd default
    server_order: tuple[str, ...] = ()

    @property
    def service_name(self) -> str:
        return SERVICE_OF_KIND[self.kind]


@dataclass(frozen=True)
class LabSettings:
    router: Endpoint
    settlement_file_bytes: int = 65536
    md_channels: int = 2
    md_rate_hz: float = 20.0
    # off-hours mode (docs/lab.md): the exchange sends no ticks and serves no CCNET file
    off_hours: bool = False


@dataclass(frozen=True)
class ChangeWindow:
    days: tuple[str, ...]
    start: str
    end: str


@dataclass(frozen=True)
class LogServer:
    """Where the network devices and gateways keep their logs (R-SEC-2; docs/inventory.md)."""

    host: str                          # an SSH host of the inventory
    logs: tuple[str, ...]              # the kept logs on it (absolute paths or globs)
    retention_days: int | None = None  # a retention the firm declares, counted only when
    declared_in: str | None = None     # this file on the log server states it


@dataclass(frozen=True)
class Inventory:
    path: Path
    environment: Environment
    driver: str
    retention_days: int
    timing: Timing
    centres: tuple[Centre, ...]
    carriers: tuple[Carrier, ...]
    lines: tuple[Line, ...]
    multicast: Multicast | None
    gateways: tuple[Gateway, ...]
    lab: LabSettings | None = None
    change_windows: tuple[ChangeWindow, ...] = ()
    notifications: Mapping[str, object] = field(default_factory=dict)
    secrets_paths: tuple[str, ...] = ()
    standing_approvals: tuple[StandingApproval, ...] = ()  # model/approvals.py
    # production line/centre drills add a manual step: notify SSCC operations support
    # (0755-83182222, 24 h) and record its reference (config/resolve.py; never on the lab)
    notify_sscc_operations: bool = False
    report: ReportSettings = field(default_factory=ReportSettings)  # model/review.py
    # when market data and CCNET flow (None: always) and the exchange holidays, the
    # shipped calendar and the inventory's own (model/hours.py)
    service_hours: ServiceHours | None = None
    holidays: tuple[Holiday, ...] = ()
    log_server: LogServer | None = None  # R-SEC-2's log server (drill check --live)

    def centre(self, cid: str) -> Centre:
        return _by_id(self.centres, cid, "centre")

    def line(self, lid: str) -> Line:
        return _by_id(self.lines, lid, "line")

    def gateway(self, gid: str) -> Gateway:
        found = self._gateway_index.get(gid)
        if found is None:
            raise KeyError(f"unknown gateway {gid!r}")
        return found

    @cached_property
    def _gateway_index(self) -> dict[str, Gateway]:
        # Planning asks for gateways by id thousands of times on a big estate; a scan
        # each time made `drill plan` quadratic. The first of a repeated id wins, as before.
        index: dict[str, Gateway] = {}
        for g in self.gateways:
            index.setdefault(g.id, g)
        return index

    def carrier(self, cid: str) -> Carrier:
        return _by_id(self.carriers, cid, "carrier")

    def lines_of_carrier(self, carrier: str) -> list[str]:
        return [ln.id for ln in self.lines if ln.carrier == carrier]

    def lines_of_centre(self, centre: str) -> list[str]:
        return [ln.id for ln in self.lines if ln.centre == centre]

    def home_centre(self, gateway: Gateway | str) -> str:
        gw = gateway if isinstance(gateway, Gateway) else self._gateway_index.get(gateway)
        if gw is not None and gw.server_order:
            return gw.server_order[0]
        return home_centre_of(gateway.id if isinstance(gateway, Gateway) else gateway)

    def server_order(self, gateway: Gateway | str, dr: bool = False) -> list[tuple[str, Endpoint]]:
        """The server list a gateway should hold: Shenzhen in its `server_order` (default the
        even/odd rule), or BJ."""
        gw = gateway if isinstance(gateway, Gateway) else self.gateway(gateway)
        if dr:
            ids = [c.id for c in self.centres if c.role == "dr"]
        else:
            first = gw.server_order[0] if gw.server_order else home_centre_of(gw.id)
            ids = list(gw.server_order) or [first, *(c for c in SHENZHEN if c != first)]
        return [(cid, self.centre(cid).services[gw.service_name]) for cid in ids]


def home_centre_of(gateway_id: str) -> str:
    """SSCC's convention: last decimal digit even → FT first, odd → NF first."""
    digits = re.findall(r"\d", gateway_id)
    if not digits:
        raise ValueError(f"gateway id {gateway_id!r} has no decimal digit")
    return "FT" if int(digits[-1]) % 2 == 0 else "NF"


def route(inv: Inventory, centre: str, down: Iterable[str] = ()) -> Line | None:
    """The line a new flow to `centre` takes, given the lines that are down."""
    down_set = set(down)
    up = [ln for ln in inv.lines if ln.id not in down_set and ln.terrestrial]
    direct = sorted((ln for ln in up if ln.centre == centre), key=lambda ln: (ln.preference, ln.id))
    if direct:
        return direct[0]
    # SSCC's backbone joins the centres, so any live terrestrial line still reaches them.
    fallback = sorted(up, key=lambda ln: (ln.preference, ln.id))
    return fallback[0] if fallback else None


def _by_id(items, ident, what):
    for item in items:
        if item.id == ident:
            return item
    raise KeyError(f"unknown {what} {ident!r}")
