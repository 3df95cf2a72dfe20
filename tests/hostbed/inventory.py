"""Write a `driver: linux` inventory for a built test bed (the shape a firm's own takes).

The SSH part is plain Ansible: `ansible_host`, `ansible_user`,
`ansible_ssh_private_key_file`, and for hosts behind the bastion a ProxyCommand through
it, both hops checked against the inventory's managed known_hosts with
StrictHostKeyChecking=yes. drill's paramiko side reads `drill_ssh_via` for the same hop.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml
from hostbed.bed import BJ_NET, CENTRE_NET, SERVICE_HOSTS, HostBed

SERVICE_PORTS = {"trading": 7043, "market_data": 7044, "settlement": 7013, "settlement_sm": 7015}
MONITOR_PORT = 17200


def fingerprint_of(pub: Path) -> str:
    out = subprocess.run(["ssh-keygen", "-lf", str(pub)], capture_output=True, text=True, check=True).stdout
    return out.split()[1]


def ssh_args(known_hosts: Path, key: Path, bastion: str | None) -> str:
    strict = f"-o UserKnownHostsFile={known_hosts} -o StrictHostKeyChecking=yes -o BatchMode=yes"
    if bastion is None:
        return strict
    jump = f"ssh {strict} -i {key} -W %h:%p root@{bastion}"
    return f'{strict} -o ProxyCommand="{jump}"'


def gateway_entries(bed: HostBed, ports: dict[str, int]) -> list[dict[str, Any]]:
    """Trading gateways on the gateway host; monitors on its loopback (forwarded by drill)."""
    base = bed.host("gw").dir
    return [{"id": gid, "kind": "trading", "host": "gw",
             "monitor": {"address": "127.0.0.1", "port": port},
             "config": str(base / "gateways" / gid / "server_list.xml"),
             # the bed runs the lab gateway: its config is the lab's XML (issue 13)
             "config_format": "lab-xml",
             "service": f"sscc-gateway@{gid}"} for gid, port in ports.items()]


def gateway_host_vars(bed: HostBed, gateways: list[dict[str, Any]]) -> dict[str, Any]:
    """The gw host's service manager (tests/hostbed/svc.py) and one unit per gateway."""
    import json
    import sys

    svc_dir = bed.host("gw").dir / "svc"
    (svc_dir / "units").mkdir(parents=True, exist_ok=True)
    (svc_dir / "logs").mkdir(parents=True, exist_ok=True)
    for g in gateways:
        Path(g["config"]).parent.mkdir(parents=True, exist_ok=True)
        (svc_dir / "units" / f"{g['service']}.json").write_text(json.dumps({
            "argv": [sys.executable, "-m", "orchestrator.lab.gateway", g["config"]],
            "log": str(svc_dir / "logs" / f"{g['id']}.log")}))
    return {"drill_service_ctl": f"{sys.executable} {Path(__file__).with_name('svc.py')} --dir {svc_dir}",
            "drill_gateway_log": str(svc_dir / "logs" / "{id}.log")}


def inventory_doc(bed: HostBed, folder: Path, *, fingerprints: bool = True,
                  gateways: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    known_hosts = folder / "known_hosts"

    def host(name: str, **extra: Any) -> dict[str, Any]:
        h = bed.host(name)
        via = None if name == "bastion" else "bastion"
        out: dict[str, Any] = {"ansible_host": h.mgmt_address,
                               "ansible_ssh_common_args": ssh_args(known_hosts, bed.client_key,
                                                                   None if via is None else bed.bastion_address)}
        if via:
            out["drill_ssh_via"] = via
        if fingerprints:
            out["ssh_host_fingerprints"] = [fingerprint_of(h.host_key_pub)]
        return {**out, **extra}

    centres = []
    for cid, net in CENTRE_NET.items():
        services = {svc: {"address": f"{net}.{SERVICE_HOSTS[svc]}", "port": port}
                    for svc, port in SERVICE_PORTS.items() if svc != "settlement_sm"}
        services["settlement_sm"] = {"address": f"{net}.70", "port": SERVICE_PORTS["settlement_sm"]}
        centres.append({"id": cid, "role": "production", "name": {"zh": cid, "en": cid}, "services": services})
    if bed.extended:  # the Beijing DR centre, reached through either line (bed.py's module doc)
        services = {svc: {"address": f"{BJ_NET}.{SERVICE_HOSTS[svc]}", "port": port}
                    for svc, port in SERVICE_PORTS.items() if svc != "settlement_sm"}
        services["settlement_sm"] = {"address": f"{BJ_NET}.70", "port": SERVICE_PORTS["settlement_sm"]}
        centres.append({"id": "BJ", "role": "dr", "name": {"zh": "北京", "en": "Beijing"}, "services": services})
    drill = {
        "environment": {"name": f"hostbed-{bed.prefix}", "kind": "test", "timezone": "Asia/Shanghai"},
        "driver": "linux",
        "retention_days": 366,
        "timing": {"heartbeat_interval": 0.5, "heartbeat_timeout": 2.0, "server_session_timeout": 2.0,
                   "reconnect_interval": 0.5, "probe_period": 0.05},
        "centres": centres,
        "carriers": [{"id": "CT", "name": {"zh": "中国电信", "en": "China Telecom"}},
                     {"id": "CU", "name": {"zh": "中国联通", "en": "China Unicom"}}],
        "lines": [
            {"id": "ct-ft", "carrier": "CT", "centre": "FT", "mbps": 10, "port_layer": 3,
             "medium": "terrestrial", "preference": 10, "router": "ct", "interface": "line0",
             "local_address": "198.18.1.1", "remote_address": "198.18.1.2"},
            {"id": "cu-nf", "carrier": "CU", "centre": "NF", "mbps": 10, "port_layer": 3,
             "medium": "terrestrial", "preference": 10, "router": "cu", "interface": "line0",
             "local_address": "198.18.2.1", "remote_address": "198.18.2.2"},
        ],
        "gateways": gateways or [],
        # The bed may be drilled at any hour.
        "change_windows": [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                            "start": "00:00", "end": "24:00"}],
        "notifications": {},
    }
    return {"all": {
        "vars": {"ansible_user": "root", "ansible_ssh_private_key_file": str(bed.client_key),
                 "ansible_python_interpreter": "/usr/bin/python3", "drill": drill},
        "children": {
            "drill_control": {"hosts": {"localhost": {
                "ansible_connection": "local",
                "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}},
            "bastions": {"hosts": {"bastion": host("bastion")}},
            "routers": {"hosts": {"ct": host("ct"), "cu": host("cu")}},
            "gateway_hosts": {"hosts": {"gw": host("gw", **(gateway_host_vars(bed, gateways)
                                                            if gateways else {})),
                                        **({"gw2": host("gw2")} if bed.extended else {})}},
            "centres": {"hosts": {"ft": host("ft"), "nf": host("nf"),
                                  **({"bj": host("bj")} if bed.extended else {})}},
        },
    }}


def write_inventory(bed: HostBed, folder: Path, **kwargs: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    doc = inventory_doc(bed, folder, **kwargs)
    (folder / "hosts.yml").write_text(
        "# Test-bed inventory generated by tests/hostbed/inventory.py (driver: linux).\n"
        + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return folder


def trust_all(bed: HostBed, folder: Path) -> Path:
    """Write the managed known_hosts straight from the bed's host keys (pre-enrolled)."""
    path = folder / "known_hosts"
    path.write_text("\n".join(bed.known_hosts_lines()) + "\n")
    return path
