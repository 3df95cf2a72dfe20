"""Helpers for tests that need a real lab: collision-free inventories and a managed lab.

`make_lab_inventory` picks a free 127.X second octet for every address of the lab: the
centres (127.X.60/50/70.y), the lines, and the router, feed and monitors on 127.X.0.1
(ports 17000, 17100 and 17200 up, checked free). Labs in parallel tests therefore never
collide with each other (parallel pytest-xdist workers pick from disjoint octets) or with
the default lab (127.60/50/70.101.x, 127.0.0.1), and
`drill lab up --gateways N` can count monitor ports up without meeting the ephemeral
ports that loopback connections take from 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import random
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from orchestrator.lab.config import generate_gateways
from orchestrator.lab.control import LabHandle, lab_down, lab_up

_RESERVED_OCTETS = {0, 1, 50, 60, 70}
_SERVICE_PORTS = {"trading": 7043, "market_data": 7044, "settlement": 7013, "settlement_sm": 7015}


def _bindable(address: str, port: int, kind: int = socket.SOCK_STREAM) -> bool:
    with socket.socket(socket.AF_INET, kind) as s:
        try:
            s.bind((address, port))
        except OSError:
            return False
    return True


def _own_octets() -> list[int]:
    """The octets this process may pick: under pytest-xdist, worker N of M takes those
    equal to N modulo M, so two workers never both find one free and start labs on it
    (the free check and the lab's bind are not one step)."""
    import os

    octets = [o for o in range(2, 255) if o not in _RESERVED_OCTETS]
    worker, count = os.environ.get("PYTEST_XDIST_WORKER", ""), os.environ.get("PYTEST_XDIST_WORKER_COUNT", "")
    if worker.startswith("gw") and worker[2:].isdigit() and count.isdigit() and int(count) > 1:
        octets = [o for o in octets if o % int(count) == int(worker[2:]) % int(count)]
    return octets


def _free_octet(rng: random.Random) -> int:
    own = _own_octets()
    for _ in range(500):
        octet = rng.choice(own)
        addrs = [f"127.{octet}.{third}.{fourth}" for third in (60, 50, 70) for fourth in (30, 60, 70)]
        if all(_bindable(a, p) for a in addrs for p in (7043, 7044, 7013, 7015)) and \
                _bindable(f"127.{octet}.0.1", 17000):
            return octet
    raise RuntimeError("no free 127.X octet for a test lab")


def free_ports(count: int, address: str = "127.0.0.1") -> list[int]:
    """Distinct ports free on `address` right now (TCP and UDP)."""
    ports: list[int] = []
    socks = []
    try:
        while len(ports) < count:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((address, 0))
            socks.append(s)
            port = s.getsockname()[1]
            if port not in ports and _bindable(address, port, socket.SOCK_DGRAM):
                ports.append(port)
    finally:
        for s in socks:
            s.close()
    return ports


def lab_inventory_doc(octet: int, gateways: int, name: str, router_port: int, feed_port: int,
                      monitor_ports: list[int], timing: dict[str, float] | None = None,
                      host: str = "127.0.0.1") -> dict[str, Any]:
    base = f"127.{octet}"
    centres = []
    for cid, third, role, zh, en in (("FT", 60, "production", "福田中心", "Futian centre"),
                                     ("NF", 50, "production", "南方中心", "Nanfang centre"),
                                     ("BJ", 70, "dr", "北京（亦庄）异地灾备中心",
                                      "Beijing (Yizhuang) DR centre")):
        last_octet = {"trading": 30, "market_data": 60, "settlement": 70, "settlement_sm": 70}
        centres.append({
            "id": cid, "role": role, "name": {"zh": zh, "en": en},
            "services": {svc: {"address": f"{base}.{third}.{last_octet[svc]}", "port": port}
                         for svc, port in _SERVICE_PORTS.items()},
        })
    lines = []
    for n, (lid, carrier, centre, mbps, medium, pref) in enumerate((
            ("ct-ft", "CT", "FT", 10, "terrestrial", 10),
            ("cu-nf", "CU", "NF", 10, "terrestrial", 10),
            ("ct-nf", "CT", "NF", 4, "terrestrial", 20),
            ("sat-1", "CS", "FT", 2, "satellite-oneway", 90)), start=1):
        lines.append({"id": lid, "carrier": carrier, "centre": centre, "mbps": mbps,
                      "port_layer": 3, "medium": medium, "preference": pref, "router": "lab",
                      "local_address": f"{base}.1.{n}", "remote_address": f"{base}.2.{n}"})
    gws = generate_gateways(gateways, host, 0)
    for gw, port in zip(gws, monitor_ports, strict=True):
        gw["monitor"]["port"] = port
    return {"all": {
        "vars": {"drill": {
            "environment": {"name": name, "kind": "lab", "timezone": "Asia/Shanghai"},
            "driver": "lab",
            "retention_days": 366,
            "timing": {"heartbeat_interval": 0.5, "heartbeat_timeout": 2.0,
                       "server_session_timeout": 2.0, "reconnect_interval": 0.5,
                       "probe_period": 0.05, **(timing or {})},
            "centres": centres,
            "carriers": [{"id": "CT", "name": {"zh": "中国电信", "en": "China Telecom"}},
                         {"id": "CU", "name": {"zh": "中国联通", "en": "China Unicom"}},
                         {"id": "CS", "name": {"zh": "中国卫通", "en": "China Satcom"}}],
            "lines": lines,
            "multicast": {"address": host, "port": feed_port, "line": "sat-1"},
            "gateways": gws,
            "lab": {"router": {"address": host, "port": router_port},
                    "settlement_file_bytes": 65536, "md_channels": 2, "md_rate_hz": 20},
            "change_windows": [],
            "notifications": {},
        }},
        "children": {"drill_control": {"hosts": {"lab": {
            "ansible_connection": "local",
            "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}}},
    }}


def make_lab_inventory(tmp_path: Path, gateways: int = 5, name: str | None = None, *,
                       timing: dict[str, float] | None = None) -> Path:
    """Write `tmp_path/<name>/hosts.yml`, a lab inventory no other lab collides with."""
    rng = random.Random(uuid.uuid4().int)
    octet = _free_octet(rng)
    name = name or f"t{octet}-{uuid.uuid4().hex[:6]}"
    host = f"127.{octet}.0.1"
    ports = [17000, 17100, *range(17200, 17200 + gateways)]
    if not (_bindable(host, 17000) and _bindable(host, 17100, socket.SOCK_DGRAM)
            and all(_bindable(host, p) for p in ports[2:])):
        ports = free_ports(2 + gateways, host)
    doc = lab_inventory_doc(octet, gateways, name, ports[0], ports[1], ports[2:], timing, host)
    folder = Path(tmp_path) / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hosts.yml").write_text(
        f"# Test lab inventory (orchestrator.lab.testing), octet {octet}\n"
        + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return folder


@contextlib.contextmanager
def running_lab(inventory_path: Path, drill_home: Path, timeout: float | None = None
                ) -> Iterator[LabHandle]:
    """Start the lab, wait until every gateway is logged in, yield it, always bring it down."""
    handle = None
    try:
        handle = lab_up(inventory_path, drill_home=drill_home, wait=True, timeout=timeout)
        yield handle
    finally:
        from orchestrator.config.inventory import load_inventory
        from orchestrator.lab.control import lab_state_dir

        if handle is not None:
            lab_down(handle.state_dir)
        else:  # lab_up failed half-way; it cleans up, but be sure
            name = load_inventory(inventory_path).environment.name
            lab_down(lab_state_dir(name, drill_home))
