"""Issue 13, "the after-check reads the host": the checks made of what the hosts report
(targets/host_read.py, engine/steady.host_checks) on real files. The lab runs that show them
at the gate and after restore are tests/engine/test_shipped_drills.py."""

from __future__ import annotations

import hashlib

from orchestrator.config.inventory import load_inventory
from orchestrator.engine.steady import host_checks
from orchestrator.lab.testing import make_lab_inventory
from orchestrator.targets.host_read import HostRead, read_lab


def test_a_config_changed_since_the_gate_fails_naming_the_file(tmp_path):
    inv = load_inventory(make_lab_inventory(tmp_path / "inv", gateways=2))
    state = tmp_path / "state"
    for g in inv.gateways:
        (state / g.config).parent.mkdir(parents=True)
        (state / g.config).write_bytes(b"<servers/>\n")
    running = {"gateways": [{"id": g.id, "process": "running"} for g in inv.gateways]}
    gate = read_lab(state, inv, running)
    assert all(r.sha256 == hashlib.sha256(b"<servers/>\n").hexdigest() and r.process for r in gate.values())
    assert all(c.ok for c in host_checks(gate))
    first = inv.gateways[0]
    (state / first.config).write_bytes(b"<servers><server/></servers>\n")
    after = read_lab(state, inv, running)
    bad = [c for c in host_checks(after, gate) if not c.ok]
    assert [(c.gateway, c.check) for c in bad] == [(first.id, "config_on_host")]
    assert f"lab:{state / first.config} sha256 {after[first.id].sha256} differs from the gate's " \
           f"{gate[first.id].sha256}" == bad[0].detail


def test_an_unreadable_config_or_a_stopped_process_fails(tmp_path):
    inv = load_inventory(make_lab_inventory(tmp_path / "inv", gateways=1))
    reads = read_lab(tmp_path / "nowhere", inv, {"gateways": [{"id": inv.gateways[0].id, "process": "exited"}]})
    checks = host_checks(reads)
    assert [(c.check, c.ok) for c in checks] == [("config_on_host", False), ("process", False)]
    assert "not read: cannot read" in checks[0].detail and "nowhere/gateways/" in checks[0].detail
    # a gateway no host can be asked about (driver manual) makes no claim either way
    manual = {"X1": HostRead("X1", "h:/c", None, None, "not read: driver manual (no host drill logs in to)")}
    assert host_checks(manual) == []
