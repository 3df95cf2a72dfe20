"""Line routers on Huawei VRP, H3C Comware and Cisco IOS: line.yml through drill_router_cli
(netmiko over SSH through the bastion, strict host key) against each platform's simulator
(tests/hostbed/routersim), which applies every change to the router namespace's kernel: a
shutdown really fails the gateway host's route over.

Default run: the shutdown cut and restore on every platform, and the backup-path pre-check;
the other cases are one slow group (one sampled per default run, all with `-m slow`)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hostbed import bed as bedlib
from hostbed import routersim

from orchestrator.adapters.ansible import PlaybookRun, run_playbook
from orchestrator.adapters.hosts import known_hosts_path

pytestmark = pytest.mark.netns

PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"
FT = ("198.18.101.30", "198.18.101.60", "198.18.101.70")
SLOW = pytest.mark.slow(group="router-cli")
# What each platform's CLI is expected to be typed and to answer (the vendors' documented
# forms, written here apart from orchestrator/adapters/routers.py).
CUT = {"huawei_vrp": ["system-view", "interface {port}", "shutdown", "quit", "return"],
       "h3c_comware": ["system-view", "interface {port}", "shutdown", "quit", "return"],
       "cisco_ios": ["configure terminal", "interface {port}", "shutdown", "exit", "end"]}
UNDO = {"huawei_vrp": "undo shutdown", "h3c_comware": "undo shutdown", "cisco_ios": "no shutdown"}
BLACKHOLE = {"huawei_vrp": "ip route-static {a} 255.255.255.255 NULL0",
             "h3c_comware": "ip route-static {a} 255.255.255.255 NULL0",
             "cisco_ios": "ip route {a} 255.255.255.255 Null0"}
REJECTED = {"huawei_vrp": "Error: Wrong parameter found at '^' position.",
            "h3c_comware": "% Wrong parameter found at '^' position.",
            "cisco_ios": "% Invalid input detected at '^' marker."}
HASHED = {"huawei_vrp": "irreversible-cipher ********", "h3c_comware": "irreversible-cipher ********",
          "cisco_ios": "secret 9 ********"}
MISSING_PORT = {"huawei_vrp": "GigabitEthernet0/0/9", "h3c_comware": "GigabitEthernet1/0/9",
                "cisco_ios": "GigabitEthernet0/9"}


@pytest.fixture(scope="module", params=["huawei_vrp", "h3c_comware", "cisco_ios"])
def sims(bed, request):
    started = {name: routersim.start(bed, name, request.param) for name in ("ct", "cu")}
    try:
        yield started
    finally:
        for name in started:
            routersim.stop(bed, name)


@pytest.fixture
def inv(bed, sims, tmp_path, monkeypatch):
    monkeypatch.setenv("DRILL_HOME", str(tmp_path / "home"))
    return routersim.router_inventory(bed, tmp_path / "inv", sims)


def play(inv: Path, tmp_path: Path, name: str, playbook: str = "line.yml", **extravars):
    extravars.setdefault("evidence_dir", str(tmp_path / "evidence"))
    return run_playbook(PlaybookRun(
        playbook=PLAYBOOKS / playbook, inventory=inv, extravars=extravars,
        private_data_dir=tmp_path / f"pdd-{name}", timeout_s=180, known_hosts=known_hosts_path(inv)))


def route_to_ft(bed) -> str:
    return bed.exec("gw", "ip", "route", "get", FT[0]).stdout


def everything_under(*folders: Path) -> str:
    return "".join(p.read_text(errors="replace") for f in folders for p in f.rglob("*") if p.is_file())


def test_shutdown_fails_over_for_real_and_restore_leaves_the_config_as_it_was(bed, sims, inv, tmp_path):
    ct = sims["ct"]
    saved = ct.startup
    assert "dev ct0" in route_to_ft(bed)
    seen = len(ct.commands())  # the module's routers serve every test here, in any order
    before = time.time_ns()
    down = play(inv, tmp_path, "down", lines=["ct-ft"], state="down", mode="shutdown")
    after = time.time_ns()
    try:
        assert down.ok, [t.msg for t in down.failed_tasks]
        assert down.effective_ns is not None and before <= down.effective_ns <= after
        assert "state DOWN" in bed.exec("ct", "ip", "link", "show", "line0").stdout
        bedlib.wait_for(lambda: "dev cu0" in route_to_ft(bed), 10, "gw's route to FT to fail over to CU")
        typed = [c for c in ct.commands()[seen:] if c]
        cut = [c.format(port=ct.line_port) for c in CUT[ct.platform]]
        at = typed.index(cut[0])
        assert typed[at:at + 5] == cut
        assert not {"save", "write", "write memory"} & set(typed)
    finally:
        up = play(inv, tmp_path, "up", lines=["ct-ft"], state="up")
    assert up.ok, [t.msg for t in up.failed_tasks]
    bedlib.wait_for(lambda: "dev ct0" in route_to_ft(bed), 10, "gw's route to FT to come back to CT")
    assert UNDO[ct.platform] in ct.commands()[seen:]
    ev = tmp_path / "evidence" / "configs" / "routers" / "ct"
    assert (ev / "running.diff").read_text() == "(identical)\n"
    assert "shutdown" not in (ev / "running-after.cfg").read_text()
    assert HASHED[ct.platform] in (ev / "running-before.cfg").read_text()
    assert "administratively down" in (ev / "log.txt").read_text()
    # Never saved: the device's startup configuration is the one it booted with.
    assert ct.saves == 0 and ct.startup == saved
    # Credentials and the super secret reach neither Ansible's artifacts nor the evidence.
    text = everything_under(tmp_path / "pdd-down", tmp_path / "pdd-up", tmp_path / "evidence")
    for secret in (ct.password, ct.secret):
        assert secret not in text


@SLOW
def test_blackhole_stalls_the_centre_and_restore_removes_the_routes(bed, sims, inv, tmp_path):
    seen = len(sims["ct"].commands())
    down = play(inv, tmp_path, "down", lines=["ct-ft"], state="down", mode="blackhole")
    try:
        assert down.ok, [t.msg for t in down.failed_tasks]
        assert set(FT) <= set(routersim.blackholes(bed, "ct").split())
        assert BLACKHOLE[sims["ct"].platform].format(a=FT[0]) in sims["ct"].commands()[seen:]
    finally:
        up = play(inv, tmp_path, "up", lines=["ct-ft"], state="up")
    assert up.ok, [t.msg for t in up.failed_tasks]
    assert routersim.blackholes(bed, "ct").strip() == ""
    ev = tmp_path / "evidence" / "configs" / "routers" / "ct"
    assert (ev / "running.diff").read_text() == "(identical)\n"


@SLOW
def test_a_rejected_command_fails_the_step_with_the_device_message_and_restore_still_runs(
        bed, sims, inv, tmp_path):
    import yaml

    hosts = inv / "hosts.yml"
    doc = yaml.safe_load(hosts.read_text())
    port = MISSING_PORT[sims["ct"].platform]
    doc["all"]["vars"]["drill"]["lines"][0]["interface"] = port  # not on the device
    hosts.write_text(yaml.safe_dump(doc, sort_keys=False))
    down = play(inv, tmp_path, "down", lines=["ct-ft"], state="down", mode="shutdown")
    up = play(inv, tmp_path, "up", lines=["ct-ft"], state="up")
    assert not down.ok
    msg = " ".join(t.msg for t in down.failed_tasks)
    assert REJECTED[sims["ct"].platform] in msg
    assert port in msg
    assert up.ok, [t.msg for t in up.failed_tasks]
    assert "state UP" in bed.exec("ct", "ip", "link", "show", "line0").stdout


# One platform here (the parsers of the others' BFD/track output: tests/adapters/test_routers.py).
@pytest.mark.parametrize("sims", ["huawei_vrp"], indirect=True)
def test_the_cut_is_refused_when_the_backup_path_is_not_ready(bed, sims, inv, tmp_path):
    ct = sims["ct"]
    ct.set_tracks_up(False)
    try:
        seen = len(ct.commands())
        down = play(inv, tmp_path, "down", lines=["ct-ft"], state="down", mode="shutdown")
        assert not down.ok
        msg = " ".join(t.msg for t in down.failed_tasks)
        assert "backup path not ready" in msg and "198.18.2.1 Down" in msg, msg
        assert CUT[ct.platform][0] not in ct.commands()[seen:]  # nothing was changed
        assert "state UP" in bed.exec("ct", "ip", "link", "show", "line0").stdout
    finally:
        ct.set_tracks_up(True)


# service.yml (md-multicast-fallback's fault) on one platform: the others send the same
# dialect lines (tests/adapters/test_routers.py checks them per platform in `drill plan`).
@pytest.mark.parametrize("sims", ["huawei_vrp"], indirect=True)
def test_service_blackhole_covers_market_data_only_on_every_router_and_restore_leaves_the_config(
        bed, sims, inv, tmp_path):
    md = [f"{net}.60" for net in ("198.18.101", "198.18.102")]  # FT's and NF's market data
    kept = [f"{net}.{h}" for net in ("198.18.101", "198.18.102") for h in (30, 70)]  # trading, settlement
    seen = {name: len(sim.commands()) for name, sim in sims.items()}
    down = play(inv, tmp_path, "svc-down", "service.yml", services=["market_data"], centres=["FT", "NF"],
                state="down")
    try:
        assert down.ok, [t.msg for t in down.failed_tasks]
        for name, sim in sims.items():
            holed = {w for w in routersim.blackholes(bed, name).split() if w.count(".") == 3}
            assert holed == set(md), name  # trading and settlement still routed
            typed = sim.commands()[seen[name]:]
            assert [BLACKHOLE[sim.platform].format(a=a) for a in md] == \
                [c for c in typed if "NULL0" in c or "Null0" in c]
            assert not any(a in c for a in kept for c in typed)
    finally:
        up = play(inv, tmp_path, "svc-up", "service.yml", services=["market_data"], centres=["FT", "NF"],
                  state="up")
    assert up.ok, [t.msg for t in up.failed_tasks]
    for name, sim in sims.items():
        assert routersim.blackholes(bed, name).strip() == ""
        ev = tmp_path / "evidence" / "configs" / "routers" / name
        assert (ev / "running.diff").read_text() == "(identical)\n"
        assert (ev / "running-after.cfg").read_text() == (ev / "running-before.cfg").read_text()
        assert sim.saves == 0
