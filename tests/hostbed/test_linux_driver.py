"""The linux driver through real Ansible over OpenSSH (ProxyJump via the bastion, strict host keys)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hostbed import bed as bedlib
from hostbed.inventory import gateway_entries, trust_all, write_inventory

from orchestrator.adapters.ansible import PlaybookRun, run_playbook
from orchestrator.adapters.hosts import known_hosts_path
from orchestrator.config.inventory import load_inventory
from orchestrator.targets.hosts import HostsTarget

pytestmark = pytest.mark.netns

PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"


def _play(inventory: Path, tmp_path: Path, name: str, playbook: str = "line.yml", **extravars):
    return run_playbook(PlaybookRun(
        playbook=PLAYBOOKS / playbook, inventory=inventory, extravars=extravars,
        private_data_dir=tmp_path / f"pdd-{name}", timeout_s=120,
        known_hosts=known_hosts_path(inventory)))


def _with_a_gateway(bed, tmp_path: Path):
    """The bed's inventory with one gateway on the gw host (the bare one has none)."""
    folder = write_inventory(bed, tmp_path / "inv-gw", gateways=gateway_entries(bed, {"W000000T": 7100}))
    trust_all(bed, folder)
    return load_inventory(folder)


def _route_to_ft(bed) -> str:
    return bed.exec("gw", "ip", "route", "get", "198.18.101.30").stdout


def test_line_down_shutdown_fails_the_kernel_route_over_and_up_restores(bed, inventory, tmp_path):
    assert "dev ct0" in _route_to_ft(bed)
    before = time.time_ns()
    down = _play(inventory, tmp_path, "down", lines=["ct-ft"], state="down", mode="shutdown")
    after = time.time_ns()
    try:
        assert down.ok, [t.msg for t in down.failed_tasks]
        assert down.effective_ns is not None and before <= down.effective_ns <= after
        change = [t for t in down.tasks if t.effective_ns is not None]
        assert [t.host for t in change] == ["localhost"] and change[0].status == "changed"
        assert "state DOWN" in bed.exec("ct", "ip", "link", "show", "line0").stdout
        bedlib.wait_for(lambda: "dev cu0" in _route_to_ft(bed), 10, "gw's route to FT to fail over to CU")
        # The management network is untouched: the router is still reachable over SSH.
    finally:
        up = _play(inventory, tmp_path, "up", lines=["ct-ft"], state="up")
    assert up.ok, [t.msg for t in up.failed_tasks]
    bedlib.wait_for(lambda: "dev ct0" in _route_to_ft(bed), 10, "gw's route to FT to come back to CT")


def _connects(bed, address: str, port: int) -> bool:
    """A TCP connect from the gateway host, over the data network."""
    code = f"import socket; socket.create_connection(({address!r}, {port}), timeout=1.5).close()"
    return bed.exec("gw", "/usr/bin/python3", "-c", code, check=False).returncode == 0


def test_line_down_blackhole_routes_ft_to_nowhere_on_the_router(bed, inventory, tmp_path):
    bed.start_exchanges(ports=(7043,))
    assert _connects(bed, "198.18.101.30", 7043)
    down = _play(inventory, tmp_path, "down", lines=["ct-ft"], state="down", mode="blackhole")
    try:
        assert down.ok, [t.msg for t in down.failed_tasks]
        routes = bed.exec("ct", "ip", "route", "show", "type", "blackhole").stdout
        assert {"198.18.101.30", "198.18.101.60", "198.18.101.70"} <= set(routes.split())
        assert not _connects(bed, "198.18.101.30", 7043)
        assert _connects(bed, "198.18.102.30", 7043)  # NF goes over CU, untouched
    finally:
        up = _play(inventory, tmp_path, "up", lines=["ct-ft"], state="up")
    assert up.ok, [t.msg for t in up.failed_tasks]
    assert bed.exec("ct", "ip", "route", "show", "type", "blackhole").stdout.strip() == ""
    assert _connects(bed, "198.18.101.30", 7043)


def test_ansible_refuses_a_host_whose_key_is_not_trusted(bed, inventory, tmp_path):
    kh = known_hosts_path(inventory)
    cu_addr = bed.host("cu").mgmt_address + " "
    kh.write_text("".join(ln + "\n" for ln in kh.read_text().splitlines() if not ln.startswith(cu_addr)))
    # No retry: the reason is the one attempt's (a retry's transient failure through the
    # bastion would replace it in the message, and the retries' back-off is 11 s).
    res = run_playbook(PlaybookRun(
        playbook=PLAYBOOKS / "line.yml", inventory=inventory, private_data_dir=tmp_path / "pdd-refused",
        extravars={"lines": ["cu-nf"], "state": "down", "mode": "shutdown"}, timeout_s=120,
        known_hosts=known_hosts_path(inventory), envvars={"ANSIBLE_SSH_RETRIES": "0"}))
    assert not res.ok
    assert [t.status for t in res.failed_tasks] == ["unreachable"]
    output = "".join(p.read_text(errors="replace") for p in res.private_data_dir.rglob("*") if p.is_file())
    assert "Host key verification failed" in output
    assert "state UP" in bed.exec("cu", "ip", "link", "show", "line0").stdout


def _blackholes(bed, router: str) -> str:
    return bed.exec(router, "ip", "route", "show", "type", "blackhole").stdout


def test_centre_down_blackholes_its_service_addresses_on_every_line_router(bed, inventory, tmp_path):
    """A centre fails from the firm's side (issue 15): FT's service addresses go nowhere on
    every line router, so FT is unreachable over any line while NF is not; up removes them."""
    bed.start_exchanges(ports=(7043,))
    assert _connects(bed, "198.18.101.30", 7043)
    inv = _with_a_gateway(bed, tmp_path)
    down = _play(inventory, tmp_path, "c-down", playbook="centre.yml", centres=["FT"], state="down")
    try:
        assert down.ok, [t.msg for t in down.failed_tasks]
        assert down.effective_ns is not None
        for router in ("ct", "cu"):
            routes = _blackholes(bed, router)
            assert {"198.18.101.30", "198.18.101.60", "198.18.101.70"} <= set(routes.split()), routes
            assert "198.18.102." not in routes
        assert not _connects(bed, "198.18.101.30", 7043)
        assert _connects(bed, "198.18.102.30", 7043)
        # `drill recover`'s guard before a failback asks from the gateway hosts, which
        # reach SSCC's addresses; drill's own host does not (it is outside the bed).
        assert not HostsTarget().centres_healthy(inv, ("FT", "NF"))
        assert HostsTarget().centres_healthy(inv, ("NF",))
    finally:
        up = _play(inventory, tmp_path, "c-up", playbook="centre.yml", centres=["FT"], state="up")
    assert up.ok, [t.msg for t in up.failed_tasks]
    assert _blackholes(bed, "ct").strip() == "" and _blackholes(bed, "cu").strip() == ""
    assert _connects(bed, "198.18.101.30", 7043)
    assert HostsTarget().centres_healthy(inv, ("FT", "NF"))


@pytest.mark.slow(group="linux-blackholes")  # four playbook runs; CI samples one of the group
def test_a_centre_restore_leaves_a_lines_own_blackhole_and_the_other_way_round(bed, inventory, tmp_path):
    bed.start_exchanges(ports=(7043,))
    down = _play(inventory, tmp_path, "c-down", playbook="centre.yml", centres=["FT"], state="down")
    try:
        assert down.ok, [t.msg for t in down.failed_tasks]
        line = _play(inventory, tmp_path, "l-down", lines=["ct-ft"], state="down", mode="blackhole")
        assert line.ok, [t.msg for t in line.failed_tasks]
    finally:
        up = _play(inventory, tmp_path, "c-up", playbook="centre.yml", centres=["FT"], state="up")
    assert up.ok, [t.msg for t in up.failed_tasks]
    assert "proto 252" not in _blackholes(bed, "ct") and _blackholes(bed, "cu").strip() == ""
    assert "198.18.101.30" in _blackholes(bed, "ct")  # the line's own blackhole is still there
    assert not _connects(bed, "198.18.101.30", 7043)  # FT goes over CT, still cut
    up = _play(inventory, tmp_path, "l-up", lines=["ct-ft"], state="up")
    assert up.ok, [t.msg for t in up.failed_tasks]
    assert _blackholes(bed, "ct").strip() == ""
    assert _connects(bed, "198.18.101.30", 7043)


@pytest.mark.slow(group="linux-blackholes")  # two playbook runs; the lab md test runs by default
def test_service_down_blackholes_only_market_data_at_both_shenzhen_centres(bed, inventory, tmp_path):
    """md-multicast-fallback from the firm's side (issue 15): the market-data addresses of
    FT and NF go nowhere on every line router; trading and settlement stay reachable."""
    bed.start_exchanges(ports=(7043,))  # every service address answers on 7043
    for centre in ("101", "102"):
        assert _connects(bed, f"198.18.{centre}.60", 7043)
    down = _play(inventory, tmp_path, "s-down", playbook="service.yml", services=["market_data"],
                 centres=["FT", "NF"], state="down")
    try:
        assert down.ok, [t.msg for t in down.failed_tasks]
        for router in ("ct", "cu"):
            assert set(_blackholes(bed, router).split()) & {
                "198.18.101.30", "198.18.101.70", "198.18.102.30", "198.18.102.70"} == set()
            assert {"198.18.101.60", "198.18.102.60"} <= set(_blackholes(bed, router).split())
        for centre in ("101", "102"):
            assert not _connects(bed, f"198.18.{centre}.60", 7043)
            assert _connects(bed, f"198.18.{centre}.30", 7043)
            assert _connects(bed, f"198.18.{centre}.70", 7043)
    finally:
        up = _play(inventory, tmp_path, "s-up", playbook="service.yml", services=["market_data"],
                   centres=["FT", "NF"], state="up")
    assert up.ok, [t.msg for t in up.failed_tasks]
    for router in ("ct", "cu"):
        assert _blackholes(bed, router).strip() == ""
    assert _connects(bed, "198.18.101.60", 7043) and _connects(bed, "198.18.102.60", 7043)


def _logins(bed, host: str) -> int:
    """SSH logins the host's sshd accepted so far (its log, LogLevel VERBOSE)."""
    return (bed.host(host).dir / "sshd.log").read_text(errors="replace").count("Accepted publickey")


def test_a_run_wide_control_folder_keeps_one_ssh_connection_per_host_until_the_run_ends(
        bed, inventory, tmp_path):
    """Issue 19 P11: playbooks of one run share its ssh masters (one login on the router for
    a cut and its restore); the masters outlive each playbook, and ending the run's
    connections (or `drill recover` after a SIGKILL, from the journaled folder) ends them."""
    from orchestrator.adapters import procgroup
    from orchestrator.adapters.run_ssh import RunConnections
    from orchestrator.engine.recover import _end_ssh_masters

    journaled: list[Path] = []
    conn = RunConnections(inventory, on_control_dir=journaled.append)
    folder = conn.control_dir()
    assert journaled == [folder] and folder is not None and folder.is_dir()
    before = _logins(bed, "ct")
    try:
        for state in ("down", "up"):
            res = run_playbook(PlaybookRun(
                playbook=PLAYBOOKS / "line.yml", inventory=inventory, private_data_dir=tmp_path / f"pdd-{state}",
                extravars={"lines": ["ct-ft"], "state": state, "mode": "blackhole"}, timeout_s=120,
                known_hosts=known_hosts_path(inventory), control_dir=folder, forks=conn.forks()))
            assert res.ok, [t.msg for t in res.failed_tasks]
            # the master outlives the playbook that started it
            assert procgroup.with_cmdline(str(folder)), f"no ssh master left in {folder} after {state}"
        assert _logins(bed, "ct") - before == 1
    finally:
        conn.close()
    assert not procgroup.with_cmdline(str(folder)) and not folder.exists()
    # After a SIGKILL the run never closes them: `drill recover` does, from the journal.
    again = RunConnections(inventory)
    kept = again.control_dir()
    res = run_playbook(PlaybookRun(
        playbook=PLAYBOOKS / "line.yml", inventory=inventory, private_data_dir=tmp_path / "pdd-killed",
        extravars={"lines": ["ct-ft"], "state": "up"}, timeout_s=120,
        known_hosts=known_hosts_path(inventory), control_dir=kept))
    assert res.ok and procgroup.with_cmdline(str(kept))
    actions = _end_ssh_masters(str(kept))
    assert len(actions) == 1 and actions[0].startswith("ended ")
    assert not procgroup.with_cmdline(str(kept)) and not kept.exists()
    assert _end_ssh_masters("/etc") == ["ssh control folder '/etc' not touched: not one drill makes"]
    again.close()
