"""paramiko probes against real sshd hosts, through the bastion."""

from __future__ import annotations

import subprocess

import pytest
from hostbed.inventory import fingerprint_of

from orchestrator.adapters.hosts import (
    HostKeyChanged,
    HostKeyUnknown,
    fingerprint,
    load_topology,
    measure_clock_offset,
    trust_hosts,
)
from orchestrator.adapters.ssh import SshPool
from orchestrator.journal.chain import parse_iso_ns
from orchestrator.probes.ssh import (
    SshCommandProbe,
    SshLogFollower,
    SshLogProbe,
    SshTcpProbe,
    register,
)

pytestmark = pytest.mark.netns


@pytest.fixture
def pool(inventory):
    with SshPool(load_topology(inventory)) as p:
        yield p


def test_ssh_command_runs_on_a_host_behind_the_bastion(pool):
    res = pool.run("gw", "ip -br addr show ct0")
    assert res.exit_status == 0
    assert "198.18.1.1/30" in res.stdout
    # One long-lived connection per host: the bastion's transport carries gw's.
    assert set(pool._transports) == {"bastion", "gw"}
    ok = SshCommandProbe(pool, "gw", "ip -br addr show cu0", expect=r"198\.18\.2\.1/30").sample_sync()
    bad = SshCommandProbe(pool, "gw", "ip -br addr show cu0", expect=r"198\.18\.9\.9").sample_sync()
    assert ok.ok and not bad.ok
    assert "does not match" in bad.error


def test_a_host_is_not_reachable_without_the_bastion(bed, inventory):
    # The operations host's only link into the bed is its point-to-point link to the
    # bastion, which does not forward: the management LAN is reached by jumping only.
    proc = subprocess.run(["ip", "route", "get", bed.host("gw").mgmt_address], capture_output=True, text=True)
    assert f"dev {bed.root_iface} " not in proc.stdout
    assert bed.exec("bastion", "sysctl", "-n", "net.ipv4.ip_forward").stdout.strip() == "0"


def test_tcp_probe_is_tunnelled_through_a_host(bed, pool):
    bed.start_exchanges(ports=(7043,))
    from_gw = SshTcpProbe(pool, "198.18.101.30", 7043, via="gw").sample_sync()
    closed_port = SshTcpProbe(pool, "198.18.101.30", 7999, via="gw").sample_sync()
    from_bastion = SshTcpProbe(pool, "198.18.101.30", 7043, via="bastion", timeout_s=3).sample_sync()
    assert from_gw.ok, from_gw.error
    assert not closed_port.ok and "connect failed" in closed_port.error
    assert not from_bastion.ok  # the bastion has no route into the trading network


def test_ssh_log_follows_a_file_and_reads_its_timestamps(pool):
    path = "/tmp/drill-hostbed-ssh-log-test.log"
    pool.run("gw", f": > {path}")
    follower = SshLogFollower(pool, "gw", path).start()
    probe = SshLogProbe(pool, "gw", path, pattern="login accepted")
    try:
        assert not probe.sample_sync().ok
        stamp = "2026-11-25T11:15:00.123456789Z"
        # Keep writing until the follower has attached (tail -F starts at the end).
        line = None
        for _ in range(50):
            pool.run("gw", f"echo '{stamp} W000000T login accepted session FT-000001' >> {path}")
            line = follower.wait_for("login accepted", 0.2)
            if line is not None:
                break
        assert line is not None
        assert line.ts_ns == parse_iso_ns(stamp)
        assert line.host == "gw" and "FT-000001" in line.text
        sample = None
        for _ in range(50):
            pool.run("gw", f"echo '{stamp} again login accepted' >> {path}")
            sample = probe.sample_sync()
            if sample.ok:
                break
        assert sample.ok and sample.value["ts_ns"] == parse_iso_ns(stamp)
    finally:
        follower.close()
        probe.close()
        pool.run("gw", f"rm -f {path}")


def test_clock_offset_is_measured_and_bounded(pool):
    offset = measure_clock_offset(pool, "ct")
    # The namespaces share this machine's clock, so the true offset is 0 and the
    # measurement must bracket it within its own stated uncertainty.
    assert abs(offset.offset_ns) <= offset.uncertainty_ns + 1_000
    rec = offset.to_record()
    assert rec["host"] == "ct" and rec["method"] == "session-min-delay" and rec["measured_at"].endswith("Z")


def test_unknown_host_key_is_rejected_naming_host_and_fingerprint(bed, inventory):
    kh = inventory / "known_hosts"
    nf = bed.host("nf").mgmt_address + " "
    kh.write_text("".join(ln + "\n" for ln in bed.known_hosts_lines() if not ln.startswith(nf)))
    with SshPool(load_topology(inventory)) as pool, pytest.raises(HostKeyUnknown) as err:
        pool.run("nf", "true")
    msg = str(err.value)
    assert "nf (" in msg and "via bastion" in msg
    assert fingerprint_of(bed.host("nf").host_key_pub) in msg
    assert "drill hosts trust nf" in msg


def test_changed_host_key_through_the_bastion_is_refused(bed, inventory):
    old_fp = fingerprint_of(bed.host("cu").host_key_pub)
    bed.regenerate_host_key("cu")
    new_fp = fingerprint_of(bed.host("cu").host_key_pub)
    with SshPool(load_topology(inventory)) as pool:
        with pytest.raises(HostKeyChanged) as err:
            pool.run("cu", "true")
        sample = SshCommandProbe(pool, "cu", "true").sample_sync()
        assert pool.run("bastion", "true").exit_status == 0  # only the changed host is refused
    msg = str(err.value)
    assert "HOST KEY CHANGED" in msg and "cu (" in msg
    assert new_fp in msg and old_fp in msg
    assert not sample.ok and "HOST KEY CHANGED" in sample.error


def test_trust_from_inventory_fingerprints_enrols_every_host(bed, inventory):
    kh = inventory / "known_hosts"
    kh.unlink()
    topo = load_topology(inventory)
    decisions = trust_hosts(topo, from_inventory=True)
    assert {d.host for d in decisions} == {"bastion", "gw", "ct", "cu", "ft", "nf"}
    assert {d.status for d in decisions} == {"added"}
    with SshPool(load_topology(inventory)) as pool:
        assert pool.run("nf", "echo ok").stdout.strip() == "ok"
    assert decisions[0].host == "bastion"  # the jump host is enrolled before the hosts behind it


def test_trust_refuses_a_key_the_inventory_does_not_list_and_writes_nothing(bed, inventory):
    kh = inventory / "known_hosts"
    kh.unlink()
    text = (inventory / "hosts.yml").read_text()
    gw_fp = fingerprint_of(bed.host("gw").host_key_pub)
    (inventory / "hosts.yml").write_text(text.replace(gw_fp, "SHA256:" + "A" * 43))
    with pytest.raises(HostKeyUnknown) as err:
        trust_hosts(load_topology(inventory), from_inventory=True)
    assert "gw" in str(err.value) and gw_fp in str(err.value) and "nothing written" in str(err.value)
    assert not kh.exists()


def test_trust_asks_per_host_and_keeps_only_confirmed_keys(bed, inventory):
    kh = inventory / "known_hosts"
    kh.unlink()
    asked = []

    def confirm(host, key_type, fp, previous):
        asked.append((host.name, fp, previous))
        return host.name != "ft"

    decisions = trust_hosts(load_topology(inventory), ["gw", "ft"], confirm=confirm)
    assert [a[0] for a in asked] == ["bastion", "gw", "ft"]
    assert asked[1][1] == fingerprint_of(bed.host("gw").host_key_pub)
    assert {d.host: d.status for d in decisions} == {"bastion": "added", "gw": "added", "ft": "rejected"}
    with SshPool(load_topology(inventory)) as pool:
        assert pool.run("gw", "true").exit_status == 0
        with pytest.raises(HostKeyUnknown):
            pool.run("ft", "true")


def test_ssh_kinds_register_with_the_probe_registry():
    from orchestrator.probes import ProbeRegistry

    reg = ProbeRegistry()
    register(reg)
    assert {"ssh-command", "ssh-log", "ssh-tcp"} <= set(reg.kinds)
    assert fingerprint  # the public helper used by `drill hosts trust`


def test_clock_offsets_of_every_host_are_written_as_evidence(bed, inventory, tmp_path):
    from orchestrator.adapters.hosts import record_clock_offsets

    dest = tmp_path / "evidence" / "clock-offsets.json"
    rows = record_clock_offsets(inventory, dest)
    import json

    written = json.loads(dest.read_text())["clock_offsets"]
    assert written == rows
    assert sorted(r["host"] for r in rows) == ["bastion", "ct", "cu", "ft", "gw", "nf"]
    assert all("error" not in r and abs(r["offset_ms"]) <= r["uncertainty_ms"] + 0.01 for r in rows)


def test_trust_replaces_a_changed_key_after_confirmation(bed, inventory):
    kh = inventory / "known_hosts"
    cu = bed.host("cu").mgmt_address
    wrong = bed.host("ct").host_key_pub.read_text().split()[:2]
    kh.write_text("".join(ln + "\n" for ln in kh.read_text().splitlines() if not ln.startswith(cu + " "))
                  + f"{cu} {wrong[0]} {wrong[1]}\n")
    seen = []
    decisions = trust_hosts(load_topology(inventory), ["cu"],
                            confirm=lambda h, t, fp, prev: seen.append((h.name, prev)) or True)
    assert seen == [("cu", fingerprint_of(bed.host("ct").host_key_pub))]  # asked, showing the old key
    assert {d.host: d.status for d in decisions} == {"bastion": "unchanged", "cu": "replaced"}
    cu_lines = [ln for ln in kh.read_text().splitlines() if ln.startswith(cu + " ")]
    assert len(cu_lines) == 1 and cu_lines[0].split()[2] == bed.host("cu").host_key_pub.read_text().split()[1]
    with SshPool(load_topology(inventory)) as pool:
        assert pool.run("cu", "true").exit_status == 0


def test_hosts_behind_a_rejected_bastion_are_skipped_and_nothing_is_written(bed, inventory):
    kh = inventory / "known_hosts"
    kh.unlink()
    decisions = trust_hosts(load_topology(inventory), ["gw"], confirm=lambda *_: False)
    assert [(d.host, d.status) for d in decisions] == [("bastion", "rejected"), ("gw", "skipped")]
    assert not kh.exists()


def test_host_observer_follows_a_gb18030_log_across_rotation_over_ssh(inventory, pool):
    """The `host` observer's SSH path (issue 14): a vendor-style log on a gateway host,
    followed over one channel through the bastion, rotated meanwhile."""
    import base64
    import threading
    import time
    from pathlib import Path

    from orchestrator.config.profile import load_profile
    from orchestrator.model.inventory import Endpoint, Gateway
    from orchestrator.probes.host_observer import LogSource, SshLogAccess

    path = "/tmp/drill-hostbed-vendor.log"

    def append(target: str, *texts: str) -> None:
        raw = b"".join(f"2026-12-05 10:00:0{i}.250 [信息] {t}\r\n".encode("gb18030")
                       for i, t in enumerate(texts))
        pool.run("gw", f"echo {base64.b64encode(raw).decode()} | base64 -d >> {target}")

    pool.run("gw", f"rm -f {path} {path}.1")
    append(path + ".1", "网关编号: W000000T 日志开始", "登录成功 会话: S1 服务器 198.18.101.30:7043")
    append(path, "网关编号: W000000T 日志开始")
    gw = Gateway("W000000T", "trading", "gw", Endpoint("127.0.0.1", 1), "x.xml",
                 observe="host", profile="lab-gateway", log=path)
    profile = load_profile(Path(__file__).resolve().parents[2] / "profiles" / "lab-gateway.yaml")
    access = SshLogAccess(inventory)
    events, lock = [], threading.Lock()

    class Sink:
        def event(self, rec):
            with lock:
                events.append(rec)

        def connected(self, gateway, up):
            pass

    try:
        assert access.unreadable(gw) is None
        src = LogSource(gw.id, profile, access.follower(gw, profile.encoding), f"gw:{path}",
                        access.clock(gw), {"198.18.101.30:7043": "FT"}, "trading")
        src.start(Sink())
        assert src.wait_identity(10) == "W000000T"
        append(path, "心跳超时 主机 FT")
        pool.run("gw", f"mv {path} {path}.1")
        append(path, "网关编号: W000000T 日志开始", "登录成功 会话: S2 服务器 198.18.101.30:7043")
        end = time.monotonic() + 15
        while len(events) < 3 and time.monotonic() < end:
            time.sleep(0.05)
        assert [r.type for r in events] == ["login", "link_down", "login"]
        assert events[-1].data["session_id"] == "S2" and events[-1].data["centre"] == "FT"
        # the log's Shanghai time less the host's measured offset (true offset 0 on the bed)
        clock = src.clock
        assert abs(clock.offset_ns) <= clock.uncertainty_ns + 1_000
        assert events[0].event["uncertainty_ms"] == clock.uncertainty_ns / 1e6 + 1.0
        src.close()
        missing = SshLogAccess.unreadable(access, Gateway("W000000T", "trading", "gw",
                                          Endpoint("127.0.0.1", 1), "x.xml", log="/nonexistent.log"))
        assert missing is not None and "not a readable file" in missing
    finally:
        access.close()
        pool.run("gw", f"rm -f {path} {path}.1")


SSH_VERIFY_DRILL = """\
id: ssh-verify
title: {zh: 从网关主机核对, en: Checks made from a gateway host}
spec: [R-NET-1]
cadence: quarterly
phases:
  precheck:
    - name: From the gateway host, through the bastion
      verify:
        - {probe: ssh-tcp, host: gw, address: 198.18.101.30, port: 7043, within: 0s}
        - {probe: ssh-tcp, host: gw, address: 198.18.101.30, port: 7999, within: 0s}
        - {probe: ssh-command, host: gw, command: ip -br addr show cu0, pattern: '198\\.18\\.2\\.1/30', within: 0s}
        - {probe: ssh-command, host: gw, command: ip -br addr show cu0, pattern: '198\\.18\\.9\\.9', within: 0s}
        - {probe: ssh-tcp, host: bastion, address: 198.18.101.30, port: 7043, within: 0s}
"""


def test_a_verify_step_runs_ssh_tcp_and_ssh_command_from_a_bed_host(bed, inventory, tmp_path):
    """The drill file's ssh-* expectations, resolved against the bed's inventory and run by
    the engine's verify step kind: a connect made by gw (which drill's host cannot reach)
    and a command run on gw, each once passing and once failing."""
    from types import SimpleNamespace

    from hostbed.inventory import gateway_entries, write_inventory

    from orchestrator.adapters.run_ssh import RunConnections
    from orchestrator.config.inventory import load_inventory
    from orchestrator.config.resolve import resolve
    from orchestrator.config.scenario import load_drill
    from orchestrator.engine.kinds import KINDS, StepCall
    from orchestrator.engine.steps import verify_all
    from orchestrator.probes import default_registry
    from orchestrator.targets.hosts import HostsTarget

    bed.start_exchanges(ports=(7043,))
    (tmp_path / "drills").mkdir()
    path = tmp_path / "drills" / "ssh-verify.yaml"
    path.write_text(SSH_VERIFY_DRILL, encoding="utf-8")
    # a drill inventory needs a gateway; nothing runs it here
    inv = load_inventory(write_inventory(bed, inventory, gateways=gateway_entries(bed, {"W000000T": 1})))
    step = resolve(load_drill(path), inv, {}).phases["precheck"][0]
    conn = RunConnections(inv.path)
    try:
        results = verify_all(inv, step.verify, log_path=lambda _g: None, since_ns=0,
                             registry=default_registry(), ssh=conn.pool)
    finally:
        conn.close()
    assert [r.ok for r in results] == [True, False, True, False, False], results
    assert results[0].detail == "tcp 198.18.101.30:7043 from gw: accepts connections"
    assert "from gw" in results[1].detail and "connect failed" in results[1].detail
    assert "output matches" in results[2].detail
    assert "does not match" in results[3].detail
    assert "from bastion" in results[4].detail  # the bastion has no route to the trading net

    # The step kind itself (what a run calls): the failing checks are the step's error.
    eng = SimpleNamespace(inv=inv, target=HostsTarget(), state=SimpleNamespace(link_lost_ns=None),
                          safety=SimpleNamespace(stopping=lambda: False),
                          obs=SimpleNamespace(host_views=lambda: {}), connections=RunConnections(inv.path))
    try:
        error = KINDS["verify"].run(eng, StepCall("precheck", 0, step, "precheck[0]"))
        assert error is not None and error.count(";") == 2 and "7999" in error and "from bastion" in error
        passing = SimpleNamespace(verify=step.verify[::2][:2])
        assert KINDS["verify"].run(eng, StepCall("precheck", 0, passing, "precheck[0]")) is None
    finally:
        eng.connections.close()
