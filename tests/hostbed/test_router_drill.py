"""Drills end to end with the line routers on a network platform: the engine's line.yml /
centre.yml steps reach the simulated VRP / Comware / IOS routers through the bastion, the
cut fails the gateway host's route over for real (the simulators apply each change to the
router namespace's kernel), the gateway logs in at the other centre, the restore brings
every touched router's running configuration back to what it was, nothing is saved, and no
router credential reaches the run folder.

`carrier-outage` (both modes), `single-line` (both modes) and `centre-outage` (the centre's
service addresses black-holed on every line router) on each platform. The default run (CI)
runs one drill per platform; the rest are by hand (`-m slow`)."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from hostbed import routersim
from hostbed.inventory import gateway_entries, trust_all, write_inventory
from hostbed.test_e2e import _free_port

from orchestrator.adapters.ansible import PlaybookRun, run_playbook
from orchestrator.adapters.hosts import known_hosts_path
from orchestrator.cli import main

pytestmark = pytest.mark.netns

ROOT = Path(__file__).resolve().parents[2]
FT = "198.18.101.30"  # FT's trading address: the route the gateway host takes to it
BY_HAND = pytest.mark.slow(sample=False)
# (drill, its --set arguments, the routers it changes)
DRILLS = {"carrier-outage": (["carrier=CT"], ("ct",)),
          "single-line": (["line=ct-ft"], ("ct",)),
          "centre-outage": (["centre=FT"], ("ct", "cu"))}
# One drill per platform in the default run; every other case by hand.
IN_CI = {("huawei_vrp", "carrier-outage", "shutdown"), ("h3c_comware", "single-line", "blackhole"),
         ("cisco_ios", "centre-outage", None)}
CASES = [pytest.param(p, d, m, id=f"{p}-{d}" + (f"-{m}" if m else ""),
                      marks=() if (p, d, m) in IN_CI else BY_HAND)
         for p in ("huawei_vrp", "h3c_comware", "cisco_ios")
         for d in DRILLS for m in ((None,) if d == "centre-outage" else ("shutdown", "blackhole"))]
# What a cut types first on each router, per mode (the vendors' documented forms).
BLACKHOLE = {"huawei_vrp": "ip route-static {a} 255.255.255.255 NULL0",
             "h3c_comware": "ip route-static {a} 255.255.255.255 NULL0",
             "cisco_ios": "ip route {a} 255.255.255.255 Null0"}


def _run_drill(bed, tmp_path, capsys, drill: str, args: list[str]) -> tuple[int, dict]:
    code = main(["run", drill, "-i", str(tmp_path / "inv"), "--project", str(ROOT), "--reports",
                 str(tmp_path / "reports"), "--confirm-environment", f"hostbed-{bed.prefix}",
                 *[a for kv in args for a in ("--set", kv)], "--set", "hold=2s", "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out[out.index("{"):])


@pytest.fixture(scope="module")
def deployed(bed, tmp_path_factory):
    """The bed's gateways deployed once for the module (FT home and NF home, logged in),
    their monitors forwarded; each test puts its own simulated routers in front."""
    folder = tmp_path_factory.mktemp("deployed")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DRILL_HOME", str(folder / "home"))
        gateways = gateway_entries(bed, {"W000000T": _free_port(), "W000001T": _free_port()})
        inv = write_inventory(bed, folder / "inv", gateways=gateways)
        trust_all(bed, inv)
        bed.start_centres(inv / "hosts.yml")
        forward = subprocess.Popen([str(Path(sys.executable).with_name("drill")), "hosts", "forward", "-i",
                                    str(inv)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                   start_new_session=True)
        try:
            assert all(forward.stdout.readline().startswith("forwarding 127.0.0.1:") for _ in gateways)
            deploy = run_playbook(PlaybookRun(
                playbook=ROOT / "playbooks" / "repoint.yml", inventory=inv, extravars={"to": "home"},
                private_data_dir=folder / "pdd-deploy", timeout_s=180, known_hosts=known_hosts_path(inv)))
            assert deploy.ok, [(t.task, t.msg) for t in deploy.failed_tasks]
            yield gateways
        finally:
            forward.send_signal(signal.SIGTERM)
            forward.wait(timeout=20)


@pytest.mark.parametrize(("platform", "drill", "mode"), CASES)
def test_drill_with_network_line_routers(bed, deployed, tmp_path, monkeypatch, capsys, platform, drill, mode):
    monkeypatch.setenv("DRILL_HOME", str(tmp_path / "home"))
    sims = {name: routersim.start(bed, name, platform) for name in ("ct", "cu")}
    try:
        routersim.router_inventory(bed, tmp_path / "inv", sims, gateways=deployed)
        saved = {name: sim.startup for name, sim in sims.items()}
        gw_log = bed.host("gw").dir / "svc" / "logs" / "W000000T.log"
        logins_before = len(re.findall(r'W000000T login .*"centre":"NF"', gw_log.read_text()))
        args, touched = DRILLS[drill]
        code, outcome = _run_drill(bed, tmp_path, capsys, drill, args + ([f"mode={mode}"] if mode else []))
        states = {o["name"]: o["state"] for o in outcome["objectives"]}
        # Real hosts show no exchange session table: no_double_login is not tested (exit 5).
        assert code == 5, (outcome["status"], outcome["summary"], outcome["abort_reason"])
        assert states.pop("no_double_login") == "not_tested", states
        assert set(states.values()) <= {"passed", "not_applicable"} and "passed" in states.values(), states
        by_gw = {m["gateway"]: m for m in outcome["measurements"] if m.get("phase", "failover") == "failover"}
        lost = by_gw["W000000T"]  # FT home, over CT's line
        assert lost["affected"] is True and lost["restored"] is not None, lost
        assert by_gw["W000001T"]["affected"] is False  # NF home over CU: untouched
        # The gateway really failed over: its own log has a new login at NF.
        assert len(re.findall(r'W000000T login .*"centre":"NF"', gw_log.read_text())) > logins_before
        blackholed = mode == "blackhole" or drill == "centre-outage"
        run_dir = Path(outcome["run_dir"])
        # the routers' clocks are not measured with the Linux hosts' shell loop (no error row)
        clocks = {c["host"]: c for c in json.loads(
            (run_dir / "evidence" / "clock-offsets.json").read_text())["clock_offsets"]}
        assert all(clocks[n]["method"] == "not measured" and "error" not in clocks[n] for n in sims), clocks
        for name in touched:
            sim = sims[name]
            typed = sim.commands()
            assert routersim.CUT_FIRST[platform] in typed
            if blackholed:
                assert BLACKHOLE[platform].format(a=FT) in typed, typed
            ev = run_dir / "evidence" / "files" / "configs" / "routers" / name
            assert (ev / "running.diff").read_text() == "(identical)\n"
            assert sim.saves == 0 and sim.startup == saved[name]
        for name in set(sims) - set(touched):
            assert routersim.CUT_FIRST[platform] not in sims[name].commands()
        # Restored: no black-hole left, the gateway host's route to FT back over CT.
        for name in sims:
            assert routersim.blackholes(bed, name).strip() == ""
        assert "dev ct0" in bed.exec("gw", "ip", "route", "get", FT).stdout
        text = "".join(p.read_text(errors="replace") for p in run_dir.rglob("*") if p.is_file())
        for sim in sims.values():
            for secret in (sim.password, sim.secret):
                assert secret not in text
    finally:
        for name in sims:
            routersim.stop(bed, name)
