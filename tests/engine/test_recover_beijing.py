"""`drill recover` after a Beijing cutover died: gateways go back to Shenzhen only when
Shenzhen is healthy; otherwise it says so and leaves them on BJ (issue 6)."""

from __future__ import annotations

import signal
import threading

from engine_fixtures import lab_env_fixture  # noqa: F401 - the lab_env fixture
from engine_helpers import newest_run, of_kind, poll, records, start_process, stop

from orchestrator.cli import main
from orchestrator.probes.monitor import fetch_status_sync

RUN_DEADLINE_S = 300


def test_recover_leaves_gateways_on_bj_while_shenzhen_is_down(lab_env, tmp_path, capsys,
                                                               monkeypatch):
    pause = tmp_path / "pause"
    proc = start_process(lab_env, "bj-quick", pause_at="hold:0:start", pause_file=pause)
    try:
        poll(lambda: pause.exists() or proc.poll() is not None, RUN_DEADLINE_S, "the pause")
        assert proc.poll() is None, proc.stdout.read()
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        stop(proc)
    pause.unlink()
    inv = lab_env.lab.inventory()
    # The lab's status names a gateway's first session: the one at FT lingers until the FT
    # exchange expires it, after the drill (which watches the monitors) saw BJ.
    wanted = {g.id for g in inv.gateways if not g.satellite_only}
    on_bj = poll(lambda: (bj := {g["id"] for g in lab_env.lab.status()["gateways"]
                                 if g["centre"] == "BJ"}) == wanted and bj,
                 30, "the lab's sessions to show every gateway on BJ")

    # Shenzhen fails for real while recover restores: right after its "centres up" step.
    monkeypatch.setenv("DRILL_DEBUG_PAUSE_AT", "restore:0:end")
    monkeypatch.setenv("DRILL_DEBUG_PAUSE_FILE", str(pause))

    def shenzhen_fails():
        poll(pause.exists, RUN_DEADLINE_S, "recover to reach restore:0:end")
        for centre in ("FT", "NF"):
            lab_env.lab.client.centre_down(centre)
        pause.unlink()

    helper = threading.Thread(target=shenzhen_fails)
    helper.start()
    try:
        code = main(["recover", "--project", str(lab_env.project), "--inventory",
                     str(lab_env.inventory)])
        helper.join(RUN_DEADLINE_S)
        captured = capsys.readouterr()
        assert "Shenzhen (FT/NF) is not healthy" in captured.out + captured.err
        assert code == 1  # not back in steady state, and recover says so
        recs = records(newest_run(lab_env.reports, "bj-quick"))
        assert recs[-1]["kind"] == "run.end" and recs[-1]["data"]["status"] == "aborted"
        started = [s for s in of_kind(recs, "step.start") if s["phase"] == "restore"]
        assert [s["detail"].get("vars", {}).get("to") for s in started
                if s["detail"].get("playbook") == "repoint.yml"] == []
        for gid in on_bj:
            gw = inv.gateway(gid)
            status = fetch_status_sync(gw.monitor.address, gw.monitor.port)
            assert status["centre"] == "BJ" and status["state"] == "logged_in", status
    finally:
        helper.join(RUN_DEADLINE_S)
        for centre in ("FT", "NF"):
            lab_env.lab.client.centre_up(centre)
