"""Line and centre faults move gateways to the remaining path, within the configured times."""

from __future__ import annotations

import time

from lab_helpers import TOLERANCE_S, by_gateway, monitor_events, truth_of, truth_when, wait_for


def _on(status, **match):
    return [g["id"] for g in status["gateways"] if all(g[k] == v for k, v in match.items())]


def _first_login_after(lab, gateway, ns):
    """The exchange writes `login_accepted` just after its LOGON_OK: wait for it."""
    logins = truth_when(lab, "login_accepted", lambda rs: any(r["ts_ns"] > ns for r in rs),
                        gateway=gateway)
    return next(r for r in logins if r["ts_ns"] > ns)


def _moved(lab, affected, bad_line=None, bad_centre=None):
    def check():
        gws = by_gateway(lab.status())
        return all(gws[g]["state"] == "logged_in" and gws[g]["line"] != bad_line
                   and gws[g]["centre"] != bad_centre for g in affected)
    return check


def _max_sessions_per_gateway(lab) -> int:
    """Replay the truth log: the most sessions any gateway id held at once in Shenzhen."""
    live: dict[str, int] = {}
    worst = 0
    for r in lab.truth():
        if r.get("centre") not in ("FT", "NF"):
            continue
        if r["type"] == "login_accepted":
            live[r["gateway"]] = live.get(r["gateway"], 0) + 1
            worst = max(worst, live[r["gateway"]])
        elif r["type"] in ("session_expired", "session_closed"):
            live[r["gateway"]] -= 1
    return worst


def test_blackholed_line_moves_gateways_within_detection_plus_reconnect(lab):
    t = lab.inventory().timing
    before = lab.status()
    affected = _on(before, line="ct-ft")
    others = {g["id"]: g["session_id"] for g in before["gateways"] if g["id"] not in affected}
    assert affected, "the even gateways start on FT over ct-ft"
    fault = lab.client.line_down("ct-ft", "blackhole")
    bound = max(t.heartbeat_timeout, t.server_session_timeout) + t.reconnect_interval
    wait_for(_moved(lab, affected, bad_line="ct-ft"), bound + 10, "failover off ct-ft")
    for gid in affected:
        login = _first_login_after(lab, gid, fault["effective_ns"])
        took = (login["ts_ns"] - fault["effective_ns"]) / 1e9
        assert took <= bound + TOLERANCE_S, f"{gid} took {took:.2f}s"
        assert login["line"] != "ct-ft"
        downs = [e for e in monitor_events(lab, gid) if e["type"] == "link_down"]
        assert downs and downs[0]["data"]["reason"] == "heartbeat_timeout"
    after = by_gateway(lab.status())
    assert {g: after[g]["session_id"] for g in others} == others, "unaffected gateways stay put"
    assert _max_sessions_per_gateway(lab) == 1


def test_shutdown_line_moves_gateways_faster_by_reset(lab):
    t = lab.inventory().timing
    affected = _on(lab.status(), line="ct-ft")
    fault = lab.client.line_down("ct-ft", "shutdown")
    wait_for(_moved(lab, affected, bad_line="ct-ft"), 10, "failover off ct-ft")
    for gid in affected:
        login = _first_login_after(lab, gid, fault["effective_ns"])
        took = (login["ts_ns"] - fault["effective_ns"]) / 1e9
        # A reset needs no heartbeat timeout: only the reconnect interval remains.
        assert took <= t.reconnect_interval + TOLERANCE_S, f"{gid} took {took:.2f}s"
        assert took < min(t.heartbeat_timeout, t.server_session_timeout)
        downs = [e for e in monitor_events(lab, gid) if e["type"] == "link_down"]
        assert downs[0]["data"]["reason"] == "reset"
    lost = truth_when(lab, "path_lost", lambda rs: {r["gateway"] for r in rs} >= set(affected),
                      line="ct-ft")
    assert {r["gateway"] for r in lost} == set(affected) and {r["how"] for r in lost} == {"reset"}


def test_centre_outage_moves_gateways_to_the_other_centre_without_double_login(lab):
    t = lab.inventory().timing
    affected = _on(lab.status(), centre="FT")
    fault = lab.client.centre_down("FT")
    bound = max(t.heartbeat_timeout, t.server_session_timeout) + t.reconnect_interval

    def moved_and_single():
        st = lab.status()
        assert all(g["sessions"] <= 1 for g in st["gateways"]), "a gateway id holds two sessions"
        return _moved(lab, affected, bad_centre="FT")()

    wait_for(moved_and_single, bound + 10, "failover to NF")
    for gid in affected:
        login = _first_login_after(lab, gid, fault["effective_ns"])
        assert login["centre"] == "NF"
        assert (login["ts_ns"] - fault["effective_ns"]) / 1e9 <= bound + TOLERANCE_S
    assert _max_sessions_per_gateway(lab) == 1
    # The stalled centre sent no reset: its sessions ended by the server's timeout.
    expired = {r["gateway"] for r in truth_when(
        lab, "session_expired", lambda rs: {r["gateway"] for r in rs} >= set(affected), centre="FT")}
    assert expired == set(affected)
    lab.client.centre_up("FT")
    assert {c["id"]: c["state"] for c in lab.status()["centres"]}["FT"] == "up"


def test_short_blackhole_heals_without_failover(lab):
    """A carrier flap shorter than the timeouts: held bytes flow again, sessions survive."""
    t = lab.inventory().timing
    before = {g["id"]: g["session_id"] for g in lab.status()["gateways"]}
    affected = _on(lab.status(), line="ct-ft")
    down = lab.client.line_down("ct-ft", "blackhole")
    wait_for(lambda: all(by_gateway(lab.status())[g]["path"] == "stalled" for g in affected),
             t.heartbeat_interval, "flows held")
    lab.client.line_up("ct-ft")
    restored = truth_when(lab, "path_restored",
                          lambda rs: {r["gateway"] for r in rs} >= set(affected), line="ct-ft")
    assert {r["gateway"] for r in restored} == set(affected)
    assert all(r["ts_ns"] - down["effective_ns"] < t.heartbeat_timeout * 1e9 for r in restored)
    # Once both timeouts have passed since the fault: nobody moved, nobody expired.
    wait_for(lambda: (time.time_ns() - down["effective_ns"]) / 1e9
             > max(t.heartbeat_timeout, t.server_session_timeout) + TOLERANCE_S, 10,
             "both timeouts to pass")
    assert {g["id"]: g["session_id"] for g in lab.status()["gateways"]} == before
    assert not truth_of(lab, "session_expired")
    for gid in affected:
        assert not [e for e in monitor_events(lab, gid) if e["type"] == "link_down"]
