"""Line routers that are network devices: one CLI dialect per platform (a registry).

A line's `platform` (docs/inventory.md, "Line routers") says what its router runs. `linux`
is driven by `ip` commands (playbooks/drivers/linux/platforms/linux.yml); every other
platform is a `Dialect` here, driven through its CLI by the `drill_router_cli` module
(playbooks/library/drill_router_cli.py, netmiko over SSH) from the tasks file the dialect
names. `drill plan` shows the exact lines `cut_lines` / `restore_lines` give, and the module
sends those same lines: one source for both.

Pure text: no connection is made here (netmiko is imported by the module only).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from orchestrator.model.inventory import ROUTER_PLATFORMS


@dataclass(frozen=True)
class InterfaceState:
    admin_up: bool
    oper_up: bool
    layer3: bool | None = None  # None: the device did not say
    mbps: float | None = None


@dataclass(frozen=True)
class TrackState:
    name: str  # "BFD 198.18.2.1", "track 1"
    up: bool
    detail: str  # the device's own line


@dataclass(frozen=True)
class Dialect:
    platform: str
    device_type: str  # netmiko's name
    privilege: str  # the command raising privilege (asks for the secret)
    config_enter: str
    config_exit: str
    interface: str  # "interface {name}"
    leave_interface: str
    shutdown: str
    no_shutdown: str
    blackhole: str  # "{address} {mask}" filled in
    no_blackhole: str
    show_running: str
    show_startup: str
    show_interface: str
    show_clock: str
    show_tracking: str  # what moves traffic to the backup path: BFD / track / NQA
    show_log: str
    error: str  # a line of the device's own rejection text (regex, multiline)
    parse_clock: Callable[[str], int]  # -> UTC ns, raises ValueError
    parse_interface: Callable[[str], InterfaceState]
    parse_tracking: Callable[[str], tuple[TrackState, ...]]
    block_end: str  # what ends an interface block in the running config

    @property
    def tasks(self) -> str:
        """The driver's tasks file for this platform (under playbooks/drivers/linux/)."""
        return "platforms/router_cli.yml"

    # -- the lines sent ------------------------------------------------------------
    def cut_lines(self, mode: str, interface: str | None, addresses: Iterable[str]) -> tuple[str, ...]:
        """Configuration-mode lines that cut a line (mode shutdown or blackhole)."""
        if mode == "shutdown":
            if not interface:
                raise ValueError("mode shutdown needs the line's interface")
            return (self.interface.format(name=interface), self.shutdown, self.leave_interface)
        return tuple(self.blackhole.format(**_host_route(a)) for a in addresses)

    def restore_lines(self, interface: str | None, shut: bool, routes: Iterable[str]) -> tuple[str, ...]:
        """Lines that undo a cut: `undo shutdown` when the interface is shut, each black-hole
        route still present removed."""
        out: list[str] = []
        if shut and interface:
            out += [self.interface.format(name=interface), self.no_shutdown, self.leave_interface]
        out += [self.no_blackhole.format(**_host_route(a)) for a in routes]
        return tuple(out)

    def session(self, lines: Iterable[str]) -> tuple[str, ...]:
        """Everything typed for a change, privilege and configuration mode included (the
        secret itself is typed at the device's password prompt and never shown)."""
        return (self.privilege, self.config_enter, *lines, self.config_exit)

    # -- reading the running configuration -------------------------------------------
    def interface_shut(self, running: str, interface: str) -> bool:
        block = interface_block(running, self.interface.format(name=interface), self.block_end)
        return any(ln.strip() == self.shutdown for ln in block)

    def blackholes(self, running: str, addresses: Iterable[str]) -> tuple[str, ...]:
        """Those of `addresses` black-holed in the running configuration."""
        have = {ln.strip() for ln in running.splitlines()}
        return tuple(a for a in addresses if self.blackhole.format(**_host_route(a)) in have)


def _host_route(address: str) -> dict[str, str]:
    ip = ipaddress.ip_address(address)
    if ip.version != 4:
        raise ValueError(f"{address}: expected an IPv4 service address")
    return {"address": str(ip), "mask": "255.255.255.255"}


def interface_block(running: str, header: str, end: str) -> list[str]:
    lines = running.splitlines()
    for i, ln in enumerate(lines):
        if ln.strip() == header:
            out = []
            for body in lines[i + 1:]:
                if body.strip() == end or (body and not body[0].isspace()):
                    break
                out.append(body)
            return out
    return []


def config_diff(before: str, after: str, name: str) -> str:
    """A unified diff of two running configurations ('' when identical)."""
    import difflib

    return "".join(difflib.unified_diff(before.splitlines(True), after.splitlines(True),
                                        f"{name} before", f"{name} after"))


# -- clocks ------------------------------------------------------------------------------
_MON = {m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
                                     "Oct", "Nov", "Dec"), 1)}


def _ns(d: dt.datetime) -> int:
    return int(d.timestamp()) * 10**9 + d.microsecond * 1000


def _clock_huawei(text: str) -> int:
    # 2026-12-05 19:40:12+08:00 (VRP8 may add .123)
    m = re.search(r"(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?)([+-]\d{2}:\d{2})", text)
    if not m:
        raise ValueError(f"no clock in {text!r}")
    return _ns(dt.datetime.fromisoformat(f"{m.group(1)}T{m.group(2)}{m.group(3)}"))


def _clock_h3c(text: str) -> int:
    # 19:40:12.345 CST Sat 12/05/2026 / Time Zone : CST add 08:00:00
    m = re.search(r"(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))? \S+ \w{3} (\d{2})/(\d{2})/(\d{4})", text)
    if not m:
        raise ValueError(f"no clock in {text!r}")
    hh, mm, ss, frac, mon, day, year = m.groups()
    tz = re.search(r"Time Zone\s*:\s*\S+\s+(add|minus)\s+(\d{2}):(\d{2}):(\d{2})", text)
    offset = dt.timedelta(0)
    if tz:
        offset = dt.timedelta(hours=int(tz.group(2)), minutes=int(tz.group(3)), seconds=int(tz.group(4)))
        offset = offset if tz.group(1) == "add" else -offset
    d = dt.datetime(int(year), int(mon), int(day), int(hh), int(mm), int(ss),
                    int((frac or "0").ljust(6, "0")[:6]), tzinfo=dt.timezone(offset))
    return _ns(d)


def _clock_cisco(text: str) -> int:
    # *11:40:12.345 UTC Sat Dec 5 2026 (only UTC/GMT: a named zone's offset is not in the text)
    m = re.search(r"(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))? (UTC|GMT) \w{3} (\w{3}) +(\d{1,2}) (\d{4})", text)
    if not m:
        raise ValueError(f"no UTC clock in {text!r} (set `clock timezone UTC 0` or use the task time)")
    hh, mm, ss, frac, _zone, mon, day, year = m.groups()
    return _ns(dt.datetime(int(year), _MON[mon], int(day), int(hh), int(mm), int(ss),
                           int((frac or "0").ljust(6, "0")[:6]), tzinfo=dt.UTC))


# -- interfaces ----------------------------------------------------------------------------
def _mbps(text: str, pattern: str, unit: float) -> float | None:
    m = re.search(pattern, text)
    return float(m.group(1)) * unit if m else None


def _iface_display(text: str, state: str, proto: str, routed: str, switched: str,
                   bandwidth: str, unit: float) -> InterfaceState:
    """`display interface` of VRP and Comware: the same lines under each one's own words."""
    first = re.search(state + r"\s*:\s*(.+)", text)
    line = re.search(proto + r"\s*:\s*(\S+)", text)
    if not first:
        raise ValueError(f"no interface state in {text!r}")
    current = first.group(1).strip()
    layer = True if routed in text else False if switched in text else None
    return InterfaceState(admin_up="Administratively" not in current, oper_up=current == "UP"
                          and bool(line and line.group(1) == "UP"), layer3=layer,
                          mbps=_mbps(text, bandwidth, unit))


def _iface_huawei(text: str) -> InterfaceState:
    return _iface_display(text, "current state", "Line protocol current state", "Route Port",
                          "Switch Port", r"Current BW\s*:\s*(\d+)\s*Mbps", 1.0)


def _iface_h3c(text: str) -> InterfaceState:
    return _iface_display(text, "Current state", "Line protocol state", "Route mode", "Bridge mode",
                          r"Bandwidth\s*:\s*(\d+)\s*kbps", 1e-3)


def _iface_cisco(text: str) -> InterfaceState:
    m = re.search(r" is (administratively down|up|down), line protocol is (up|down)", text)
    if not m:
        raise ValueError(f"no interface state in {text!r}")
    layer = False if "Switchport" in text or "switchport" in text else True if "Internet address" in text else None
    return InterfaceState(admin_up=m.group(1) != "administratively down",
                          oper_up=m.group(1) == "up" and m.group(2) == "up", layer3=layer,
                          mbps=_mbps(text, r"BW (\d+) Kbit", 1e-3))


# -- track / BFD / NQA ------------------------------------------------------------------------
def _bfd_huawei(text: str) -> tuple[TrackState, ...]:
    rows = re.findall(r"^\s*\d+\s+\d+\s+(\S+)\s+(Up|Down|AdminDown|Init)\s+\S+\s+(\S+).*$", text, re.M)
    return tuple(TrackState(f"BFD {peer} ({iface})", state == "Up", f"{peer} {state} {iface}")
                 for peer, state, iface in rows)


def _track_h3c(text: str) -> tuple[TrackState, ...]:
    out = []
    for block in re.split(r"(?=^Track ID\s*:)", text, flags=re.M):
        m = re.match(r"Track ID\s*:\s*(\d+)", block)
        s = re.search(r"State\s*:\s*(\S+)", block)
        if m and s:
            out.append(TrackState(f"track {m.group(1)}", s.group(1) == "Positive", f"State: {s.group(1)}"))
    return tuple(out)


def _track_cisco(text: str) -> tuple[TrackState, ...]:
    out = []
    for block in re.split(r"(?=^Track \d+)", text, flags=re.M):
        m = re.match(r"Track (\d+)", block)
        s = re.search(r"State is (\S+)", block)
        if m and s:
            out.append(TrackState(f"track {m.group(1)}", s.group(1) == "Up", f"State is {s.group(1)}"))
    return tuple(out)


_VRP_LIKE = {"privilege": "super", "config_enter": "system-view", "config_exit": "return",
             "interface": "interface {name}", "leave_interface": "quit", "shutdown": "shutdown",
             "no_shutdown": "undo shutdown", "show_running": "display current-configuration",
             "show_startup": "display saved-configuration", "show_interface": "display interface {name}",
             "show_clock": "display clock", "show_log": "display logbuffer", "block_end": "#"}

DIALECTS: Mapping[str, Dialect] = MappingProxyType({
    "huawei_vrp": Dialect(
        platform="huawei_vrp", device_type="huawei", **_VRP_LIKE,
        blackhole="ip route-static {address} {mask} NULL0",
        no_blackhole="undo ip route-static {address} {mask} NULL0",
        show_tracking="display bfd session all", error=r"^Error: .*$",
        parse_clock=_clock_huawei, parse_interface=_iface_huawei, parse_tracking=_bfd_huawei),
    "h3c_comware": Dialect(
        platform="h3c_comware", device_type="hp_comware", **_VRP_LIKE,
        blackhole="ip route-static {address} {mask} NULL0",
        no_blackhole="undo ip route-static {address} {mask} NULL0",
        show_tracking="display track all", error=r"^\s*% .*$",
        parse_clock=_clock_h3c, parse_interface=_iface_h3c, parse_tracking=_track_h3c),
    "cisco_ios": Dialect(
        platform="cisco_ios", device_type="cisco_ios", privilege="enable",
        config_enter="configure terminal", config_exit="end", interface="interface {name}",
        leave_interface="exit", shutdown="shutdown", no_shutdown="no shutdown",
        blackhole="ip route {address} {mask} Null0", no_blackhole="no ip route {address} {mask} Null0",
        show_running="show running-config", show_startup="show startup-config",
        show_interface="show interfaces {name}", show_clock="show clock", show_tracking="show track",
        show_log="show logging", error=r"^% .*$", block_end="!",
        parse_clock=_clock_cisco, parse_interface=_iface_cisco, parse_tracking=_track_cisco),
})

assert set(DIALECTS) | {"linux"} == set(ROUTER_PLATFORMS)


def dialect(platform: str) -> Dialect:
    try:
        return DIALECTS[platform]
    except KeyError:
        raise ValueError(f"unknown router platform {platform!r}; expected one of: "
                         f"{', '.join(DIALECTS)}") from None


def line_addresses(inv, line) -> tuple[str, ...]:
    """The service addresses a black-hole of this line covers: its centre's, each once."""
    centre = inv.centre(line.centre)
    return tuple(dict.fromkeys(ep.address for ep in centre.services.values()))


def planned_cli(inv, lines: Iterable[str], state: str, mode: str) -> dict[str, list[str]]:
    """Per router (`router: platform`), the exact CLI lines a line step sends; () for lines
    whose router is Linux. A restore sends the undo lines of what is present at that time:
    both forms are shown."""
    out: dict[str, list[str]] = {}
    known = {ln.id: ln for ln in inv.lines}
    for lid in lines:
        ln = known.get(lid)
        if ln is None or ln.platform not in DIALECTS:
            continue
        d = DIALECTS[ln.platform]
        addrs = line_addresses(inv, ln)
        if state == "down":
            body = d.cut_lines(mode, ln.interface, addrs)
        else:
            body = d.restore_lines(ln.interface, bool(ln.interface), addrs)
        key = f"{ln.router} ({ln.platform})" + ("" if state == "down" else
                                                 ", the undo lines of what its running config still holds")
        out.setdefault(key, []).extend(d.session(body))
    return out


def service_addresses(services: Mapping[str, str], selected: Iterable[str]) -> tuple[str, ...]:
    """The addresses a black-hole of the `selected` services of one centre covers, each once
    (`services`: {service: address} of the centre; `settlement_sm` goes with `settlement`).
    ValueError when one is also the address of a service that must stay up: a black-hole is
    per address (service.yml refuses it too)."""
    chosen = set(selected)
    mine = [a for name, a in services.items() if name.removesuffix("_sm") in chosen]
    kept = {a: name for name, a in services.items() if name.removesuffix("_sm") not in chosen}
    shared = [f"{a} (also {kept[a]})" for a in dict.fromkeys(mine) if a in kept]
    if shared:
        raise ValueError(f"{', '.join(sorted(chosen))}: address shared with a service that stays up: "
                         f"{'; '.join(shared)}; expected an address of its own (filter it by port on "
                         "the router instead, by hand or with the manual driver)")
    return tuple(dict.fromkeys(mine))


def _per_router(inv, addrs: list[str], state: str) -> dict[str, list[str]]:
    """Per network line router (`router (platform)`), the session black-holing `addrs`
    (down) or removing those routes (up). Linux routers: none."""
    if not addrs:
        return {}
    out: dict[str, list[str]] = {}
    for ln in inv.lines:
        key = f"{ln.router} ({ln.platform})"
        if ln.platform not in DIALECTS or any(k.startswith(key) for k in out):
            continue
        d = DIALECTS[ln.platform]
        body = d.cut_lines("blackhole", None, addrs) if state == "down" else d.restore_lines(None, False, addrs)
        out[key + ("" if state == "down" else ", the undo lines of what its running config still holds")] = \
            list(d.session(body))
    return out


def _linux_centres(inv, centres: Iterable[str]) -> list:
    known = {c.id: c for c in inv.centres}
    return [known[cid] for cid in centres if cid in known and (known[cid].driver or inv.driver) == "linux"]


def planned_centre_cli(inv, centres: Iterable[str], state: str) -> dict[str, list[str]]:
    """Per network line router (`router (platform)`), the exact CLI lines a centre step
    sends (centre.yml, linux driver): every service address of each centre black-holed on
    every line router (down), those routes removed (up). Linux routers: none."""
    addrs = [a for c in _linux_centres(inv, centres) for a in dict.fromkeys(ep.address for ep in c.services.values())]
    return _per_router(inv, addrs, state)


def planned_service_cli(inv, services: Iterable[str], centres: Iterable[str], state: str) -> dict[str, list[str]]:
    """Per network line router, the exact CLI lines a service step sends (service.yml, linux
    driver): only the selected services' addresses of each centre black-holed on every line
    router (down), those routes removed (up). A centre whose address is shared with a service
    that stays up is left out (the run refuses it)."""
    wanted = list(services)
    addrs: list[str] = []
    for c in _linux_centres(inv, centres):
        try:
            addrs += service_addresses({n: ep.address for n, ep in c.services.items()}, wanted)
        except ValueError:
            continue
    return _per_router(inv, addrs, state)
