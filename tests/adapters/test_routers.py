"""Router platforms: the CLI lines each dialect sends, the device output it reads, the
inventory's `platform`, the playbooks' registry and `drill plan`'s CLI lines."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml

from orchestrator.adapters.routers import DIALECTS, dialect, planned_cli
from orchestrator.config.inventory import load_inventory
from orchestrator.errors import InputError
from orchestrator.model.inventory import ROUTER_PLATFORMS

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "inventories" / "production.example"
FT = ("172.60.101.30", "172.60.101.60", "172.60.101.70")


def test_cut_and_restore_lines_per_platform():
    vrp, comware, ios = DIALECTS["huawei_vrp"], DIALECTS["h3c_comware"], DIALECTS["cisco_ios"]
    assert vrp.session(vrp.cut_lines("shutdown", "GigabitEthernet0/0/1", FT)) == (
        "super", "system-view", "interface GigabitEthernet0/0/1", "shutdown", "quit", "return")
    assert comware.cut_lines("blackhole", None, FT[:1]) == ("ip route-static 172.60.101.30 255.255.255.255 NULL0",)
    assert ios.session(ios.cut_lines("blackhole", "Gi0/1", FT[:2])) == (
        "enable", "configure terminal", "ip route 172.60.101.30 255.255.255.255 Null0",
        "ip route 172.60.101.60 255.255.255.255 Null0", "end")
    assert ios.restore_lines("GigabitEthernet0/1", True, FT[:1]) == (
        "interface GigabitEthernet0/1", "no shutdown", "exit", "no ip route 172.60.101.30 255.255.255.255 Null0")
    assert vrp.restore_lines("GigabitEthernet0/0/1", False, ()) == ()
    with pytest.raises(ValueError, match="needs the line's interface"):
        vrp.cut_lines("shutdown", None, FT)
    with pytest.raises(ValueError, match="unknown router platform 'junos'"):
        dialect("junos")


def test_the_running_configuration_says_what_a_restore_must_undo():
    vrp = DIALECTS["huawei_vrp"]
    running = ("#\ninterface GigabitEthernet0/0/1\n description line\n shutdown\n#\n"
               "interface GigabitEthernet0/0/2\n ip address 10.0.0.1 255.255.255.252\n#\n"
               "ip route-static 172.60.101.60 255.255.255.255 NULL0\n#\nreturn\n")
    assert vrp.interface_shut(running, "GigabitEthernet0/0/1")
    assert not vrp.interface_shut(running, "GigabitEthernet0/0/2")
    assert vrp.blackholes(running, FT) == ("172.60.101.60",)
    ios = DIALECTS["cisco_ios"]
    assert ios.interface_shut("interface Gi0/1\n shutdown\n!\ninterface Gi0/2\n!\n", "Gi0/1")


def _utc(*args) -> int:
    return int(dt.datetime(*args, tzinfo=dt.UTC).timestamp()) * 10**9


def test_device_clocks_are_read_in_utc():
    assert DIALECTS["huawei_vrp"].parse_clock(
        "2026-12-05 19:40:12+08:00\nSaturday\nTime Zone(BJ) : UTC+08:00") == _utc(2026, 12, 5, 11, 40, 12)
    assert DIALECTS["h3c_comware"].parse_clock(
        "19:40:12.250 CST Sat 12/05/2026\nTime Zone : CST add 08:00:00") == _utc(2026, 12, 5, 11, 40, 12) + 250_000_000
    assert DIALECTS["cisco_ios"].parse_clock("*11:40:12.500 UTC Sat Dec 5 2026") == \
        _utc(2026, 12, 5, 11, 40, 12) + 500_000_000
    with pytest.raises(ValueError, match="UTC"):
        DIALECTS["cisco_ios"].parse_clock("*19:40:12.500 CST Sat Dec 5 2026")


def test_interface_state_layer_and_bandwidth():
    s = DIALECTS["huawei_vrp"].parse_interface(
        "GigabitEthernet0/0/1 current state : Administratively DOWN\nLine protocol current state : DOWN\n"
        "Switch Port,The Maximum Transmit Unit is 1500\nCurrent BW : 10Mbps")
    assert (s.admin_up, s.oper_up, s.layer3, s.mbps) == (False, False, False, 10.0)
    s = DIALECTS["h3c_comware"].parse_interface(
        "GigabitEthernet1/0/1\nCurrent state: UP\nLine protocol state: UP\nBandwidth: 10000 kbps\nRoute mode")
    assert (s.admin_up, s.oper_up, s.layer3, s.mbps) == (True, True, True, 10.0)
    s = DIALECTS["cisco_ios"].parse_interface(
        "GigabitEthernet0/1 is up, line protocol is up\n  Internet address is 10.0.0.1/30\n"
        "  MTU 1500 bytes, BW 2000 Kbit/sec, DLY 10 usec,")
    assert (s.admin_up, s.oper_up, s.layer3, s.mbps) == (True, True, True, 2.0)


def test_bfd_and_track_states():
    bfd = DIALECTS["huawei_vrp"].parse_tracking(
        "Local Remote     PeerIpAddr      State     Type        InterfaceName\n"
        "8192  8192       10.0.0.2        Up        S_AUTO_PF   GigabitEthernet0/0/2\n"
        "8193  8193       10.0.0.6        Down      S_AUTO_PF   GigabitEthernet0/0/3\n")
    assert [(t.name, t.up) for t in bfd] == [("BFD 10.0.0.2 (GigabitEthernet0/0/2)", True),
                                            ("BFD 10.0.0.6 (GigabitEthernet0/0/3)", False)]
    track = DIALECTS["h3c_comware"].parse_tracking("Track ID: 1\n  State: Negative\nTrack ID: 2\n  State: Positive\n")
    assert [(t.name, t.up) for t in track] == [("track 1", False), ("track 2", True)]
    ios = DIALECTS["cisco_ios"].parse_tracking("Track 7\n  IP SLA 7 state\n  State is Up\n")
    assert [(t.name, t.up) for t in ios] == [("track 7", True)]


def test_the_playbooks_registry_names_every_platform():
    registry = yaml.safe_load((ROOT / "playbooks" / "vars" / "drill.yml").read_text())["drill_router_platforms"]
    assert set(registry) == set(ROUTER_PLATFORMS)
    for platform, tasks in registry.items():
        assert (ROOT / "playbooks" / "drivers" / "linux" / tasks).is_file()
        if platform != "linux":
            assert tasks == DIALECTS[platform].tasks


def test_platform_in_the_inventory(tmp_path):
    inv = load_inventory(EXAMPLE)
    assert {ln.id: ln.platform for ln in inv.lines} == {
        "ct-ft": "huawei_vrp", "cu-nf": "h3c_comware", "sat-1": "cisco_ios"}
    cli = planned_cli(inv, ["ct-ft"], "down", "shutdown")
    assert cli == {"ct-router (huawei_vrp)": ["super", "system-view", "interface GigabitEthernet0/0/1",
                                             "shutdown", "quit", "return"]}
    down = planned_cli(inv, ["cu-nf"], "down", "blackhole")["cu-router (h3c_comware)"]
    assert "ip route-static 172.50.101.30 255.255.255.255 NULL0" in down

    copy = tmp_path / "inv"
    shutil.copytree(EXAMPLE, copy)
    drill_yml = copy / "group_vars" / "all" / "drill.yml"
    text = drill_yml.read_text()
    drill_yml.write_text(text.replace("platform: cisco_ios", "platform: junos")
                         .replace("router: cu-router", "router: ct-router"))
    with pytest.raises(InputError) as e:
        load_inventory(copy)
    msg = str(e.value)
    assert "drill.lines[2].platform: expected one of: linux, huawei_vrp, h3c_comware, cisco_ios; got 'junos'" in msg
    assert "router 'ct-router' is huawei_vrp in lines[0]; expected one platform per router" in msg


def test_drill_plan_shows_the_cli_lines_per_router(tmp_path, monkeypatch, capsys):
    from orchestrator.cli import main

    monkeypatch.setenv("DRILL_HOME", str(tmp_path / "home"))
    copy = tmp_path / "inv"
    shutil.copytree(EXAMPLE, copy)
    assert main(["plan", "single-line", "-i", str(copy), "--project", str(ROOT), "--no-check",
                 "--set", "line=cu-nf", "--set", "mode=blackhole", "--json"]) in (0, None)
    out = capsys.readouterr().out
    import json

    steps = json.loads(out[out.index("{"):])["steps"]
    fault = next(s for s in steps if s["phase"] == "fault")
    assert fault["router_cli"] == {"cu-router (h3c_comware)": [
        "super", "system-view", *(f"ip route-static 172.50.101.{h} 255.255.255.255 NULL0" for h in (30, 60, 70)),
        "return"]}
    restore = next(s for s in steps if s["phase"] == "restore" and "router_cli" in s)
    [(router, typed)] = restore["router_cli"].items()
    assert router.startswith("cu-router (h3c_comware), the undo lines")
    assert "undo shutdown" in typed and "undo ip route-static 172.50.101.30 255.255.255.255 NULL0" in typed


def test_drill_plan_shows_the_centre_blackhole_on_every_network_router(tmp_path, monkeypatch, capsys):
    import json

    from orchestrator.cli import main

    monkeypatch.setenv("DRILL_HOME", str(tmp_path / "home"))
    assert main(["plan", "centre-outage", "-i", str(EXAMPLE), "--project", str(ROOT), "--no-check",
                 "--set", "centre=FT", "--json"]) in (0, None)
    out = capsys.readouterr().out
    steps = json.loads(out[out.index("{"):])["steps"]
    fault = next(s for s in steps if s["phase"] == "fault")
    inv = load_inventory(EXAMPLE)
    routers = {f"{ln.router} ({ln.platform})" for ln in inv.lines}
    assert set(fault["router_cli"]) == routers  # every line router, each once
    vrp = next(v for k, v in fault["router_cli"].items() if "huawei_vrp" in k)
    assert vrp == ["super", "system-view",
                   *(f"ip route-static {a} 255.255.255.255 NULL0" for a in dict.fromkeys(
                       ep.address for ep in inv.centre("FT").services.values())), "return"]
    ios = next(v for k, v in fault["router_cli"].items() if "cisco_ios" in k)
    assert ios[:2] == ["enable", "configure terminal"] and ios[-1] == "end"
    restore = next(s for s in steps if s["phase"] == "restore" and "router_cli" in s)
    assert all(", the undo lines" in k for k in restore["router_cli"])
    assert all(ln.startswith(("undo ip route-static", "no ip route")) for typed in restore["router_cli"].values()
               for ln in typed[2:-1])


def test_drill_plan_black_holes_only_market_data_for_md_multicast_fallback(tmp_path, monkeypatch, capsys):
    """service.yml on network routers: each router (one per platform in the example) is sent
    static routes for the market-data addresses of both Shenzhen centres only; trading and
    settlement addresses appear in no line."""
    import json

    from orchestrator.cli import main

    monkeypatch.setenv("DRILL_HOME", str(tmp_path / "home"))
    assert main(["plan", "md-multicast-fallback", "-i", str(EXAMPLE), "--project", str(ROOT), "--no-check",
                 "--json"]) in (0, None)
    out = capsys.readouterr().out
    steps = json.loads(out[out.index("{"):])["steps"]
    inv = load_inventory(EXAMPLE)
    md = [inv.centre(c).services["market_data"].address for c in ("FT", "NF")]
    kept = {ep.address for c in ("FT", "NF") for n, ep in inv.centre(c).services.items() if n != "market_data"}
    fault = next(s for s in steps if s["phase"] == "fault")
    assert fault["targets"] == ["FT", "NF"]
    assert any("only the market_data addresses" in c for c in fault["changes"]), fault["changes"]
    assert set(fault["router_cli"]) == {f"{ln.router} ({ln.platform})" for ln in inv.lines}
    assert fault["router_cli"]["ct-router (huawei_vrp)"] == [
        "super", "system-view", *(f"ip route-static {a} 255.255.255.255 NULL0" for a in md), "return"]
    assert fault["router_cli"]["cu-router (h3c_comware)"] == [
        "super", "system-view", *(f"ip route-static {a} 255.255.255.255 NULL0" for a in md), "return"]
    assert fault["router_cli"]["sat-router (cisco_ios)"] == [
        "enable", "configure terminal", *(f"ip route {a} 255.255.255.255 Null0" for a in md), "end"]
    restore = next(s for s in steps if s["phase"] == "restore" and "router_cli" in s)
    for typed in restore["router_cli"].values():
        assert [ln.split()[-3] for ln in typed[2:-1]] == md
        assert all(ln.startswith(("undo ip route-static", "no ip route")) for ln in typed[2:-1])
    for typed in (*fault["router_cli"].values(), *restore["router_cli"].values()):
        assert not any(a in ln for a in kept for ln in typed)


def test_service_addresses_take_settlement_sm_and_refuse_a_shared_address():
    from orchestrator.adapters.routers import service_addresses

    svc = {"trading": "172.60.101.30", "market_data": "172.60.101.60", "settlement": "172.60.101.70",
           "settlement_sm": "172.60.101.71"}
    assert service_addresses(svc, ["market_data"]) == ("172.60.101.60",)
    assert service_addresses(svc, ["settlement"]) == ("172.60.101.70", "172.60.101.71")
    with pytest.raises(ValueError, match=r"172\.60\.101\.60 \(also trading\)"):
        service_addresses({**svc, "trading": "172.60.101.60"}, ["market_data"])
