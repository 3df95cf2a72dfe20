"""Install and drive the bed's vendor-style gateway (tests/hostbed/vendorgw) on its hosts.

Each gateway host keeps its instances under `<host dir>/sscc`: `<ID>/gateway.ini` (the
vendor's INI: GB18030, CRLF, comments), `logs/<ID>.log`, `recv/<ID>/` and `run/`. The
init script `vendorgw/sscc-gw` starts and stops them; `ctl(bed, host)` is what an
inventory's `drill_service_ctl` names. Everything else the tests learn from the gateway
is what drill could learn on a firm's host: its log, its sockets, its receive directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hostbed.bed import BJ_NET, CENTRE_NET, SAT_ADDRESS, SAT_GROUP, SERVICE_HOSTS, HostBed

VENDORGW = Path(__file__).with_name("vendorgw")
PROFILE = VENDORGW / "profile.yaml"
PORTS = {"trading": 7043, "market_data": 7044, "settlement": 7013}
NETS = {**CENTRE_NET, "BJ": BJ_NET}


@dataclass(frozen=True)
class VendorGateway:
    id: str
    service: str  # trading | market_data | settlement
    host: str  # the bed host it runs on (gw or gw2)
    home: Path
    servers: tuple[tuple[str, int], ...]  # in the SSCC-assigned order

    @property
    def config(self) -> Path:
        return self.home / self.id / "gateway.ini"

    @property
    def log(self) -> Path:
        return self.home / "logs" / f"{self.id}.log"

    @property
    def recv_dir(self) -> Path:
        return self.home / "recv" / self.id


def home_of(bed: HostBed, host: str) -> Path:
    return bed.host(host).dir / "sscc"


def ctl(bed: HostBed, host: str) -> str:
    """The service manager command for a host's instances (`<ctl> restart <ID>`)."""
    return f"{VENDORGW / 'sscc-gw'} {home_of(bed, host)}"


def server(centre: str, service: str) -> tuple[str, int]:
    return f"{NETS[centre]}.{SERVICE_HOSTS[service]}", PORTS[service]


def gateway(bed: HostBed, gid: str, service: str, host: str, order: tuple[str, ...]) -> VendorGateway:
    """A gateway whose servers are `service` at the centres in `order` (e.g. ("FT", "NF"))."""
    return VendorGateway(gid, service, host, home_of(bed, host), tuple(server(c, service) for c in order))


def _server_lines(g: VendorGateway, service: str) -> str:
    if service != g.service:
        return "; 本实例不使用此服务"
    return "\n".join(f"Server{i}={addr}:{port}" for i, (addr, port) in enumerate(g.servers, 1))


def render_config(g: VendorGateway, *, hb_ms: int = 500, hb_timeout_ms: int = 2000,
                  reconnect_ms: int = 500, log_max: int = 10 * 1024 * 1024) -> bytes:
    """The instance's INI as the vendor ships it: GB18030 with CRLF line ends."""
    text = (VENDORGW / "gateway.ini.tmpl").read_text(encoding="utf-8").format(
        gateway_id=g.id, service=g.service,
        trading=_server_lines(g, "trading"), market_data=_server_lines(g, "market_data"),
        settlement=_server_lines(g, "settlement"),
        mcast_group=SAT_GROUP[0], mcast_port=SAT_GROUP[1], mcast_iface=SAT_ADDRESS.get(g.host, "0.0.0.0"),
        recv_dir=g.recv_dir, hb_ms=hb_ms, hb_timeout_ms=hb_timeout_ms, reconnect_ms=reconnect_ms,
        log_file=g.log, log_max=log_max)
    return text.replace("\n", "\r\n").encode("gb18030")


def install(g: VendorGateway, **timing: int) -> Path:
    """Write the instance's config (the bed's hosts share the runner's filesystem)."""
    g.config.parent.mkdir(parents=True, exist_ok=True)
    g.config.write_bytes(render_config(g, **timing))
    return g.config


def read_log(g: VendorGateway) -> list[str]:
    """The instance's log lines (current file only), decoded as the vendor writes them."""
    try:
        return g.log.read_bytes().decode("gb18030").split("\r\n")[:-1]
    except FileNotFoundError:
        return []
