"""The host-socket source's parsers and tracker, on socket tables captured from the bed's
vendor gateways (tests/fixtures/host_socket: a trading and a market-data gateway on gw2,
TCP market data then black-holed so it falls back to multicast, then trading stopped)."""

from __future__ import annotations

from pathlib import Path

from orchestrator.probes.host_socket import (
    SOURCE,
    SocketTracker,
    Watch,
    _hex_addr,
    parse_igmp,
    parse_proc_tcp,
    parse_snapshot,
    parse_ss,
    snapshot_command,
)

DATA = Path(__file__).resolve().parents[1] / "fixtures" / "host_socket"
CFG = "/tmp/bedgw-cap/bed/gw2/sscc/{}/gateway.ini"
TRADING = Watch("W100000T", "trading", {("198.18.101.30", 7043): "FT", ("198.18.102.30", 7043): "NF"},
                CFG.format("W100000T"))
MD = Watch("W100001Q", "market_data", {("198.18.101.60", 7044): "FT", ("198.18.102.60", 7044): "NF"},
           CFG.format("W100001Q"), multicast=("239.18.30.1", 7400))
PERIOD = 300_000_000


def text(name: str) -> str:
    return (DATA / f"{name}.txt").read_text()


def section(raw: str, name: str) -> str:
    return raw.split(f"@@{name}\n", 1)[1].split("\n@@", 1)[0]


def test_ss_sockets_with_owner_bytes_and_last_receive():
    socks = parse_ss(section(text("1-tcp"), "ss"))
    assert [(s.state, s.peer, s.pids, s.owned) for s in socks] == [
        ("ESTAB", ("198.18.101.60", 7044), (26664,), True), ("ESTAB", ("198.18.101.30", 7043), (26691,), True)]
    assert socks[0].bytes_received == 2079 and socks[0].lastrcv_ms == 48
    closing = parse_ss(section(text("4-multicast"), "ss"))
    assert [(s.state, s.owned) for s in closing] == [("FIN-WAIT-1", False), ("SYN-SENT", True), ("ESTAB", True)]


def test_proc_net_tcp_agrees_with_ss_and_is_the_fallback_without_ss():
    raw = text("4-multicast")
    from_proc = parse_proc_tcp(section(raw, "tcp"))
    assert {(s.state, s.local, s.peer) for s in parse_ss(section(raw, "ss"))} <= {
        (s.state, s.local, s.peer) for s in from_proc}
    assert [s.owned for s in from_proc if s.state == "FIN-WAIT-1"] == [False]  # inode 0: no process
    no_ss = "@@ss\n@@noss\n" + raw.split("@@tcp\n", 1)[1].join(["@@tcp\n", ""])
    table = parse_snapshot(no_ss)
    assert {s.peer for s in table.tcp if s.state == "ESTAB"} == {("198.18.101.30", 7043)}
    assert all(s.bytes_received is None for s in table.tcp)
    # IPv4-mapped IPv6, as /proc/net/tcp6 writes ::ffff:127.0.0.1 port 7043
    assert _hex_addr("0000000000000000FFFF00000100007F:1B83") == ("127.0.0.1", 7043)


def test_multicast_membership_and_udp_delivery():
    tcp, mc = parse_snapshot(text("2-tcp")), parse_snapshot(text("4-multicast"))
    assert "239.18.30.1" not in tcp.groups["sat0"]
    assert mc.groups["sat0"] == ("239.18.30.1", "224.0.0.1")
    assert [u.local for u in mc.udp] == [("239.18.30.1", 7400)]
    assert parse_snapshot(text("5-multicast")).udp_in_datagrams > mc.udp_in_datagrams
    assert parse_igmp("garbage\n") == {}


def test_pids_by_config_path_keep_two_gateways_apart():
    table = parse_snapshot(text("1-tcp"))
    assert table.pids == {CFG.format("W100001Q"): (26664,), CFG.format("W100000T"): (26691,)}
    cmd = snapshot_command([CFG.format("W100000T")])
    assert CFG.format("W100000T") not in cmd  # so grep never finds its own command line


def test_tracker_turns_the_captured_tables_into_events():
    tracker = SocketTracker([TRADING, MD])
    names = ["1-tcp", "2-tcp", "3-md-silent", "4-multicast", "5-multicast", "6-trading-stopped"]
    events = {i: [(e.gateway, e.type, e.data.get("state"), e.data.get("source"), e.data.get("reason"))
                  for e in tracker.feed(i * PERIOD, parse_snapshot(text(n)), 4_000_000)]
              for i, n in enumerate(names)}
    assert events == {
        0: [], 1: [],
        2: [("W100001Q", "md_flow", "stalled", None, None)],
        3: [("W100001Q", "link_down", None, None, "closed"), ("W100001Q", "md_flow", "flowing", "multicast", None)],
        4: [],
        5: [("W100000T", "link_down", None, None, "closed")],
    }


def test_event_times_and_their_uncertainty():
    tracker = SocketTracker([MD])
    tracker.feed(0, parse_snapshot(text("2-tcp")))
    stalled, = tracker.feed(PERIOD, parse_snapshot(text("3-md-silent")), 4_000_000)
    # ss's lastrcv (1248 ms) dates the last byte received, to half the exec's round trip.
    assert stalled.ts_ns == PERIOD - 1_248_000_000 and stalled.uncertainty_ns == 2_000_000
    down, flowing = tracker.feed(2 * PERIOD, parse_snapshot(text("4-multicast")))
    # Between two polls: the middle of the window, ± half the poll period.
    assert down.ts_ns == flowing.ts_ns == PERIOD + PERIOD // 2 and down.uncertainty_ns == PERIOD // 2
    event = down.to_event()
    assert event["source"] == SOURCE == "host-socket" and event["type"] == "link_down"
    assert event["data"]["uncertainty_ms"] == 150.0 and event["gateway"] == "W100001Q"


def test_a_session_silent_past_the_heartbeat_timeout_is_a_link_down_dated_by_lastrcv():
    quick = Watch(MD.gateway, MD.service, MD.servers, MD.match, MD.multicast, silent_after_s=1.0)
    tracker = SocketTracker([quick])
    tracker.feed(0, parse_snapshot(text("2-tcp")))
    evs = tracker.feed(PERIOD, parse_snapshot(text("3-md-silent")), 4_000_000)
    assert [(e.type, e.data.get("reason")) for e in evs] == [("link_down", "silent"), ("md_flow", None)]
    assert evs[0].ts_ns == PERIOD - 1_248_000_000
    # the close that follows is the same loss, not a second one
    assert [e.type for e in tracker.feed(2 * PERIOD, parse_snapshot(text("4-multicast")))] == ["md_flow"]


def test_a_new_session_is_a_login():
    tracker = SocketTracker([TRADING])
    tracker.feed(0, parse_snapshot(text("6-trading-stopped")))
    login, = tracker.feed(PERIOD, parse_snapshot(text("1-tcp")))
    assert login.type == "login" and login.data["centre"] == "FT"
    assert login.data["address"] == "198.18.101.30:7043" and login.ts_ns == PERIOD // 2


def test_two_gateways_of_one_service_on_one_host_are_told_apart_by_their_sockets_inodes():
    """`ss -tineH` (no -p, which scans every process): each gateway's sockets by the inodes
    of its own /proc/PID/fd, found by its config path (W100000T FT-first, W100004T NF-first)."""
    table = parse_snapshot(text("7-ss-e-two-trading"))
    assert table.ss_ns is not None and 0 < table.ss_ns < 5_000_000_000
    assert [(s.peer, s.inode, s.owned) for s in table.tcp] == [
        (("198.18.101.30", 7043), 5410659, True), (("198.18.102.30", 7043), 5413266, True)]
    ft_first = TRADING
    nf_first = Watch("W100004T", "trading", TRADING.servers, CFG.format("W100004T"))
    tracker = SocketTracker([ft_first, nf_first])
    tracker.feed(0, parse_snapshot(text("6-trading-stopped")))
    logins = tracker.feed(PERIOD, table)
    assert sorted((e.gateway, e.data["centre"]) for e in logins) == [("W100000T", "FT"), ("W100004T", "NF")]


def failed(raw: str, *reads: str) -> str:
    """The table as the bed's gw2 once gave it: some reads empty (`ss` failed: @@noss)."""
    for name in reads:
        raw = raw.replace(f"@@{name}\n{section(raw, name)}\n", f"@@{name}\n" + ("@@noss\n" if name == "ss" else ""))
    return raw


def test_ss_prints_no_lastrcv_while_it_is_zero():
    """`ss -i` leaves out `lastrcv` (and `bytes_received`) while zero: a byte this very
    millisecond, not an unknown (which read as market data stalled, by the byte count)."""
    raw = text("2-tcp")
    now = raw.replace(" lastrcv:44 ", " ")
    md, = [s for s in parse_ss(section(now, "ss")) if s.peer[1] == 7044]
    assert md.lastrcv_ms == 0 and md.bytes_received == 2866
    tracker = SocketTracker([MD])
    tracker.feed(0, parse_snapshot(raw))
    assert tracker.feed(PERIOD, parse_snapshot(now)) == []  # same bytes, received just now: still flowing


def test_a_table_with_a_failed_read_is_skipped_never_read_as_a_close_or_a_stall():
    """A table whose `ss` failed and whose /proc/net/tcp came back empty (seen on the bed)
    lacks every session: it is skipped, not read as a close and then a login of the same
    session; the next whole table is compared with the last whole one."""
    tracker = SocketTracker([TRADING, MD])
    tracker.feed(0, parse_snapshot(text("1-tcp")))
    glitch = parse_snapshot(failed(text("1-tcp"), "ss", "tcp"))
    assert "ss" not in glitch.read and not [s for s in glitch.tcp if s.state == "ESTAB"]
    assert tracker.feed(PERIOD, glitch) == [] and tracker.skipped == 1
    assert tracker.feed(2 * PERIOD, parse_snapshot(text("2-tcp"))) == []
    # only ss failed (/proc/net/tcp has no counters): no market-data stall read from it
    assert tracker.feed(3 * PERIOD, parse_snapshot(failed(text("2-tcp"), "ss"))) == []
    # the multicast membership unread: no stall of the multicast feed either
    tracker = SocketTracker([MD])
    tracker.feed(0, parse_snapshot(text("4-multicast")))
    assert tracker.feed(PERIOD, parse_snapshot(failed(text("5-multicast"), "igmp"))) == []
    assert tracker.skipped == 1
    # a real close in a whole table after a skipped one: dated across the whole window
    tracker = SocketTracker([TRADING])
    tracker.feed(0, parse_snapshot(text("1-tcp")))
    tracker.feed(PERIOD, parse_snapshot(failed(text("6-trading-stopped"), "snmp")))
    down, = tracker.feed(2 * PERIOD, parse_snapshot(text("6-trading-stopped")))
    assert down.type == "link_down" and down.ts_ns == PERIOD and down.uncertainty_ns == PERIOD
