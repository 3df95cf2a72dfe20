"""The ground-truth log, written by the network and exchange side, matches what the
gateways' monitor ports report."""

from __future__ import annotations

from lab_helpers import (
    TOLERANCE_S,
    by_gateway,
    monitor_events,
    monitor_status,
    truth_of,
    truth_when,
    wait_for,
)


def test_truth_matches_monitors_across_a_failover(lab):
    t = lab.inventory().timing
    affected = [g["id"] for g in lab.status()["gateways"] if g["line"] == "ct-ft"]
    fault = lab.client.line_down("ct-ft", "blackhole")
    wait_for(lambda: all(by_gateway(lab.status())[g]["line"] not in (None, "ct-ft")
                         for g in affected), 15, "failover")
    faults = truth_when(lab, "fault", op="line_down", target="ct-ft")
    assert [f["ts_ns"] for f in faults] == [fault["effective_ns"]]

    for gw in lab.inventory().gateways:
        mon = monitor_status(lab, gw.id)
        # written just after the LOGON_OK the gateway read: wait for the session's record
        login = truth_when(lab, "login_accepted",
                           lambda rs, sid=mon["session_id"]: rs and rs[-1]["session_id"] == sid,
                           gateway=gw.id)[-1]
        assert mon["state"] == "logged_in"
        assert (mon["session_id"], mon["centre"]) == (login["session_id"], login["centre"])
        assert abs(mon["login_time_ns"] - login["ts_ns"]) / 1e9 < TOLERANCE_S
        monitor_logins = [e["data"]["session_id"] for e in monitor_events(lab, gw.id)
                          if e["type"] == "login"]
        assert monitor_logins == [r["session_id"]
                                  for r in truth_of(lab, "login_accepted", gateway=gw.id)]

    for gid in affected:
        lost = truth_when(lab, "path_lost", gateway=gid)
        detected = truth_when(lab, "detected", gateway=gid)
        assert len(lost) == 1 and lost[0]["ts_ns"] == fault["effective_ns"]
        assert len(detected) == 1 and detected[0]["flow"] == lost[0]["flow"]
        link_down = next(e for e in monitor_events(lab, gid) if e["type"] == "link_down")
        # The gateway's own "detected" and the network's view of it are the same moment.
        assert abs(link_down["ts_ns"] - detected[0]["ts_ns"]) / 1e9 < TOLERANCE_S
        # Detection came from the heartbeat timeout, counted from the last traffic.
        since_fault = (detected[0]["ts_ns"] - fault["effective_ns"]) / 1e9
        assert t.heartbeat_timeout - t.heartbeat_interval - TOLERANCE_S <= since_fault
        assert since_fault <= t.heartbeat_timeout + TOLERANCE_S
