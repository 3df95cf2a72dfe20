"""Service hours on a real lab in off-hours mode (issue 15): the lab's flows are stopped
(no ticks, no CCNET transfers); a drill run on a listed weekday holiday (clock injected:
2026-10-01, National Day, a Thursday) passes the gate on sessions, its report marks the
flow checks not applicable, and market data and settlement count as restored at their
new login. The same look at an ordinary Thursday fails: the flows are really stopped."""

from __future__ import annotations

import os
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import yaml
from engine_fixtures import make_project
from engine_helpers import of_kind, records, run_captured

from orchestrator.config.inventory import load_inventory
from orchestrator.engine import safety
from orchestrator.engine.steady import check, flow_hours
from orchestrator.lab.testing import make_lab_inventory, running_lab
from orchestrator.model.windows import in_change_window

SH = ZoneInfo("Asia/Shanghai")
NATIONAL_DAY = datetime(2026, 10, 1, 10, 0, tzinfo=SH)
ORDINARY_THURSDAY = datetime(2026, 10, 15, 10, 0, tzinfo=SH)
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]


@pytest.fixture(scope="module", name="off")
def off_fixture(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("offhours")
    home = tmp / "home"
    old = os.environ.get("DRILL_HOME")
    os.environ["DRILL_HOME"] = str(home)
    try:
        folder = make_lab_inventory(tmp / "inv", gateways=5)
        doc = yaml.safe_load((folder / "hosts.yml").read_text(encoding="utf-8"))
        drill = doc["all"]["vars"]["drill"]
        drill["lab"]["off_hours"] = True
        drill["service_hours"] = {
            "market_data": [{"days": WEEKDAYS, "start": "09:15", "end": "11:30"},
                            {"days": WEEKDAYS, "start": "13:00", "end": "15:30"}],
            "settlement": [{"days": WEEKDAYS, "start": "08:00", "end": "20:00"}]}
        (folder / "hosts.yml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        project = make_project(tmp / "project")
        with running_lab(folder, home) as handle, pytest.MonkeyPatch.context() as mp:
            inv = load_inventory(folder)
            # the lab's flows are stopped: on an ordinary Thursday the gate would refuse
            ordinary = check(inv, hours=flow_hours(inv, ORDINARY_THURSDAY))
            mp.setattr(safety, "_now_dt", lambda: NATIONAL_DAY)
            env = type("Env", (), {"project": project, "inventory": folder,
                                   "reports": tmp / "reports"})
            ran = run_captured(env, "quick", "--set", "carrier=CT")
            yield inv, ordinary, ran, handle
    finally:
        if old is None:
            os.environ.pop("DRILL_HOME", None)
        else:
            os.environ["DRILL_HOME"] = old


def test_on_an_ordinary_weekday_the_stopped_flows_fail_the_flow_checks(off):
    inv, ordinary, _ran, _handle = off
    bad = sorted((c.gateway, c.check) for c in ordinary.failures)
    want = sorted((g.id, {"market_data": "md_flowing", "settlement": "settlement_ok"}[g.kind])
                  for g in inv.gateways if g.kind != "trading")
    assert bad == want, ordinary.describe_failures()


def test_a_weekday_holiday_is_in_the_change_window(off):
    inv, *_ = off
    assert in_change_window(inv, NATIONAL_DAY) and not in_change_window(inv, ORDINARY_THURSDAY)


def test_on_the_holiday_the_gate_passes_on_sessions_with_flow_checks_not_applicable(off):
    _inv, _ordinary, ran, _handle = off
    assert ran.code == 0, ran.out + ran.err
    recs = records(ran.run)
    gate = next(r for r in of_kind(recs, "steady_state") if r["when"] == "gate")
    assert gate["ok"]
    flow = [c for c in gate["checks"] if c["check"] in ("md_flowing", "settlement_ok")]
    assert len(flow) == 3 and all(c["state"] == "not_applicable" for c in flow)
    assert all("holiday" in c["detail"] and "National Day" in c["detail"] for c in flow)
    sessions = [c for c in gate["checks"] if c["check"] in ("logged_in", "shenzhen_centre")]
    assert len(sessions) == 10 and all(c["ok"] and not c.get("state") for c in sessions)
    after = next(r for r in of_kind(recs, "steady_state") if r["when"] == "after")
    assert after["ok"]
    assert all(c["state"] == "not_applicable" for c in after["checks"]
               if c["check"] in ("md_flowing", "settlement_ok"))
    report = (ran.run / "report.html").read_text(encoding="utf-8")
    assert report.count("(not applicable: ") == 6  # 3 flow checks, gate and after-check


def test_on_the_holiday_market_data_and_settlement_are_restored_at_their_new_login(off):
    _inv, _ordinary, ran, _handle = off
    recs = records(ran.run)
    measures = {m["gateway"]: m for m in of_kind(recs, "measure") if m.get("phase") == "failover"}
    logins: dict[str, list[int]] = {}
    for e in of_kind(recs, "gateway.event"):
        if e.get("type") == "login":
            logins.setdefault(e["gateway"], []).append(e["data"]["server_time_ns"])
    moved = [g for g, m in measures.items() if m["affected"]]
    assert {measures[g]["service"] for g in moved} >= {"market_data", "settlement"}, measures
    for g in moved:
        m = measures[g]
        assert m["interrupted"] and m["passed"] is True, m
        assert m["centre_after"] == "NF", m  # CT carries FT's line: over to Nanfang
        # restored at the exchange's time of the new login, no tick or transfer needed
        lost = m["link_lost"]["ns"]
        assert m["restored"]["ns"] == min(t for t in logins[g] if t >= lost), m
    objs = {o["name"]: o for o in of_kind(recs, "objective")}
    assert objs["rto.market_data"]["state"] == "passed"
    assert objs["rto.settlement"]["state"] == "passed"
