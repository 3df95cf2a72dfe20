"""The exchange stamps its answers with its own send time; the gateway reports it; drill's
restored time is that stamp (docs/lab.md protocol, docs/monitor-api.md, docs/journal.md)."""

from __future__ import annotations

from lab_helpers import ExchangeClient, by_gateway, monitor_events, truth_of, truth_when, wait_for

from orchestrator.engine.timing import measure_gateway
from orchestrator.probes.monitor import Received


def test_logon_ok_carries_the_exchange_send_time_of_its_truth_record(lab):
    ft = lab.inventory().centre("FT").services["trading"]
    with ExchangeClient(ft.address, ft.port) as c:
        ok = c.logon("W000998T").split()
    assert ok[0] == "LOGON_OK" and len(ok) == 5
    # The exchange writes its truth line just after the answer: wait for it, don't race it.
    accepted = wait_for(lambda: truth_of(lab, "login_accepted", session_id=ok[1]), 5,
                        "the login_accepted truth record")
    assert [r["ts_ns"] for r in accepted] == [int(ok[4])]


def test_login_and_transfer_events_carry_the_exchange_send_time(lab):
    sessions = {g["id"]: g["session_id"] for g in lab.status()["gateways"]}
    for gid, sid in sessions.items():
        logins = [e for e in monitor_events(lab, gid) if e["type"] == "login"]
        assert [e["data"]["session_id"] for e in logins] == [sid]
        truth = truth_when(lab, "login_accepted", session_id=sid)
        # The exchange writes its truth record with the nanosecond it put in LOGON_OK.
        assert logins[0]["data"]["server_time_ns"] == truth[0]["ts_ns"]
        assert logins[0]["data"]["server_time"] == truth[0]["ts"]
        assert logins[0]["data"]["server_time_ns"] <= logins[0]["ts_ns"]
    gid = "W00002JS"
    transfers = wait_for(lambda: [e for e in monitor_events(lab, gid)
                                  if e["type"] == "transfer" and e["data"]["ok"]], 10, "a transfer")
    stamps = {e["data"]["server_time_ns"] for e in transfers}
    sent = wait_for(lambda: (found := {r["ts_ns"] for r in truth_of(lab, "transfer", gateway=gid, ok=True)})
                    >= stamps and found, 5, "the transfer truth records")
    assert stamps <= sent


def test_drill_measures_a_failover_to_the_exchange_login_time(lab):
    affected = [g["id"] for g in lab.status()["gateways"]
                if g["line"] == "ct-ft" and g["kind"] in ("trading", "settlement")]
    assert affected, "a trading or settlement gateway starts on ct-ft"
    fault = lab.client.line_down("ct-ft", "shutdown")
    lost = fault["effective_ns"]

    def back():
        gws = by_gateway(lab.status())
        return all(gws[g]["state"] == "logged_in" and gws[g]["line"] != "ct-ft" for g in affected)

    wait_for(back, 30, "failover off ct-ft")
    for gid in affected:
        gw = lab.inventory().gateway(gid)
        if gw.kind == "settlement":
            wait_for(lambda gid=gid: [e for e in monitor_events(lab, gid) if e["type"] == "transfer"
                                      and e["data"]["ok"] and e["ts_ns"] > lost], 10, "a transfer")
        events = [Received(gid, e, e["ts_ns"]) for e in monitor_events(lab, gid)]
        m = measure_gateway(gateway=gid, kind=gw.kind, service=gw.service_name, affected=True,
                            link_lost_ns=lost, window_end_ns=None, events=events,
                            observed_ns=None, probe_period_s=0.1, target_s=None,
                            centre_before="FT")
        assert m.restored is not None and m.restored.source == "exchange"
        logins = wait_for(lambda gid=gid: [r for r in truth_of(lab, "login_accepted", gateway=gid)
                                           if r["ts_ns"] > lost], 5, "the login truth record")
        login = min(logins, key=lambda r: r["ts_ns"])
        if gw.kind == "trading":
            expected = login["ts_ns"]
        else:
            expected = min(wait_for(lambda gid=gid, login=login: [
                r["ts_ns"] for r in truth_of(lab, "transfer", gateway=gid, ok=True)
                if r["ts_ns"] >= login["ts_ns"]], 5, "the transfer truth record"))
        assert m.restored.ns == expected, gid
