"""Abort conditions: the blast radius grows, recovery misses its deadline by the margin."""

from __future__ import annotations

from engine_fixtures import lab_env_fixture  # noqa: F401 - the lab_env fixture
from engine_helpers import newest_run, of_kind, records, run_inprocess
from support import TOLERANCE_S

from orchestrator.engine import kinds
from orchestrator.engine.steady import wait_steady
from orchestrator.targets.lab import LabTarget


def _assert_steady(env) -> None:
    inv = env.lab.inventory()
    res = wait_steady(inv, observe=LabTarget(env.lab.state_dir).environment_view,
                      timeout_s=inv.timing.heartbeat_timeout + 4 * TOLERANCE_S)
    assert res.ok, res.describe_failures()


def _carrier_in_use(env) -> str:
    inv = env.lab.inventory()
    line = next(g["line"] for g in env.lab.status()["gateways"] if g["line"])
    return inv.line(line).carrier


def test_a_gateway_off_the_predicted_path_losing_service_aborts_and_restores(lab_env, capsys):
    code = run_inprocess(lab_env, "wrong-effect", "--set", f"carrier={_carrier_in_use(lab_env)}")
    out = capsys.readouterr().out
    assert code == 3, out
    recs = records(newest_run(lab_env.reports, "wrong-effect"))
    aborts = of_kind(recs, "abort")
    assert aborts and aborts[0]["reason"].startswith("blast radius")
    assert [s["status"] for s in of_kind(recs, "step.end") if s["phase"] == "restore"] == ["ok", "ok"]
    assert recs[-1]["data"]["status"] == "aborted"
    _assert_steady(lab_env)


def test_recovery_missing_its_deadline_by_the_margin_aborts_and_restores(lab_env, capsys):
    code = run_inprocess(lab_env, "late-recovery", "--set", f"carrier={_carrier_in_use(lab_env)}")
    out = capsys.readouterr().out
    assert code == 3, out
    recs = records(newest_run(lab_env.reports, "late-recovery"))
    assert "missed its" in of_kind(recs, "abort")[0]["reason"]
    assert of_kind(recs, "abort")[0]["phase"] == "recovery"
    assert [s["status"] for s in of_kind(recs, "step.end") if s["phase"] == "restore"] == ["ok", "ok"]
    _assert_steady(lab_env)


def test_a_step_that_crashes_is_journaled_failed_and_the_run_still_restores_and_ends(
        lab_env, capsys, monkeypatch):
    original = kinds.WaitKind.run

    def broken(self, eng, call):
        if call.phase == "recovery":
            raise TypeError("a bug in a step kind")
        return original(self, eng, call)

    monkeypatch.setattr(kinds.WaitKind, "run", broken)
    code = run_inprocess(lab_env, "quick", "--set", f"carrier={_carrier_in_use(lab_env)}")
    out = capsys.readouterr().out
    assert code == 1, out
    recs = records(newest_run(lab_env.reports, "quick"))
    (crashed,) = [s for s in of_kind(recs, "step.end") if s["phase"] == "recovery"]
    assert crashed["status"] == "failed" and "internal error: TypeError" in crashed["error"]
    assert [s["status"] for s in of_kind(recs, "step.end") if s["phase"] == "restore"] == ["ok", "ok"]
    assert recs[-1]["kind"] == "run.end" and recs[-1]["data"]["status"] == "failed"
    _assert_steady(lab_env)
