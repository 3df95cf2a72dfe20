"""The host-socket source in a run: sessions per gateway process (no_double_login), the
watch of each gateway from the inventory, a log's market-data source, and the second
source's measure beside the log's (docs/observers.md, "Two sources")."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from orchestrator.config.inventory import load_inventory
from orchestrator.config.profile import load_profile
from orchestrator.config.scenario import load_drill
from orchestrator.engine.measure import SECOND_PHASE, with_second_source
from orchestrator.engine.state import RunState
from orchestrator.probes.gateway_log import LogParser, md_source_of
from orchestrator.probes.host_socket import SocketTracker, Watch, parse_snapshot, sessions
from orchestrator.probes.monitor import GatewayTracker, Received
from orchestrator.probes.socket_source import socket_sources, watch_of

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "fixtures" / "host_socket"
CFG = "/tmp/bedgw-cap/bed/gw2/sscc/{}/gateway.ini"
SERVERS = {("198.18.101.30", 7043): "FT", ("198.18.102.30", 7043): "NF"}


def table(name: str):
    return parse_snapshot((DATA / f"{name}.txt").read_text())


def test_sessions_count_the_gateway_process_own_established_sockets():
    two = table("7-ss-e-two-trading")  # W100000T on FT, W100004T on NF, told apart by inode
    ft, nf = Watch("W100000T", "trading", SERVERS, CFG.format("W100000T")), \
        Watch("W100004T", "trading", SERVERS, CFG.format("W100004T"))
    assert (sessions(ft, two), sessions(nf, two)) == (1, 1)
    # one process holding both sockets: two live sessions of one gateway id
    both = frozenset().union(*two.inodes.values())
    doubled = replace(two, inodes={CFG.format("W100000T"): both})
    assert sessions(ft, doubled) == 2
    tracker = SocketTracker([ft, nf])
    tracker.feed(0, two)
    tracker.feed(1, doubled)
    assert tracker.max_sessions == {"W100000T": 2, "W100004T": 1}
    # its process not found (or no config path): not counted, never taken as one session
    assert sessions(Watch("W9", "trading", SERVERS, "/nowhere.ini"), two) is None
    assert sessions(Watch("W9", "trading", SERVERS), two) is None


def test_watch_of_a_gateway_from_the_inventory():
    inv = load_inventory(REPO / "inventories" / "lab")
    md = next(g for g in inv.gateways if g.kind == "market_data")
    settle = next(g for g in inv.gateways if g.kind == "settlement")
    w = watch_of(inv, md)
    assert w.gateway == md.id and w.match == md.config
    assert set(w.servers.values()) == {c.id for c in inv.centres if "market_data" in c.services}
    assert w.multicast == ((inv.multicast.address, inv.multicast.port) if inv.multicast else None)
    sm = {c.services["settlement_sm"].port for c in inv.centres if "settlement_sm" in c.services}
    assert sm and sm <= {port for _, port in watch_of(inv, settle).servers}
    # the lab's log access has no SSH pool: no socket source (its session table decides)
    assert socket_sources(inv, object(), list(inv.gateways)) == []


def test_a_log_says_where_market_data_flows_from():
    assert [md_source_of(w) for w in ("组播", "TCP", "multicast", "卫星", "other")] == [
        "multicast", "tcp", "multicast", "multicast", "other"]
    prof = load_profile(REPO / "tests" / "hostbed" / "vendorgw" / "profile.yaml")
    parser = LogParser(prof)
    parser.parse("2026-12-05 10:00:00.000 [INFO ] 网关编号：W000010Q 服务：行情")
    ev, = parser.parse("2026-12-05 10:00:01.250 [INFO ] 行情恢复 来源：组播 通道：1 序号：42")
    assert ev.type == "md_flow" and ev.data == {"source": "multicast", "seq": 42, "state": "flowing"}
    tracker = GatewayTracker([("W000010Q", "market_data")])
    tracker.apply(Received("W000010Q", ev.as_event(1), 0))
    assert tracker.view("W000010Q").md_source == "multicast"


def _ev(gid: str, type_: str, ts_ms: int, source: str, unc_ms: float, **data) -> Received:
    return Received(gid, {"type": type_, "ts_ns": ts_ms * 1_000_000, "source": source,
                          "uncertainty_ms": unc_ms, "data": data}, ts_ms * 1_000_000)


def test_the_socket_source_is_measured_beside_the_log_and_disagreement_flagged():
    inv = load_inventory(REPO / "inventories" / "lab")
    drill = load_drill(REPO / "drills" / "carrier-outage.yaml")
    a, b = [g.id for g in inv.gateways if g.kind == "trading"][:2]
    st = RunState(link_lost_ns=1_000_000_000, affected={a: ["trading"], b: ["trading"]},
                  restore_started_ns=60_000_000_000)
    logs = GatewayTracker((g.id, g.kind) for g in inv.gateways)
    socks = GatewayTracker([(a, "trading"), (b, "trading")])
    for gid in (a, b):  # their hosts' socket tables were read
        socks.set_connected(gid, True)
    for gid, restored_ms in ((a, 4000), (b, 4000)):
        logs.apply(_ev(gid, "link_down", 3000, "gateway-log", 1.0))
        logs.apply(_ev(gid, "login", restored_ms, "gateway-log", 1.0, centre="NF"))
    socks.apply(_ev(a, "link_down", 3050, "host-socket", 50.0))
    socks.apply(_ev(a, "login", 4040, "host-socket", 50.0, centre="NF"))  # within the margin
    socks.apply(_ev(b, "login", 4900, "host-socket", 50.0, centre="NF"))  # 900 ms later: flagged
    from orchestrator.engine.measure import measure_failover

    primary = measure_failover(inv, drill, st, logs, 0.05)
    out = with_second_source(inv, drill, st, primary, socks)
    by = {(m.gateway, m.phase): m for m in out}
    for gid in (a, b):
        assert by[(gid, "failover")].restored.source == "gateway-log"
        second = by[(gid, SECOND_PHASE)]
        assert second.restored.source == "host-socket" and second.passed is None
    assert by[(a, SECOND_PHASE)].interruption_s == 3.04 and "sources agree" in by[(a, SECOND_PHASE)].note
    assert "host-socket" not in by[(a, "failover")].note
    assert "sources disagree: restored 900 ms apart" in by[(b, SECOND_PHASE)].note
    assert "host-socket: sources disagree" in by[(b, "failover")].note
    # gateways the socket source did not watch keep their one measure; the verdict's
    # readers take phase failover only
    assert len(out) == len(primary) + 2
    assert with_second_source(inv, drill, st, primary, None) == primary
    socks.set_connected(b, False)  # no table read from its host: no second measure for it
    assert [m.gateway for m in with_second_source(inv, drill, st, primary, socks)
            if m.phase == SECOND_PHASE] == [a]



def test_sources_disagreeing_on_whether_a_gateway_was_interrupted_are_flagged_never_judged():
    """A settlement gateway off the failed path, untouched in its log, whose socket table
    read a close and a new login (as a failed table read once did on the bed): the socket
    source restores no settlement (that takes a file), so only whether it was interrupted
    tells them apart. Both notes say the sources disagree; its primary measure, the
    objectives and the verdict are the log's."""
    from orchestrator.engine.measure import measure_failover, run_objectives, verdict

    inv = load_inventory(REPO / "inventories" / "lab")
    drill = load_drill(REPO / "drills" / "carrier-outage.yaml")
    a = next(g.id for g in inv.gateways if g.kind == "trading")
    c = next(g.id for g in inv.gateways if g.kind == "settlement")
    st = RunState(link_lost_ns=1_000_000_000, affected={a: ["trading"]}, restore_started_ns=60_000_000_000)
    logs = GatewayTracker((g.id, g.kind) for g in inv.gateways)
    socks = GatewayTracker([(a, "trading"), (c, "settlement")])
    for gid in (a, c):
        socks.set_connected(gid, True)
    logs.apply(_ev(a, "link_down", 3000, "gateway-log", 1.0))
    logs.apply(_ev(a, "login", 4000, "gateway-log", 1.0, centre="NF"))
    socks.apply(_ev(a, "link_down", 3050, "host-socket", 50.0))
    socks.apply(_ev(a, "login", 4040, "host-socket", 50.0, centre="NF"))
    socks.apply(_ev(c, "link_down", 5000, "host-socket", 50.0))  # the log saw nothing of c
    socks.apply(_ev(c, "login", 5200, "host-socket", 50.0, centre="NF"))
    primary = measure_failover(inv, drill, st, logs, 0.05)
    out = with_second_source(inv, drill, st, primary, socks)
    by = {(m.gateway, m.phase): m for m in out}
    assert by[(c, "failover")].interrupted is False and by[(c, SECOND_PHASE)].interrupted is True
    assert by[(c, "failover")].restored is None and by[(c, SECOND_PHASE)].restored is None
    assert "sources disagree: interrupted by one source only" in by[(c, SECOND_PHASE)].note
    assert "host-socket: sources disagree: interrupted by one source only" in by[(c, "failover")].note
    assert "sources agree" in by[(a, SECOND_PHASE)].note  # both saw a's interruption
    # the primary measures are the same but for the note; the verdict is unchanged
    assert [replace(m, note="") for m in out if m.phase == "failover"] == [replace(m, note="") for m in primary]
    objs = run_objectives(drill, st, primary, "", sessions_visible=False)
    assert run_objectives(drill, st, out, "", sessions_visible=False) == objs
    assert verdict(st, run_objectives(drill, st, out, "", False), True) == verdict(st, objs, True)

def test_monitor_is_optional_for_observe_host_outside_a_lab(tmp_path):
    import pytest
    import yaml

    from orchestrator.errors import InputError

    text = (REPO / "inventories" / "production.example" / "group_vars" / "all" / "drill.yml").read_text(
        encoding="utf-8")
    folder = tmp_path / "inv"
    (folder / "group_vars" / "all").mkdir(parents=True)
    (folder / "hosts.yml").write_bytes((REPO / "inventories" / "production.example" / "hosts.yml").read_bytes())
    drill_yml = folder / "group_vars" / "all" / "drill.yml"
    drill_yml.write_text(text, encoding="utf-8")
    hosted = next(g for g in load_inventory(folder).gateways if g.observe == "host")
    assert hosted.monitor is None and hosted.profile and hosted.log  # the example shows one
    # a monitored gateway without its monitor: the reader names the file and line, exit 2
    doc = yaml.safe_load(text)
    del doc["drill"]["gateways"][0]["monitor"]
    drill_yml.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(InputError) as e:
        load_inventory(folder)
    (p,) = [p for p in e.value.problems if p.field == "drill.gateways[0].monitor"]
    assert p.file.endswith("drill.yml") and p.line and "required unless observe: host" in p.message
    # a lab's gateways always serve a monitor, observe: host or not
    lab = yaml.safe_load((REPO / "inventories" / "lab" / "hosts.yml").read_text(encoding="utf-8"))
    gw = lab["all"]["vars"]["drill"]["gateways"][0]
    del gw["monitor"]
    gw.update({"observe": "host", "profile": "lab-gateway", "log": "gateways/x/vendor.log"})
    (tmp_path / "lab").mkdir()
    (tmp_path / "lab" / "hosts.yml").write_text(yaml.safe_dump(lab, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError) as e:
        load_inventory(tmp_path / "lab")
    assert [p for p in e.value.problems if p.field == "drill.gateways[0].monitor"]
