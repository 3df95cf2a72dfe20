"""The simulated router: its configuration state, its CLI per platform, and the data plane.

Written from the vendors' documented CLI, not from drill's dialects (orchestrator/adapters/
routers.py), so a wrong line on either side shows. Each change is applied to the
namespace's kernel (`ip link set DEV down`, `ip route replace blackhole A/32`), so a
shutdown really fails traffic over. One `Device` per process; sessions share it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import json
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

PAGE = 20


@dataclass
class Interface:
    name: str
    dev: str | None  # the namespace's interface it drives (None: display only)
    address: str | None  # "198.18.1.2/30"
    description: str = ""
    layer: int = 3
    mbps: int = 10
    shut: bool = False


@dataclass
class Device:
    platform: str
    hostname: str
    state_dir: Path
    interfaces: dict[str, Interface]
    routes: list[tuple[str, str, str]]  # (address, mask, next hop) as configured
    tz_hours: int
    user: str = "netops"
    hashed: str = ""  # what the device shows for the local user's password (never the password)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_config(cls, cfg: dict) -> Device:
        ifs = {i["name"]: Interface(**i) for i in cfg["interfaces"]}
        dev = cls(cfg["platform"], cfg["hostname"], Path(cfg["state_dir"]), ifs,
                  [tuple(r) for r in cfg.get("routes", [])], int(cfg.get("tz_hours", 0)),
                  cfg["username"], hashlib.sha256(cfg["password"].encode()).hexdigest()[:24])
        dev.startup_path.write_text(dev.running())  # the saved configuration at boot
        return dev

    # -- files a test reads -----------------------------------------------------------
    @property
    def startup_path(self) -> Path:
        return self.state_dir / "startup.cfg"

    def log(self, text: str) -> None:
        with (self.state_dir / "logbuffer").open("a") as f:
            f.write(f"{self.clock_stamp()} {self.hostname} {text}\n")

    def command_log(self, line: str) -> None:
        with (self.state_dir / "commands.log").open("a") as f:
            f.write(line + "\n")

    def tracks(self) -> list[dict]:
        """The backup path's tracked objects; a test edits tracks.json to take one down."""
        path = self.state_dir / "tracks.json"
        return json.loads(path.read_text()) if path.exists() else []

    def save(self) -> None:
        self.startup_path.write_text(self.running())
        with (self.state_dir / "saves").open("a") as f:
            f.write(f"{time.time_ns()}\n")
        self.log("save: the current configuration was saved")

    # -- clock ------------------------------------------------------------------------------
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.timezone(dt.timedelta(hours=self.tz_hours)))

    def clock_stamp(self) -> str:
        return self.now().strftime("%b %d %Y %H:%M:%S")

    # -- changes (applied to the kernel) ---------------------------------------------------
    def set_shut(self, name: str, shut: bool) -> None:
        ifc = self.interfaces[name]
        ifc.shut = shut
        if ifc.dev:
            _ip("link", "set", "dev", ifc.dev, "down" if shut else "up")
        self.log(f"IFNET: interface {name} changed to {'administratively down' if shut else 'up'}")

    def add_blackhole(self, address: str, mask: str) -> None:
        net = _net(address, mask)
        self.routes.append((address, mask, "NULL0"))
        _ip("route", "replace", "blackhole", net)
        self.log(f"RM: static route {net} to NULL0 added")

    def del_blackhole(self, address: str, mask: str) -> bool:
        entry = (address, mask, "NULL0")
        if entry not in self.routes:
            return False
        self.routes.remove(entry)
        _ip("route", "del", "blackhole", _net(address, mask))
        self.log(f"RM: static route {_net(address, mask)} to NULL0 deleted")
        return True

    def oper_up(self, ifc: Interface) -> bool:
        if ifc.shut:
            return False
        if ifc.dev is None:
            return True
        out = _ip("-o", "link", "show", "dev", ifc.dev).stdout
        return "state UP" in out or (",UP," in out and "LOWER_UP" in out)

    # -- the running configuration, in the vendor's layout -----------------------------------
    def running(self) -> str:
        if self.platform == "cisco_ios":
            return self._running_cisco()
        return self._running_vrp()

    def _running_vrp(self) -> str:
        head = ("!Software Version V200R010C10SPC500" if self.platform == "huawei_vrp"
                else " version 7.1.064, Release 0821P16")
        out = [head, f" sysname {self.hostname}", "#",
               " clock timezone CST add 08:00:00" if self.platform == "h3c_comware" else
               " clock timezone BJ add 08:00:00", "#", "aaa",
               f" local-user {self.user} password irreversible-cipher $1c${self.hashed}$",
               f" local-user {self.user} privilege level 3", "#"]
        for ifc in self.interfaces.values():
            out.append(f"interface {ifc.name}")
            if ifc.description:
                out.append(f" description {ifc.description}")
            if ifc.layer == 2:
                out.append(" port link-type access")
            elif ifc.address:
                iface = ipaddress.ip_interface(ifc.address)
                out.append(f" ip address {iface.ip} {iface.netmask}")
            if ifc.shut:
                out.append(" shutdown")
            out.append("#")
        for addr, mask, nh in self.routes:
            out.append(f"ip route-static {addr} {mask} {nh}")
        out += ["#", "return"]
        return "\n".join(out)

    def _running_cisco(self) -> str:
        out = ["Building configuration...", "", "Current configuration : 1024 bytes", "!",
               "version 15.9", f"hostname {self.hostname}", "!", "clock timezone UTC 0 0", "!",
               f"enable secret 9 $9${self.hashed}", f"username {self.user} privilege 1 secret 9 $9${self.hashed}",
               "!"]
        for ifc in self.interfaces.values():
            out.append(f"interface {ifc.name}")
            if ifc.description:
                out.append(f" description {ifc.description}")
            if ifc.layer == 2:
                out.append(" switchport mode access")
            elif ifc.address:
                iface = ipaddress.ip_interface(ifc.address)
                out.append(f" ip address {iface.ip} {iface.netmask}")
            out.append(f" bandwidth {ifc.mbps * 1000}")
            if ifc.shut:
                out.append(" shutdown")
            out.append("!")
        for addr, mask, nh in self.routes:
            out.append(f"ip route {addr} {mask} {'Null0' if nh == 'NULL0' else nh}")
        out += ["!", "end"]
        return "\n".join(out)


def _net(address: str, mask: str) -> str:
    return str(ipaddress.ip_network(f"{address}/{mask}", strict=False))


def _ip(*args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10)
    if proc.returncode != 0 and args[:2] != ("route", "del"):
        raise RuntimeError(f"ip {' '.join(args)}: {proc.stderr.strip()}")
    return proc
