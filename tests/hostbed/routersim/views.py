"""`display …` / `show …` output of the simulated routers, in each vendor's layout."""

from __future__ import annotations

import ipaddress

from routersim.device import Device, Interface


def render(dev: Device, w: list[str]) -> str | None:
    """The output of a display/show command (words after the verb); None: not a command."""
    p = dev.platform
    if not w:
        return None
    key = w[0]
    if p == "cisco_ios":
        if key in ("running-config", "run"):
            return dev.running()
        if key == "startup-config":
            return dev.startup_path.read_text()
        if key == "clock":
            n = dev.now()
            return "*" + n.strftime("%H:%M:%S.") + f"{n.microsecond // 1000:03d} UTC " + \
                n.strftime("%a %b ") + f"{n.day} {n.year}"
        if key in ("interfaces", "interface") and len(w) > 1:
            return _iface(dev, " ".join(w[1:]))
        if key == "track":
            return _tracks(dev)
        if key == "logging":
            return _log(dev)
        return None
    if key in ("current-configuration", "cur"):
        return dev.running()
    if key == "saved-configuration":
        return dev.startup_path.read_text()
    if key == "clock":
        n = dev.now()
        if p == "huawei_vrp":
            return (n.strftime("%Y-%m-%d %H:%M:%S") + "+08:00\n" + n.strftime("%A") +
                    "\nTime Zone(BJ) : UTC+08:00")
        return (n.strftime("%H:%M:%S.") + f"{n.microsecond // 1000:03d} CST " + n.strftime("%a %m/%d/%Y")
                + "\nTime Zone : CST add 08:00:00")
    if key == "interface" and len(w) > 1:
        return _iface(dev, " ".join(w[1:]))
    if p == "huawei_vrp" and w[:3] == ["bfd", "session", "all"]:
        return _tracks(dev)
    if p == "h3c_comware" and w[:2] == ["track", "all"]:
        return _tracks(dev)
    if key == "logbuffer":
        return _log(dev)
    return None


def _log(dev: Device) -> str:
    path = dev.state_dir / "logbuffer"
    body = path.read_text().rstrip("\n") if path.exists() else ""
    return f"Logging buffer configuration and contents : enabled\n{body}"


def _iface(dev: Device, name: str) -> str | None:
    ifc: Interface | None = dev.interfaces.get(name)
    if ifc is None:
        return "__param__"
    up = dev.oper_up(ifc)
    addr = ipaddress.ip_interface(ifc.address) if ifc.address else None
    if dev.platform == "cisco_ios":
        state = "administratively down" if ifc.shut else "up" if up else "down"
        out = [f"{ifc.name} is {state}, line protocol is {'up' if up else 'down'}",
               "  Hardware is iGbE, address is 5254.0012.3456 (bia 5254.0012.3456)"]
        if ifc.description:
            out.append(f"  Description: {ifc.description}")
        if ifc.layer == 2:
            out.append("  Switchport mode access")
        elif addr:
            out.append(f"  Internet address is {addr}")
        out.append(f"  MTU 1500 bytes, BW {ifc.mbps * 1000} Kbit/sec, DLY 10 usec,")
        return "\n".join(out)
    state = "Administratively DOWN" if ifc.shut else "UP" if up else "DOWN"
    if dev.platform == "huawei_vrp":
        out = [f"{ifc.name} current state : {state}", f"Line protocol current state : {'UP' if up else 'DOWN'}",
               f"Description: {ifc.description}",
               ("Route Port" if ifc.layer == 3 else "Switch Port") + ",The Maximum Transmit Unit is 1500"]
        if addr and ifc.layer == 3:
            out.append(f"Internet Address is {addr}")
        out += [f"Current BW : {ifc.mbps}Mbps", "Port Mode: COMMON COPPER"]
        return "\n".join(out)
    out = [ifc.name, f"Current state: {state}", f"Line protocol state: {'UP' if up else 'DOWN'}",
           f"Description: {ifc.description}", f"Bandwidth: {ifc.mbps * 1000} kbps",
           "Route mode" if ifc.layer == 3 else "Bridge mode"]
    if addr and ifc.layer == 3:
        out.append(f"Internet address: {addr.ip}/{addr.network.prefixlen} (primary)")
    return "\n".join(out)


def _tracks(dev: Device) -> str:
    """Tracked objects from tracks.json: [{"id": 1, "peer": "198.18.2.1", "iface": "…", "up": true}]."""
    tracks = dev.tracks()
    if dev.platform == "huawei_vrp":
        sep = "-" * 80
        out = [sep, "Local Remote     PeerIpAddr      State     Type        InterfaceName", sep]
        for t in tracks:
            out.append(f"{8191 + t['id']:<5} {8191 + t['id']:<10} {t['peer']:<15} "
                       f"{'Up' if t['up'] else 'Down':<9} S_AUTO_PF   {t['iface']}")
        up = sum(1 for t in tracks if t["up"])
        out += [sep, f"     Total UP/DOWN Session Number : {up}/{len(tracks) - up}"]
        return "\n".join(out)
    if dev.platform == "h3c_comware":
        out = []
        for t in tracks:
            out += [f"Track ID: {t['id']}", f"  State: {'Positive' if t['up'] else 'Negative'}",
                    "  Duration: 0 days 0 hours 5 minutes 12 seconds", "  Tracked object type: NQA",
                    "  Notification delay: Positive 0, Negative 0 (in seconds)", "  Tracked object:",
                    f"    NQA entry: drill backup-{t['id']}", f"    Reaction: {t['id']}",
                    f"    Remote IP: {t['peer']}"]
        return "\n".join(out)
    out = []
    for t in tracks:
        out += [f"Track {t['id']}", f"  IP SLA {t['id']} state", f"  State is {'Up' if t['up'] else 'Down'}",
                "    1 change, last change 00:05:12", f"  Tracked by:\n    Static IP Routing 0 ({t['peer']})"]
    return "\n".join(out)
