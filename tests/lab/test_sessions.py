"""The exchange's session rules: one login per gateway id across FT and NF; BJ on its own."""

from __future__ import annotations

import base64
import hashlib

from lab_helpers import ExchangeClient, by_gateway, truth_of, truth_when, wait_for

from orchestrator.lab.wire import LOGIN_NOT_ALLOWED, sm_cipher


def test_second_login_is_refused_on_both_shenzhen_centres(lab):
    inv = lab.inventory()
    gw = by_gateway(lab.status())["W000000T"]
    assert gw["state"] == "logged_in" and gw["centre"] == "FT"
    for centre in ("FT", "NF"):
        ep = inv.centre(centre).services["trading"]
        with ExchangeClient(ep.address, ep.port) as c:
            assert c.logon("W000000T") == f"LOGOUT {LOGIN_NOT_ALLOWED}"
    refused = truth_when(lab, "login_refused", lambda rs: len(rs) >= 2, gateway="W000000T")
    assert [r["centre"] for r in refused] == ["FT", "NF"]
    assert all(r["reason"] == LOGIN_NOT_ALLOWED for r in refused)
    after = by_gateway(lab.status())["W000000T"]
    assert after["session_id"] == gw["session_id"] and after["sessions"] == 1


def test_a_free_id_logs_in_once_then_is_refused_at_the_other_centre(lab):
    inv = lab.inventory()
    ft, nf = (inv.centre(c).services["trading"] for c in ("FT", "NF"))
    with ExchangeClient(ft.address, ft.port) as first:
        assert first.logon("W000999T").startswith("LOGON_OK FT-")
        with ExchangeClient(nf.address, nf.port) as second:
            assert second.logon("W000999T") == f"LOGOUT {LOGIN_NOT_ALLOWED}"
        first.send("LOGOUT")
    closed = wait_for(lambda: truth_of(lab, "session_closed", gateway="W000999T"), 5, "logout")
    assert closed[0]["reason"] == "logout"
    with ExchangeClient(nf.address, nf.port) as again:
        assert again.logon("W000999T").startswith("LOGON_OK NF-")


def test_bj_accepts_logins_on_its_addresses(lab):
    """BJ has its own session table: trading, market data and CCNET 7013/7015 all answer."""
    bj = lab.inventory().centre("BJ").services
    with ExchangeClient(bj["trading"].address, bj["trading"].port) as c:
        # W000000T is logged in on FT; BJ's table is separate.
        assert c.logon("W000000T").startswith("LOGON_OK BJ-")
    with ExchangeClient(bj["market_data"].address, bj["market_data"].port) as c:
        assert c.logon("W00001TF", "market_data").startswith("LOGON_OK BJ-")
        tick = c.recv()
        while not tick.startswith("T "):
            tick = c.recv()
        assert int(tick.split()[2]) > 0
    for svc, variant in (("settlement", "standard"), ("settlement_sm", "sm")):
        ep = bj[svc]
        with ExchangeClient(ep.address, ep.port) as c:
            ok = c.logon("W00002JS", "settlement").split()
            assert ok[0] == "LOGON_OK" and ok[1].startswith("BJ-") and ok[2] == variant
            c.send("LIST")
            assert c.recv().startswith("FILES test.dat ")
            c.send("GET test.dat")
            line = c.recv()
            while not line.startswith("DATA"):
                line = c.recv()
            _, _name, size, digest, payload = line.split()[:5]  # then the send time
            data = base64.b64decode(payload)
            if variant == "sm":
                assert hashlib.sha256(data).hexdigest() != digest  # encrypted on the wire
                data = sm_cipher(data)
            assert len(data) == int(size) and hashlib.sha256(data).hexdigest() == digest
    # Each record is written just after the answer the client read: wait for them.
    services = {"trading", "market_data", "settlement", "settlement_sm"}
    accepted = truth_when(lab, "login_accepted", lambda rs: {r["service"] for r in rs} >= services,
                          centre="BJ")
    assert {r["service"] for r in accepted} == services
    transfers = truth_when(lab, "transfer", lambda rs: len(rs) >= 2, centre="BJ")
    assert {r["variant"] for r in transfers} == {"standard", "sm"}
