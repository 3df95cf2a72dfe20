"""Signals, the environment lock, unfinished runs and `drill recover` (issues 3 and 6)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

from engine_fixtures import lab_env_fixture  # noqa: F401 - the lab_env fixture
from engine_helpers import (
    group_alive,
    newest_run,
    of_kind,
    poll,
    records,
    run_inprocess,
    start_process,
    stop,
)
from support import TOLERANCE_S

from orchestrator.cli import main
from orchestrator.engine.lock import EnvironmentLock, lock_path
from orchestrator.engine.steady import wait_steady
from orchestrator.journal.chain import first_bad_record
from orchestrator.targets.lab import LabTarget

RUN_DEADLINE_S = 300


def _assert_steady(env) -> None:
    inv = env.lab.inventory()
    res = wait_steady(inv, observe=LabTarget(env.lab.state_dir).environment_view,
                      timeout_s=inv.timing.heartbeat_timeout + 4 * TOLERANCE_S)
    assert res.ok, res.describe_failures()


def _env_name(env) -> str:
    return env.lab.inventory().environment.name


def _assert_no_ansible_left(run_dir) -> None:
    groups = [p["pgid"] for p in of_kind(records(run_dir), "ansible.process")]
    assert groups
    poll(lambda: not any(group_alive(g) for g in groups), TOLERANCE_S,
         f"ansible process groups {groups} to be gone")


def _interrupt_at(env, tmp_path, boundary: str, sig: signal.Signals) -> tuple[int, str]:
    pause = tmp_path / f"pause-{boundary.replace(':', '-')}"
    proc = start_process(env, "quick", pause_at=boundary, pause_file=pause)
    try:
        poll(lambda: pause.exists() or proc.poll() is not None, RUN_DEADLINE_S,
             f"the engine to pause at {boundary}")
        assert proc.poll() is None, proc.stdout.read()
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=RUN_DEADLINE_S)
        return proc.returncode, out
    finally:
        stop(proc)


def test_sigint_in_the_fault_phase_aborts_restores_and_exits_3(lab_env, tmp_path):
    code, out = _interrupt_at(lab_env, tmp_path, "fault:0:end", signal.SIGINT)
    assert code == 3, out
    run = newest_run(lab_env.reports, "quick")
    recs = records(run)
    assert of_kind(recs, "signal")[0]["signal"] == "SIGINT"
    assert of_kind(recs, "signal")[0]["phase"] == "fault"
    restore = [s for s in of_kind(recs, "step.end") if s["phase"] == "restore"]
    assert [s["status"] for s in restore] == ["ok", "ok"]
    assert recs[-1]["kind"] == "run.end" and recs[-1]["data"]["status"] == "aborted"
    assert recs[-1]["data"]["exit_code"] == 3
    _assert_no_ansible_left(run)
    _assert_steady(lab_env)


def test_sigterm_while_the_fault_playbook_runs_kills_its_process_group(lab_env, tmp_path):
    pause = tmp_path / "pause"
    proc = start_process(lab_env, "quick", pause_at="fault:0:start", pause_file=pause)
    try:
        poll(lambda: pause.exists() or proc.poll() is not None, RUN_DEADLINE_S, "the pause")
        run = newest_run(lab_env.reports, "quick")
        pause.unlink()

        def fault_playbook_started():
            return [p for p in of_kind(records(run), "ansible.process") if p["step"] == "fault[0]"]

        started = poll(fault_playbook_started, RUN_DEADLINE_S, "the fault playbook to start")
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=RUN_DEADLINE_S)
    finally:
        stop(proc)
    assert proc.returncode == 3, out
    recs = records(run)
    assert of_kind(recs, "signal")[0]["signal"] == "SIGTERM"
    fault = [s for s in of_kind(recs, "step.end") if s["phase"] == "fault"]
    assert fault and fault[0]["status"] == "aborted"
    assert not group_alive(started[0]["pgid"])
    _assert_no_ansible_left(run)
    assert recs[-1]["data"]["status"] == "aborted"
    _assert_steady(lab_env)


def test_a_second_interrupt_during_restore_does_not_skip_it(lab_env, tmp_path):
    code, out = _interrupt_at(lab_env, tmp_path, "restore:0:start", signal.SIGINT)
    assert code == 3, out
    assert "drill recover" in out
    run = newest_run(lab_env.reports, "quick")
    recs = records(run)
    assert [s["phase"] for s in of_kind(recs, "signal")] == ["restore"]
    restore = [s for s in of_kind(recs, "step.end") if s["phase"] == "restore"]
    assert [s["status"] for s in restore] == ["ok", "ok"]
    _assert_steady(lab_env)


def test_a_second_run_is_refused_naming_the_lock_holder(lab_env, capsys):
    lock = EnvironmentLock(lab_env.home, _env_name(lab_env))
    lock.acquire("20261125T000000Z-someone-abcdef")
    try:
        code = run_inprocess(lab_env, "quick")
    finally:
        lock.release()
    err = capsys.readouterr().err
    assert code == 4
    assert "20261125T000000Z-someone-abcdef" in err and "locked by" in err


def test_a_stale_lock_is_reported_not_broken_and_recover_releases_it(lab_env, capsys):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    path = lock_path(lab_env.home, _env_name(lab_env))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"run_id": "20261125T000000Z-dead-123456", "user": "x",
                                "host": "h", "pid": dead.pid, "since": "2026-11-25T00:00:00Z"}))
    code = run_inprocess(lab_env, "quick")
    err = capsys.readouterr().err
    assert code == 4
    assert "stale" in err and "drill recover" in err
    assert path.exists()
    assert main(["recover", "--project", str(lab_env.project), "--inventory",
                 str(lab_env.inventory)]) == 0
    assert not path.exists()


def test_after_sigkill_run_is_refused_until_recover_restores(lab_env, tmp_path, capsys):
    pause = tmp_path / "pause"
    proc = start_process(lab_env, "quick", pause_at="hold:0:start", pause_file=pause)
    try:
        poll(lambda: pause.exists() or proc.poll() is not None, RUN_DEADLINE_S, "the pause")
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        stop(proc)
    run = newest_run(lab_env.reports, "quick")
    assert records(run)[-1]["kind"] != "run.end"
    # The dead run's lock is stale; with it gone, the unfinished journal still refuses.
    lock_path(lab_env.home, _env_name(lab_env)).unlink()
    assert run_inprocess(lab_env, "quick") == 4
    err = capsys.readouterr().err
    assert "unfinished run" in err and "drill recover" in err and run.name in err
    assert main(["recover", "--project", str(lab_env.project), "--inventory",
                 str(lab_env.inventory)]) == 0
    recs = records(run)
    kinds = [r["kind"] for r in recs]
    assert kinds[-1] == "run.end" and "recover" in kinds
    assert recs[-1]["data"]["status"] == "aborted"
    assert {"report.html", "report.json", "evidence/probes.jsonl.gz"} <= set(recs[-1]["data"]["artifacts"])
    assert first_bad_record(run / "journal.jsonl") is None
    assert [s["status"] for s in of_kind(recs, "step.end") if s["phase"] == "restore"] == ["ok", "ok"]
    lines = {ln["id"]: ln["state"] for ln in lab_env.lab.status()["lines"]}
    assert set(lines.values()) == {"up"}
    _assert_steady(lab_env)


def test_a_failed_gate_refuses_naming_the_gateway_and_check(lab_env, capsys):
    gateway = lab_env.lab.inventory().gateways[0].id
    lab_env.lab.client.gateway_stop(gateway)
    try:
        code = run_inprocess(lab_env, "quick")
    finally:
        lab_env.lab.client.gateway_start(gateway)
    err = capsys.readouterr().err
    assert code == 4
    assert "steady-state gate failed" in err and gateway in err
    run = newest_run(lab_env.reports, "quick")
    recs = records(run)
    assert not [s for s in of_kind(recs, "step.start") if s["phase"] == "fault"]
    assert recs[-1]["data"]["status"] == "refused" and recs[-1]["data"]["exit_code"] == 4
    poll(lambda: wait_steady(lab_env.lab.inventory(), observe=LabTarget(lab_env.lab.state_dir).environment_view,
                             timeout_s=0).ok, 30, "the restarted gateway to log in")


def test_a_failed_after_check_fails_the_run(lab_env, capsys):
    inv = lab_env.lab.inventory()
    line = next(g["line"] for g in lab_env.lab.status()["gateways"] if g["line"])
    carrier = inv.line(line).carrier
    try:
        code = run_inprocess(lab_env, "forgetful", "--set", f"carrier={carrier}")
        out = capsys.readouterr().out
        assert code == 1, out
        assert "after-check failed" in out and "line_up" in out
        recs = records(newest_run(lab_env.reports, "forgetful"))
        after = next(s for s in of_kind(recs, "steady_state") if s["when"] == "after")
        assert not after["ok"]
    finally:
        for lid in inv.lines_of_carrier(carrier):
            lab_env.lab.client.line_up(lid)
    _assert_steady(lab_env)
