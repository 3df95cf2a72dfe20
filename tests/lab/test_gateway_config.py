"""Gateway configs follow SSCC's even/odd rule, and a restart picks up a changed config
(how the repoint playbooks take effect)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import jinja2
from lab_helpers import monitor_events, monitor_status, truth_when, wait_for

from orchestrator.lab.config import template_vars

TEMPLATE = Path(__file__).resolve().parents[2] / "playbooks" / "templates" / "server_list.xml.j2"


def _render(**variables) -> str:
    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined)
    return env.from_string(TEMPLATE.read_text()).render(**variables)


def test_server_order_follows_the_last_digit(lab):
    for gw in lab.inventory().gateways:
        servers = monitor_status(lab, gw.id)["config"]["servers"]
        first = "FT" if int(gw.id.rstrip("TFJS")[-1]) % 2 == 0 else "NF"
        assert [s["centre"] for s in servers] == [first, "NF" if first == "FT" else "FT"]


def test_template_escapes_and_carries_the_credential(lab):
    variables = template_vars(lab.inventory(), "W000000T", lab.state_dir)
    root = ET.fromstring(_render(**{**variables, "password": 's3cr<e>t"&'}))
    assert root.find("credential").get("password") == 's3cr<e>t"&'
    assert root.get("id") == "W000000T"


def test_restart_picks_up_a_changed_config(lab):
    inv = lab.inventory()
    gw = inv.gateway("W000000T")
    before = monitor_status(lab, gw.id)
    variables = template_vars(inv, gw.id, lab.state_dir)
    bj = inv.centre("BJ").services["trading"]
    variables["servers"] = [{"centre": "BJ", "address": bj.address, "port": bj.port}]
    (lab.state_dir / gw.config).write_text(_render(**variables))
    resp = lab.client.gateway_restart(gw.id)
    assert resp["pid"] != before["pid"]
    after = wait_for(lambda: (s := monitor_status(lab, gw.id))["state"] == "logged_in"
                     and s["pid"] == resp["pid"] and s, 15, "the restarted gateway on BJ")
    assert after["centre"] == "BJ" and after["config"]["sha256"] != before["config"]["sha256"]
    truth_when(lab, "login_accepted", lambda rs: rs[-1]["centre"] == "BJ" if rs else None,
               gateway=gw.id)
    closed = truth_when(lab, "session_closed", gateway=gw.id)
    assert closed and closed[0]["reason"] == "logout"  # a clean stop logs out first
    config_events = [e for e in monitor_events(lab, gw.id) if e["type"] == "config"]
    assert config_events[0]["data"]["servers"] == variables["servers"]
