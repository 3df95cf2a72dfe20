"""Issue 13: four states per objective, and a run verdict that never reads "passed"
without a measurement (unit level; the lab runs are in test_verdicts_lab.py)."""

from __future__ import annotations

from types import SimpleNamespace

from orchestrator.engine import measure
from orchestrator.engine.plan import plan
from orchestrator.engine.state import RunState
from orchestrator.engine.timing import measure_gateway, objectives
from orchestrator.errors import ExitCode
from orchestrator.journal.observations import Measure
from orchestrator.model.run import EXIT_CODES, verdict_line
from orchestrator.probes.monitor import GatewayTracker, Received

S = 1_000_000_000
LOST = 100 * S


def _m(gateway: str, service: str, *, affected: bool = True, passed: bool | None = True,
       interruption: float | None = 1.0) -> Measure:
    return Measure(gateway=gateway, service=service, affected=affected, interrupted=affected,
                   interruption_s=interruption, passed=passed)


def _drill(rto: dict[str, float], no_double_login: bool = True):
    targets = SimpleNamespace(rto_s=rto, no_double_login=no_double_login, cutover_limit_s=None,
                              cutover_firm_s=None, expected_s={})
    return SimpleNamespace(targets=targets)


def test_an_rto_with_no_gateway_on_the_failed_path_is_not_applicable_not_passed():
    objs = {o.name: o for o in objectives([_m("T1", "trading"), _m("M1", "market_data")],
                                          {"trading": 30, "market_data": 10, "settlement": 60})}
    assert objs["rto.trading"].verdict == "passed" and objs["rto.trading"].passed
    assert objs["rto.settlement"].verdict == "not_applicable"
    assert objs["rto.settlement"].passed is False and objs["rto.settlement"].measured is None


def test_a_gateway_drill_could_not_hear_is_not_tested_and_a_failure_still_wins():
    blind = _m("T1", "trading", passed=None, interruption=None)
    objs = {o.name: o for o in objectives([blind, _m("T2", "trading")], {"trading": 30})}
    assert objs["rto.trading"].verdict == "not_tested" and "T1" in objs["rto.trading"].detail
    objs = {o.name: o for o in objectives([blind, _m("T2", "trading", passed=False)], {"trading": 30})}
    assert objs["rto.trading"].verdict == "failed"


def test_a_lost_monitor_stream_is_not_measured_rather_than_failed_or_passed():
    events = [Received("T1", {"type": "link_down", "ts_ns": LOST + S // 10}, LOST + S // 10)]
    kw = dict(gateway="T1", kind="trading", service="trading", affected=True, link_lost_ns=LOST,
              window_end_ns=LOST + 30 * S, events=events, observed_ns=None, probe_period_s=0.05,
              target_s=30.0, centre_before="FT")
    heard = measure_gateway(**kw)
    assert heard.passed is False and heard.restored is None  # heard down, never back: failed
    silent = measure_gateway(**kw, blind_ns=LOST + S)
    assert silent.passed is None and silent.interruption_s is None
    assert "monitor stream" in silent.note
    # a stream lost before the fault, or a service seen restored, changes nothing
    back = [*events, Received("T1", {"type": "login", "ts_ns": LOST + 2 * S, "data": {}}, LOST + 2 * S)]
    assert measure_gateway(**{**kw, "events": back}, blind_ns=LOST + 3 * S).passed is True


def test_the_tracker_knows_when_a_stream_was_lost_until_it_is_heard_again():
    t = GatewayTracker([("T1", "trading")])
    assert t.lost_since("T1") is None
    t.apply(Received("T1", {"type": "snapshot", "data": {"state": "logged_in"}}, 1))
    t.set_connected("T1", False)
    lost = t.lost_since("T1")
    assert lost is not None
    t.set_connected("T1", False)
    assert t.lost_since("T1") == lost  # the first loss counts
    t.apply(Received("T1", {"type": "snapshot", "data": {"state": "logged_in"}}, 2))
    assert t.lost_since("T1") is None


def test_no_double_login_that_could_not_be_measured_is_not_tested_never_passed():
    st = RunState()
    objs = {o.name: o for o in measure.run_objectives(
        _drill({"trading": 30}), st, [_m("T1", "trading")], "not measurable here", sessions_visible=False)}
    assert objs["no_double_login"].verdict == "not_tested"
    assert objs["no_double_login"].detail == "not measurable here"
    st.max_sessions = {"T1": 1}
    objs = {o.name: o for o in measure.run_objectives(
        _drill({"trading": 30}), st, [_m("T1", "trading")], "one session each", sessions_visible=True)}
    assert objs["no_double_login"].verdict == "passed"
    st.max_sessions = {"T1": 2}
    objs = {o.name: o for o in measure.run_objectives(
        _drill({"trading": 30}), st, [_m("T1", "trading")], "", sessions_visible=True)}
    assert objs["no_double_login"].verdict == "failed"


def test_a_run_with_no_gateway_on_the_failed_path_is_inconclusive():
    st = RunState(max_sessions={"T1": 1})
    off = [_m("T1", "trading", affected=False, interruption=0.0)]
    objs = measure.run_objectives(_drill({"trading": 30}), st, off, "one session each")
    by = {o.name: o.verdict for o in objs}
    assert by["rto.trading"] == "not_applicable" and by["failover_exercised"] == "not_tested"
    assert measure.verdict(st, objs, True) == ("inconclusive", 5)
    summary = measure.summary(st, "inconclusive", objs, True, None)
    assert "not tested: failover_exercised" in summary


def test_not_applicable_changes_nothing_and_failed_wins_over_inconclusive():
    st = RunState(max_sessions={"T1": 1})
    ms = [_m("T1", "trading")]
    objs = measure.run_objectives(_drill({"trading": 30, "settlement": 60}), st, ms, "ok")
    assert {o.name: o.verdict for o in objs}["rto.settlement"] == "not_applicable"
    assert measure.verdict(st, objs, True) == ("passed", 0)
    blind = [_m("T1", "trading", passed=None, interruption=None), _m("T2", "trading", passed=False)]
    objs = measure.run_objectives(_drill({"trading": 30}), st, blind, "ok")
    assert measure.verdict(st, objs, True) == ("failed", 1)
    objs = measure.run_objectives(_drill({"trading": 30}), st, blind[:1], "ok")
    assert measure.verdict(st, objs, True) == ("inconclusive", 5)
    assert measure.verdict(st, objs, False) == ("failed", 1)  # the after-check failed


def test_inconclusive_has_its_own_documented_exit_code():
    from pathlib import Path

    assert EXIT_CODES["inconclusive"] == ExitCode.INCONCLUSIVE == 5
    assert EXIT_CODES["aborted"] == ExitCode.ABORTED == 3
    doc = (Path(__file__).parents[2] / "docs" / "exit-codes.md").read_text(encoding="utf-8")
    assert "| 5 | `INCONCLUSIVE` |" in doc
    assert verdict_line("inconclusive", ["passed", "not_applicable", "not_tested"]) == \
        "INCONCLUSIVE: 1 passed, 0 failed, 1 not applicable, 1 not tested"


def _plan(drill: str, *sets: str, tmp_path):
    from pathlib import Path

    root = Path(__file__).parents[2]
    overrides = dict(s.split("=", 1) for s in sets)
    return plan(root, drill, root / "inventories" / "lab", overrides, tmp_path / "home",
                ansible_check=False)


def test_plan_shows_not_applicable_objectives_before_the_run(tmp_path):
    shown = _plan("carrier-outage", "carrier=CU", tmp_path=tmp_path)
    states = {o.name: o.state for o in shown.objectives}
    assert states == {"rto.trading": "to_measure", "rto.market_data": "to_measure",
                      "rto.settlement": "not_applicable"}
    assert shown.on_path and not shown.warnings


def test_plan_warns_when_no_gateway_is_on_the_failed_path(tmp_path):
    for drill, param in (("single-line", "line=ct-nf"), ("centre-outage", "centre=BJ")):
        shown = _plan(drill, param, tmp_path=tmp_path)
        assert shown.on_path == ()
        assert {o.state for o in shown.objectives} == {"not_applicable"}
        assert any("no gateway is on the failed path" in w for w in shown.warnings), drill
        assert shown.to_record()["warnings"] == list(shown.warnings)


def test_a_service_the_drill_does_not_name_fails_the_run_when_interrupted():
    ms = [_m("M1", "market_data"), _m("T1", "trading", passed=False, interruption=12.5),
          _m("S1", "settlement", passed=False, interruption=None)]
    objs = {o.name: o for o in objectives(ms, {"market_data": 10})}
    assert objs["rto.market_data"].verdict == "passed"
    assert objs["unexpected.trading"].verdict == "failed" and "T1 (12.500s)" in objs["unexpected.trading"].detail
    assert objs["unexpected.settlement"].verdict == "failed"
    assert "not restored" in objs["unexpected.settlement"].detail
    # not interrupted: nothing to judge, no objective
    quiet = [_m("M1", "market_data"), Measure(gateway="T1", service="trading", affected=True,
                                               interrupted=False, interruption_s=0.0, passed=True)]
    assert {o.name for o in objectives(quiet, {"market_data": 10})} == {
        "rto.market_data", "unaffected_no_interruption"}


def test_an_interruption_declared_expected_is_judged_against_its_own_target():
    ms = [_m("M1", "market_data"), _m("T1", "trading", interruption=12.5)]
    objs = {o.name: o for o in objectives(ms, {"market_data": 10}, {"trading": 120, "settlement": 120})}
    assert objs["expected.trading"].verdict == "passed" and objs["expected.trading"].measured == 12.5
    assert objs["expected.settlement"].verdict == "not_applicable"
    assert "unexpected.trading" not in objs
    objs = {o.name: o for o in objectives(ms, {"market_data": 10}, {"trading": 10})}
    assert objs["expected.trading"].verdict == "failed"


def test_an_interrupted_gateway_with_no_target_never_passes_its_measure():
    events = [Received("T1", {"type": "link_down", "ts_ns": LOST + S // 10}, LOST + S // 10),
              Received("T1", {"type": "login", "ts_ns": LOST + 2 * S, "data": {}}, LOST + 2 * S)]
    m = measure_gateway(gateway="T1", kind="trading", service="trading", affected=True,
                        link_lost_ns=LOST, window_end_ns=None, events=events, observed_ns=None,
                        probe_period_s=0.05, target_s=None, centre_before="FT")
    assert m.interruption_s == 2.0 and m.passed is False and "no target" in m.note
