"""Router CLI simulators for the host bed: Huawei VRP, H3C Comware, Cisco IOS.

`start(bed, "ct", "huawei_vrp")` replaces the router host's OpenSSH with the simulator
(server.py) on the same management address, port 22 and host key, so the bed's
known_hosts stays valid and strict. The simulator applies every change to the
namespace's kernel (device.py). Its state folder holds what a test checks: startup.cfg
(the saved configuration), saves (one line per `save`/`write`), commands.log, logbuffer,
tracks.json (the backup path's BFD/track state; write it to take one down).
"""

from __future__ import annotations

import json
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

from hostbed import bed as bedlib

# Vendor interface names: line0 is the line; the uplink to the centre is display-only.
PORTS = {"huawei_vrp": ("GigabitEthernet0/0/1", "GigabitEthernet0/0/2", "GigabitEthernet0/0/3"),
         "h3c_comware": ("GigabitEthernet1/0/1", "GigabitEthernet1/0/2", "GigabitEthernet1/0/3"),
         "cisco_ios": ("GigabitEthernet0/1", "GigabitEthernet0/2", "GigabitEthernet0/3")}
HOSTNAME = {"huawei_vrp": "HUAWEI", "h3c_comware": "H3C", "cisco_ios": "Router"}
LINE_ADDR = {"ct": "198.18.1.2/30", "cu": "198.18.2.2/30"}
UPLINK = {"ct": ("ft0", "198.18.11.1/30"), "cu": ("nf0", "198.18.12.1/30")}
CUT_FIRST = {"huawei_vrp": "system-view", "h3c_comware": "system-view", "cisco_ios": "configure terminal"}
BACKUP_PEER = {"ct": "198.18.2.1", "cu": "198.18.1.1"}  # the other line's firm side


@dataclass(frozen=True)
class RouterSim:
    name: str
    platform: str
    state_dir: Path
    username: str
    password: str
    secret: str
    line_port: str  # the vendor name of the line's interface

    @property
    def saves(self) -> int:
        path = self.state_dir / "saves"
        return len(path.read_text().splitlines()) if path.exists() else 0

    @property
    def startup(self) -> str:
        return (self.state_dir / "startup.cfg").read_text()

    def commands(self) -> list[str]:
        path = self.state_dir / "commands.log"
        return path.read_text().splitlines() if path.exists() else []

    def set_tracks_up(self, up: bool) -> None:
        tracks = json.loads((self.state_dir / "tracks.json").read_text())
        (self.state_dir / "tracks.json").write_text(json.dumps([{**t, "up": up} for t in tracks]))


def _stop_sshd(bed: bedlib.HostBed, name: str) -> None:
    h = bed.host(name)
    for proc in list(bed.procs):
        if proc.args[3] == h.netns and bedlib.SSHD in proc.args:
            bedlib._kill_group(proc)
            bed.procs.remove(proc)


def _listening(bed: bedlib.HostBed, name: str) -> bool:
    h = bed.host(name)
    out = bed.exec(name, "ss", "-Hltn", check=False).stdout
    return f"{h.mgmt_address}:22 " in out


def start(bed: bedlib.HostBed, name: str, platform: str, *, layer: int = 3, mbps: int = 10) -> RouterSim:
    """Run the `platform` simulator as router `name` (ct or cu) instead of its sshd."""
    h = bed.host(name)
    state = h.dir / f"routersim-{platform}"
    state.mkdir(parents=True, exist_ok=True)
    for f in ("saves", "commands.log", "logbuffer"):
        (state / f).unlink(missing_ok=True)
    line_port, uplink_port, spare = PORTS[platform]
    sim = RouterSim(name, platform, state, "netops", secrets.token_urlsafe(12),
                    secrets.token_urlsafe(12), line_port)
    (state / "tracks.json").write_text(json.dumps(
        [{"id": 1, "peer": BACKUP_PEER[name], "iface": uplink_port, "up": True}]))
    up_dev, up_addr = UPLINK[name]
    cfg = {"platform": platform, "hostname": HOSTNAME[platform], "address": h.mgmt_address, "port": 22,
           "host_key": str(h.dir / "ssh_host_ed25519_key"), "username": sim.username,
           "password": sim.password, "secret": sim.secret, "state_dir": str(state),
           "tz_hours": 0 if platform == "cisco_ios" else 8,
           "interfaces": [
               {"name": line_port, "dev": "line0", "address": LINE_ADDR[name], "layer": layer,
                "mbps": mbps, "description": f"SSCC line ({name})"},
               {"name": uplink_port, "dev": up_dev, "address": up_addr, "description": "carrier uplink"},
               {"name": spare, "dev": None, "address": None, "description": ""}],
           "routes": []}
    (state / "config.json").write_text(json.dumps(cfg))
    _stop_sshd(bed, name)
    bedlib.wait_for(lambda: not _listening(bed, name), 10, f"sshd on {name} to stop")
    script = Path(__file__).with_name("server.py")
    bed.spawn(name, [sys.executable, str(script), str(state / "config.json")], state / "server.log")
    bedlib.wait_for(lambda: _listening(bed, name), 15, f"router simulator on {name}")
    return sim


def stop(bed: bedlib.HostBed, name: str) -> None:
    """Stop the simulator of router `name` and give it back its sshd."""
    h = bed.host(name)
    for proc in list(bed.procs):
        if proc.args[3] == h.netns and any(str(a).endswith("routersim/server.py") for a in proc.args):
            bedlib._kill_group(proc)
            bed.procs.remove(proc)
    bed._start_sshd(h)


def blackholes(bed: bedlib.HostBed, name: str) -> str:
    return bed.exec(name, "ip", "route", "show", "type", "blackhole").stdout


def router_inventory(bed: bedlib.HostBed, folder: Path, sims: dict[str, RouterSim], **kwargs) -> Path:
    """The bed's `driver: linux` inventory with the simulated routers as network devices:
    each line's `platform` and vendor `interface`, each router's login (user, password,
    enable/super secret) as a firm would keep them (in Vault there; plain here)."""
    import yaml
    from hostbed.inventory import inventory_doc, trust_all

    folder.mkdir(parents=True, exist_ok=True)
    doc = inventory_doc(bed, folder, **kwargs)
    for ln in doc["all"]["vars"]["drill"]["lines"]:
        sim = sims.get(ln["router"])
        if sim is not None:
            ln["platform"] = sim.platform
            ln["interface"] = sim.line_port
    routers = doc["all"]["children"]["routers"]["hosts"]
    for name, sim in sims.items():
        routers[name].update({"ansible_user": sim.username, "ansible_password": sim.password,
                              "drill_enable_secret": sim.secret})
    (folder / "hosts.yml").write_text(
        "# Test-bed inventory with simulated network routers (tests/hostbed/routersim).\n"
        + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    trust_all(bed, folder)
    return folder
