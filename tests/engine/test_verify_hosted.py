"""Issue 15: a verify step's monitor expectation on `observe: host` gateways (SSCC's own
software, no monitor) reads what their logs show; a gateway kind the inventory has none of
selects no gateway (it is not taken for a gateway id)."""

from __future__ import annotations

from orchestrator.config.inventory import load_inventory
from orchestrator.engine.steps import evaluate, select_gateways
from orchestrator.lab.testing import make_lab_inventory
from orchestrator.model.drill import Expectation
from orchestrator.probes.monitor import GatewayView


def _inv(tmp_path, gateways=3):
    inv = load_inventory(make_lab_inventory(tmp_path, gateways=gateways))
    return inv, [g.id for g in inv.gateways if g.kind == "trading"]


def _views(ids, **kw):
    return {gid: GatewayView(gid, "trading", connected=True, **kw) for gid in ids}


def test_a_monitor_expectation_reads_the_logs_of_host_observed_gateways(tmp_path):
    inv, trading = _inv(tmp_path)
    x = Expectation(probe="monitor", gateways="trading", expect={"state": "logged_in", "centre": "BJ"})
    at_bj = _views(trading, state="logged_in", centre="BJ")
    r = evaluate(inv, x, log_path=lambda _g: None, since_ns=0, hosted=lambda: at_bj)
    assert r.ok, r.detail
    at_ft = _views(trading, state="logged_in", centre="FT")
    r = evaluate(inv, x, log_path=lambda _g: None, since_ns=0, hosted=lambda: at_ft)
    assert not r.ok and f"{trading[0]}: centre is 'FT', expected 'BJ'" in r.detail
    # what a log does not show is not taken as shown
    x = Expectation(probe="monitor", gateways="trading", expect={"settlement.last_transfer_ok": True})
    r = evaluate(inv, x, log_path=lambda _g: None, since_ns=0, hosted=lambda: at_bj)
    assert not r.ok and "(its log does not show it)" in r.detail


def test_a_kind_with_no_gateway_selects_none(tmp_path):
    inv, trading = _inv(tmp_path, gateways=1)  # one trading gateway, no other kind
    assert [g.kind for g in inv.gateways] == ["trading"]
    assert select_gateways(inv, "trading") == trading
    assert select_gateways(inv, "W9") == ["W9"]  # an id stays an id
    assert select_gateways(inv, "market_data") == []
    x = Expectation(probe="monitor", gateways="settlement", expect={"state": "logged_in"})
    r = evaluate(inv, x, log_path=lambda _g: None, since_ns=0, hosted=lambda: {})
    assert r.ok and r.detail == "no settlement gateway in the inventory"
