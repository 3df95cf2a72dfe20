"""Market data falls back to the multicast feed while TCP is down and returns to TCP, with
one sequence per channel: a source switch shows continuity or a reported gap."""

from __future__ import annotations

from lab_helpers import monitor_events, monitor_status, recovery_deadline, truth_when, wait_for

TERRESTRIAL = ("ct-ft", "cu-nf", "ct-nf")


def _md(lab, gid):
    return monitor_status(lab, gid)["md"]


def test_market_data_switches_to_multicast_and_back(lab):
    gid = "W00004TF"
    # Ticks flow on TCP first: cut before the first one and the feed's first tick opens no
    # gap (there is no sequence yet to jump from), so there is nothing to recover.
    wait_for(lambda: (m := _md(lab, gid))["source"] == "tcp" and not m["stalled"]
             and m["last_seq"], recovery_deadline(lab), "market data flowing on TCP")
    for line in TERRESTRIAL:
        lab.client.line_down(line, "blackhole")
    on_feed = wait_for(lambda: (m := _md(lab, gid))["source"] == "multicast" and not m["stalled"]
                       and m, 15, "market data on the multicast feed")
    # The feed carries the same sequence: it keeps advancing past where TCP stopped.
    later = wait_for(lambda: (m := _md(lab, gid))["last_seq"]["1"] > on_feed["last_seq"]["1"]
                     and m, recovery_deadline(lab), "ticks from the feed")
    assert later["source"] == "multicast"
    for line in TERRESTRIAL:
        lab.client.line_up(line)
    back = wait_for(lambda: (s := monitor_status(lab, gid))["state"] == "logged_in"
                    and s["md"]["source"] == "tcp" and s, 15, "market data back on TCP")
    # The gateway asks for the missing ticks when it is back on TCP, and asks again at
    # every new login: under load that can take a few reconnect cycles of the lab's timing.
    try:
        final = wait_for(lambda: (m := _md(lab, gid))["gap_ranges"]
                         and all(g["recovered"] for g in m["gap_ranges"]) and m,
                         recovery_deadline(lab), "retransmission filling the gaps")
    except AssertionError as e:
        md_events = [e["data"] | {"type": e["type"]} for e in monitor_events(lab, gid)
                     if e["type"].startswith("md_") or e["type"] in ("login", "link_down")]
        raise AssertionError(f"{e}: md {_md(lab, gid)}; events {md_events}") from None
    assert final["last_seq"]["1"] > back["md"]["last_seq"]["1"] - 1

    events = monitor_events(lab, gid)
    switches = [(e["data"]["from"], e["data"]["to"]) for e in events if e["type"] == "md_source"]
    assert switches == [("none", "tcp"), ("tcp", "multicast"), ("multicast", "tcp")]
    # Every jump in sequence was reported as a gap, and each gap was later recovered.
    seen: dict[tuple[int, int, int], list[bool]] = {}
    for e in events:
        if e["type"] == "md_gap":
            d = e["data"]
            assert d["from_seq"] <= d["to_seq"]
            seen.setdefault((d["channel"], d["from_seq"], d["to_seq"]), []).append(d["recovered"])
    assert seen and all(flags == [False, True] for flags in seen.values())
    flows = [(e["data"]["state"], e["data"]["source"]) for e in events if e["type"] == "md_flow"]
    # TCP stalls, the feed flows; the return to TCP is seamless (no stall, so no md_flow).
    assert flows == [("flowing", "tcp"), ("stalled", "tcp"), ("flowing", "multicast")]

    # The feed writes md_join/md_leave when it reads the gateway's datagram: wait for them.
    assert [r["gateway"] for r in truth_when(lab, "md_join", gateway=gid)] == [gid]
    assert [r["gateway"] for r in truth_when(lab, "md_leave", gateway=gid)] == [gid]
    first = truth_when(lab, "md_first_tick", gateway=gid, centre="multicast")
    assert first, "the feed's first tick to the gateway is in the ground truth"


def test_feed_line_down_stalls_multicast(lab):
    gid = "W00001TF"
    for line in TERRESTRIAL:
        lab.client.line_down(line, "blackhole")
    wait_for(lambda: (m := _md(lab, gid))["source"] == "multicast" and not m["stalled"], 15,
             "market data on the feed")
    lab.client.line_down("sat-1", "blackhole")
    wait_for(lambda: _md(lab, gid)["stalled"], recovery_deadline(lab),
             "the feed stalling with its line")
    assert truth_when(lab, "path_lost", gateway=gid, service="multicast")
