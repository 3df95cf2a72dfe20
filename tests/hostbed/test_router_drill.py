"""`drill run single-line` end to end with the line routers on a network platform: the
engine's line.yml steps reach the simulated VRP / Comware / IOS routers through the bastion,
the shutdown fails the gateway host's route over for real, the gateway logs in at the other
centre, the restore brings the running configuration back to what it was, nothing is saved,
and no router credential reaches the run folder.

One drill per platform, in the slow group of test_e2e.py's real-host drills: the default
run samples one drill of that group (CI budget), `-m slow` runs them all."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from hostbed import routersim
from hostbed.inventory import gateway_entries
from hostbed.test_e2e import _free_port

from orchestrator.adapters.ansible import PlaybookRun, run_playbook
from orchestrator.adapters.hosts import known_hosts_path
from orchestrator.cli import main

pytestmark = pytest.mark.netns

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow(group="hostbed-e2e")  # with test_e2e.py: one real-host drill per default run
@pytest.mark.parametrize("platform", ["huawei_vrp", "h3c_comware", "cisco_ios"])
def test_single_line_shutdown_on_a_network_router(bed, tmp_path, monkeypatch, capsys, platform):
    monkeypatch.setenv("DRILL_HOME", str(tmp_path / "home"))
    sims = {name: routersim.start(bed, name, platform) for name in ("ct", "cu")}
    forward = None
    try:
        ports = {"W000000T": _free_port(), "W000001T": _free_port()}
        inv = routersim.router_inventory(bed, tmp_path / "inv", sims, gateways=gateway_entries(bed, ports))
        bed.start_centres(inv / "hosts.yml")
        forward = subprocess.Popen([str(Path(sys.executable).with_name("drill")), "hosts", "forward", "-i",
                                    str(inv)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                   start_new_session=True)
        assert all(forward.stdout.readline().startswith("forwarding 127.0.0.1:") for _ in ports)
        deploy = run_playbook(PlaybookRun(
            playbook=ROOT / "playbooks" / "repoint.yml", inventory=inv, extravars={"to": "home"},
            private_data_dir=tmp_path / "pdd-deploy", timeout_s=180, known_hosts=known_hosts_path(inv)))
        assert deploy.ok, [(t.task, t.msg) for t in deploy.failed_tasks]
        saved = sims["ct"].startup
        code = main(["run", "single-line", "-i", str(inv), "--project", str(ROOT), "--reports",
                     str(tmp_path / "reports"), "--confirm-environment", f"hostbed-{bed.prefix}",
                     "--set", "line=ct-ft", "--set", "mode=shutdown", "--set", "hold=2s", "--json"])
        out = capsys.readouterr().out
        outcome = json.loads(out[out.index("{"):])
        states = {o["name"]: o["state"] for o in outcome["objectives"]}
        # Real hosts show no exchange session table: no_double_login is not tested (exit 5).
        assert code == 5, (outcome["status"], outcome["summary"], outcome["abort_reason"])
        assert states.pop("no_double_login") == "not_tested", states
        assert set(states.values()) <= {"passed", "not_applicable"} and "passed" in states.values(), states
        lost = {m["gateway"]: m for m in outcome["measurements"]
                if m.get("phase", "failover") == "failover"}["W000000T"]
        assert lost["affected"] is True and lost["restored"] is not None
        ct = sims["ct"]
        assert routersim.CUT_FIRST[platform] in ct.commands()
        assert ct.saves == 0 and ct.startup == saved
        run_dir = Path(outcome["run_dir"])
        ev = run_dir / "evidence" / "files" / "configs" / "routers" / "ct"
        assert (ev / "running.diff").read_text() == "(identical)\n"
        text = "".join(p.read_text(errors="replace") for p in run_dir.rglob("*") if p.is_file())
        for secret in (ct.password, ct.secret):
            assert secret not in text
        assert "dev ct0" in bed.exec("gw", "ip", "route", "get", "198.18.101.30").stdout
    finally:
        if forward is not None:
            forward.send_signal(signal.SIGTERM)
            forward.wait(timeout=20)
        for name in sims:
            routersim.stop(bed, name)
