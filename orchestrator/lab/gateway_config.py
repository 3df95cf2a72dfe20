"""A lab gateway's configuration: its XML server list, monitor, timing and lab endpoints.

The same file the gateway playbooks render (playbooks/templates/server_list.xml.j2); the
gateway re-reads it on restart, which is how a repoint takes effect.
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Server:
    centre: str
    address: str
    port: int


@dataclass(frozen=True)
class GatewayConfig:
    path: Path
    sha256: str
    id: str
    kind: str
    monitor: tuple[str, int]
    heartbeat_interval: float
    heartbeat_timeout: float
    reconnect_interval: float
    servers: tuple[Server, ...]
    router: tuple[str, int] | None = None
    multicast: tuple[str, int] | None = None
    log: Path | None = None


def load_config(path: Path) -> GatewayConfig:
    data = path.read_bytes()
    root = ET.fromstring(data)
    mon = root.find("monitor")
    timing = root.find("timing")
    assert mon is not None and timing is not None, "config needs <monitor> and <timing>"
    lab = root.find("lab")

    def ep(el: ET.Element | None) -> tuple[str, int] | None:
        return (el.get("address", ""), int(el.get("port", "0"))) if el is not None else None

    return GatewayConfig(
        path=path, sha256=hashlib.sha256(data).hexdigest(),
        id=root.get("id", ""), kind=root.get("kind", "trading"),
        monitor=(mon.get("address", "127.0.0.1"), int(mon.get("port", "0"))),
        heartbeat_interval=float(timing.get("heartbeat_interval", "0.5")),
        heartbeat_timeout=float(timing.get("heartbeat_timeout", "2.0")),
        reconnect_interval=float(timing.get("reconnect_interval", "0.5")),
        servers=tuple(Server(s.get("centre", "?"), s.get("address", ""), int(s.get("port", "0")))
                      for s in root.iter("server")),
        router=ep(lab.find("router")) if lab is not None else None,
        multicast=ep(lab.find("multicast")) if lab is not None else None,
        log=Path(lab.find("log").get("path", "")) if lab is not None and lab.find("log")
        is not None else None,  # type: ignore[union-attr]
    )
