"""`drill run` end to end on a real lab with real Ansible (issue 3)."""

from __future__ import annotations

import json

import pytest
from engine_fixtures import lab_env_fixture  # noqa: F401 - the lab_env fixture
from engine_helpers import (
    assert_golden_keys,
    newest_run,
    of_kind,
    records,
    run_captured,
    run_inprocess,
)
from support import TOLERANCE_S

from orchestrator.cli import main
from orchestrator.engine.steady import wait_steady
from orchestrator.journal.chain import first_bad_record
from orchestrator.journal.gzlines import read_lines
from orchestrator.targets.lab import LabTarget

TRUTH_AGREEMENT_S = 0.100


def _assert_steady(env) -> None:
    inv = env.lab.inventory()
    # carrier-outage declares no failback: gateways may stay on the other Shenzhen centre.
    res = wait_steady(inv, observe=LabTarget(env.lab.state_dir).environment_view, require_home=False,
                      timeout_s=inv.timing.heartbeat_timeout + 4 * TOLERANCE_S)
    assert res.ok, res.describe_failures()


@pytest.fixture(scope="module", autouse=True, name="carrier_outage")
def carrier_outage_fixture(lab_env):
    """The module's first run, whatever test comes first or runs alone: carrier-outage on
    the fresh lab (CT carries the even gateways); later runs move gateways."""
    return run_captured(lab_env, "carrier-outage", "--set", "hold=1s")


def _truth(run_dir):
    return list(read_lines(run_dir / "evidence" / "lab-truth.jsonl.gz"))


def test_carrier_outage_passes_and_leaves_journal_and_evidence(lab_env, carrier_outage):
    assert carrier_outage.code == 0, carrier_outage.out + carrier_outage.err
    run = carrier_outage.run
    assert str(run) in carrier_outage.out
    for header in ("link lost", "detected", "restored", "interruption", "target"):
        assert header in carrier_outage.out
    recs = records(run)
    assert first_bad_record(run / "journal.jsonl") is None
    assert recs[0]["kind"] == "run.start" and recs[-1]["kind"] == "run.end"
    assert recs[-1]["data"]["status"] == "passed"
    for name in ("probes.jsonl.gz", "gateway-events.jsonl.gz", "lab-truth.jsonl.gz"):
        assert (run / "evidence" / name).stat().st_size > 0
    start = recs[0]["data"]
    assert {ln["id"] for ln in start["topology"]["lines"]} >= {"ct-ft", "cu-nf"}
    assert start["params"]["carrier"] == "CT"
    _assert_steady(lab_env)


def test_measured_interruptions_agree_with_lab_ground_truth(carrier_outage):
    run = carrier_outage.run
    truth = _truth(run)
    measures = [m for m in of_kind(records(run), "measure") if m["phase"] == "failover"]
    checked = 0
    for m in measures:
        if not m["affected"] or m["service"] == "market_data":
            continue
        lost = min(t["ts_ns"] for t in truth
                   if t["type"] == "path_lost" and t["gateway"] == m["gateway"])
        login = min(t["ts_ns"] for t in truth
                    if t["type"] == "login_accepted" and t["gateway"] == m["gateway"]
                    and t["ts_ns"] > lost)
        if m["service"] == "settlement":
            login = min(t["ts_ns"] for t in truth if t["type"] == "transfer" and t["ok"]
                        and t["gateway"] == m["gateway"] and t["ts_ns"] >= login)
        true_s = (login - lost) / 1e9
        assert abs(m["interruption_s"] - true_s) <= TRUTH_AGREEMENT_S, (m, true_s)
        checked += 1
    assert checked >= 2  # the even gateways ride the CT line to FT


def test_market_data_restored_when_ticks_flow_again_whatever_the_source(carrier_outage):
    run = carrier_outage.run
    truth = _truth(run)
    md = [m for m in of_kind(records(run), "measure")
          if m["service"] == "market_data" and m["affected"] and m["phase"] == "failover"]
    assert md
    for m in md:
        lost = min(t["ts_ns"] for t in truth
                   if t["type"] == "path_lost" and t["gateway"] == m["gateway"])
        first_tick = min(t["ts_ns"] for t in truth if t["type"] == "md_first_tick"
                         and t["gateway"] == m["gateway"] and t["ts_ns"] > lost)
        # Restored is the first tick's own send time, which the tick carries (TCP or multicast).
        assert abs(m["restored"]["ns"] - first_tick) / 1e9 <= TRUTH_AGREEMENT_S, m
        assert m["restored"]["source"] == "exchange"


def test_unaffected_gateways_show_no_interruption(carrier_outage):
    run = carrier_outage.run
    measures = of_kind(records(run), "measure")
    unaffected = [m for m in measures if not m["affected"]]
    assert unaffected, "carrier CT leaves the odd gateways (NF first, on CU) untouched"
    assert all(m["interruption_s"] == 0 and not m["interrupted"] for m in unaffected)
    truth = _truth(run)
    for m in unaffected:
        assert not [t for t in truth if t["type"] == "path_lost" and t["gateway"] == m["gateway"]]
    objective = {o["name"]: o for o in of_kind(records(run), "objective")}
    assert objective["unaffected_no_interruption"]["passed"]


def test_every_time_names_its_source_and_uncertainty(carrier_outage):
    run = carrier_outage.run
    for m in of_kind(records(run), "measure"):
        for key in ("link_lost", "detected", "observed", "restored"):
            if m[key] is not None:
                assert m[key]["source"] in ("fault-task", "gateway-monitor", "probe-sample",
                                            "engine", "exchange")
                assert "uncertainty_ms" in m[key] and m[key]["t"].endswith("Z")
        if m["restored"] is not None:
            # the lab exchange's send time, carried in its answer or tick (docs/journal.md)
            assert m["restored"]["source"] == "exchange"
    fault = of_kind(records(run), "fault.effective")[0]
    assert fault["at"]["source"] == "fault-task"


def test_the_journal_has_the_record_kinds_and_keys_it_had_before_the_restructure(carrier_outage):
    """Issue 12: the engine split changed no record kind and no key (golden capture)."""
    assert_golden_keys(records(carrier_outage.run), "carrier-outage")


def test_the_journal_counts_every_transfer_it_folds_and_the_evidence_has_each(carrier_outage):
    """Issue 19 (P9): a run of like transfers is journaled as its first and a count; the
    counts and the whole ones add up to the evidence file's transfers, gateway by gateway."""
    recs = records(carrier_outage.run)
    evidence = [e for e in read_lines(carrier_outage.run / "evidence" / "gateway-events.jsonl.gz")
                if e["type"] == "transfer"]
    folded = of_kind(recs, "gateway.events_folded")
    assert sum(f["count"] for f in folded) > 0, "no transfer was folded"
    for gid in {e["gateway"] for e in evidence}:
        whole = [e for e in of_kind(recs, "gateway.event") if e["gateway"] == gid and e["type"] == "transfer"]
        counted = sum(f["count"] for f in folded if f["gateway"] == gid)
        assert len(whole) + counted == len([e for e in evidence if e["gateway"] == gid]), gid
        for f in (f for f in folded if f["gateway"] == gid):  # a stretch of its stream
            assert f["first_seq"] + f["count"] - 1 <= f["last_seq"], f


def busy_carrier(env) -> str:
    """The carrier whose line the first gateway uses now (earlier runs move gateways)."""
    inv = env.lab.inventory()
    line = next(g["line"] for g in env.lab.status()["gateways"] if g["line"])
    return inv.line(line).carrier


def test_impossible_target_exits_1_with_a_clear_summary(lab_env, capsys):
    code = run_inprocess(lab_env, "impossible", "--set", f"carrier={busy_carrier(lab_env)}")
    out = capsys.readouterr().out
    assert code == 1
    assert "FAILED" in out and "rto." in out and "objectives failed" in out
    run = newest_run(lab_env.reports, "impossible")
    end = records(run)[-1]
    assert end["kind"] == "run.end" and end["data"]["status"] == "failed"
    assert end["data"]["exit_code"] == 1
    _assert_steady(lab_env)


def test_a_playbook_failing_mid_drill_still_restores_the_lab(lab_env, capsys):
    code = run_inprocess(lab_env, "fails-mid-drill")
    out = capsys.readouterr().out
    assert code == 3, out
    run = newest_run(lab_env.reports, "fails-mid-drill")
    recs = records(run)
    steps = of_kind(recs, "step.end")
    assert [s["status"] for s in steps if s["phase"] == "fault"] == ["ok"]
    assert [s["status"] for s in steps if s["phase"] == "recovery"] == ["failed"]
    restore = [s for s in steps if s["phase"] == "restore"]
    assert restore and all(s["status"] == "ok" for s in restore)
    assert of_kind(recs, "abort")
    assert recs[-1]["data"]["status"] == "aborted"
    _assert_steady(lab_env)


def test_declared_failback_returns_moved_gateways_home_and_is_measured(lab_env, capsys):
    carrier = busy_carrier(lab_env)
    code = run_inprocess(lab_env, "quick-failback", "--set", f"carrier={carrier}")
    out = capsys.readouterr().out
    assert code == 0, out
    recs = records(newest_run(lab_env.reports, "quick-failback"))
    inv = lab_env.lab.inventory()
    away = {m["gateway"] for m in of_kind(recs, "measure")
            if m["phase"] == "failover" and m["centre_after"] != inv.home_centre(m["gateway"])}
    failback = {m["gateway"]: m for m in of_kind(recs, "measure") if m["phase"] == "failback"}
    assert away and set(failback) == away
    assert all(m["restored"] is not None and m["passed"] for m in failback.values())
    res = wait_steady(inv, observe=LabTarget(lab_env.lab.state_dir).environment_view, require_home=True,
                      timeout_s=inv.timing.heartbeat_timeout + 4 * TOLERANCE_S)
    assert res.ok, res.describe_failures()


def test_plan_shows_the_resolved_steps_with_ansible_check_mode(lab_env, capsys):
    def line_states():
        return {ln["id"]: ln["state"] for ln in lab_env.lab.status()["lines"]}

    before = line_states()
    code = main(["plan", "quick", "--project", str(lab_env.project), "--inventory",
                 str(lab_env.inventory), "--set", "carrier=CU", "--json"])
    out = capsys.readouterr().out
    assert code == 0
    plan = json.loads(out)
    assert plan["params"]["carrier"] == "CU"
    fault = next(s for s in plan["steps"] if s["phase"] == "fault")
    assert fault["vars"]["lines"] == ["cu-nf"] and fault["effect"]["lines_down"] == ["cu-nf"]
    assert fault["check"]["status"] == "successful"
    assert line_states() == before  # check mode changed nothing


def test_run_json_prints_the_outcome(lab_env, capsys):
    code = run_inprocess(lab_env, "quick", "--set", f"carrier={busy_carrier(lab_env)}", "--json",
                         "--ticket", "CR-2026-042", "--approver", "Li Wei", "--operator", "Zhang San")
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["status"] == "passed" and out["exit_code"] == 0
    start = records(newest_run(lab_env.reports, "quick"))[0]["data"]
    assert (start["ticket"], start["approver"], start["operator"]) == ("CR-2026-042", "Li Wei", "Zhang San")
    assert start["os_user"]
    assert {m["gateway"] for m in out["measurements"]} == {g.id for g in lab_env.lab.inventory().gateways}
