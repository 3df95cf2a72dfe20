"""Predicted failover (issue 19): the interruption each gateway's timing settings allow,
and `drill plan`'s warning when they cannot meet the drill's target."""

from __future__ import annotations

from click.testing import CliRunner

from orchestrator.cli import cli as main
from orchestrator.lab.testing import make_lab_inventory


def _plan(inventory, *sets: str):
    args = ["plan", "carrier-outage", "--no-check", "--inventory", str(inventory), "--json"]
    for s in sets:
        args += ["--set", s]
    return CliRunner().invoke(main, args, catch_exceptions=False)


def test_plan_predicts_a_longer_interruption_for_a_longer_heartbeat_timeout(tmp_path):
    import json

    short = json.loads(_plan(make_lab_inventory(tmp_path / "a")).output)["predictions"]
    long = json.loads(_plan(make_lab_inventory(
        tmp_path / "b", timing={"heartbeat_timeout": 6.0, "server_session_timeout": 6.0})).output)["predictions"]
    by = {p["service"]: p for p in short}
    by_long = {p["service"]: p for p in long}
    assert set(by) == {"trading", "market_data", "settlement"}
    for service in by:
        assert by_long[service]["low_s"] > by[service]["high_s"], (by[service], by_long[service])


def test_plan_predicts_reset_detection_for_an_interface_shutdown(tmp_path):
    import json

    inv = make_lab_inventory(tmp_path)
    silent = {p["gateway"]: p for p in json.loads(_plan(inv).output)["predictions"]}
    reset = {p["gateway"]: p for p in json.loads(_plan(inv, "mode=shutdown").output)["predictions"]}
    assert set(silent) == set(reset) and silent
    for gid in silent:
        assert reset[gid]["high_s"] < silent[gid]["low_s"]
        assert "reset" in reset[gid]["basis"]["en"]


def test_plan_warns_about_a_gateway_whose_settings_cannot_meet_the_target(tmp_path):
    # carrier-outage: trading must be back within 30 s; a 40 s heartbeat timeout cannot do it
    inv = make_lab_inventory(tmp_path, timing={"heartbeat_timeout": 40.0,
                                               "server_session_timeout": 40.0})
    res = CliRunner().invoke(main, ["plan", "carrier-outage", "--no-check", "--inventory", str(inv)],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    warned = [line for line in res.output.splitlines() if "cannot meet its 30s target" in line]
    assert warned and all("(trading)" in line for line in warned), res.output


def test_the_failed_path_is_predicted_from_where_the_gateways_are_now(tmp_path):
    # the gate refuses a drill whose affected gateways cannot be observed: it must judge
    # them where they are logged in, not where they would be on their home centres
    from pathlib import Path

    from orchestrator.engine.plan import predicted_path
    from orchestrator.engine.prepare import prepare

    repo = Path(__file__).resolve().parents[2]
    prepared = prepare(repo, "single-line", make_lab_inventory(tmp_path / "inv"), {"line": "ct-ft"},
                       tmp_path / "home", start_lab=False)
    inv = prepared.inventory
    home = set(predicted_path(prepared.resolved, inv))
    on_ft = next(g for g in inv.gateways if g.id in home)
    on_nf = next(g for g in inv.gateways if g.id not in home and not g.satellite_only)
    moved = {on_ft.id: inv.home_centre(on_nf), on_nf.id: inv.home_centre(on_ft)}
    now = set(predicted_path(prepared.resolved, inv, moved))
    assert on_nf.id in now and on_ft.id not in now
    assert now - {on_nf.id} == home - {on_ft.id}
