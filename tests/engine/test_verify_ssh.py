"""A verify step's ssh-tcp / ssh-command checks where there is no SSH host (the lab), and
how `drill plan` names them. They run for real on the netns bed:
tests/hostbed/test_ssh_probes.py::test_a_verify_step_runs_ssh_tcp_and_ssh_command_from_a_bed_host."""

from __future__ import annotations

from orchestrator.adapters.run_ssh import RunConnections
from orchestrator.config.inventory import load_inventory
from orchestrator.engine.plan_detail import _expectation
from orchestrator.engine.steps import evaluate
from orchestrator.lab.testing import make_lab_inventory
from orchestrator.model.drill import Expectation
from orchestrator.probes import default_registry

TCP = Expectation(probe="ssh-tcp", host="gw01", address="127.0.0.1", port=7043)
COMMAND = Expectation(probe="ssh-command", host="gw01", command="ip -br addr", pattern="UP")


def test_on_the_lab_an_ssh_check_fails_naming_the_ssh_hosts_there(tmp_path):
    inv = load_inventory(make_lab_inventory(tmp_path, gateways=1))
    conn = RunConnections(inv.path)
    ssh = conn.pool
    try:
        for x, what in ((TCP, "tcp 127.0.0.1:7043 from gw01"),
                        (COMMAND, "ssh-command on gw01 (ip -br addr)")):
            r = evaluate(inv, x, log_path=lambda _g: None, since_ns=0, registry=default_registry(), ssh=ssh)
            assert not r.ok
            assert r.detail == f"{what}: unknown host 'gw01'; expected one of: none"
        r = evaluate(inv, TCP, log_path=lambda _g: None, since_ns=0, registry=default_registry())
        assert not r.ok and r.detail.endswith("no SSH connections in this run")
        old = Expectation(probe="ssh-log", host="gw01", pattern="x")  # journaled by an older drill
        r = evaluate(inv, old, log_path=lambda _g: None, since_ns=0, registry=default_registry(), ssh=ssh)
        assert not r.ok and r.detail == "ssh-log: probe kind 'ssh-log' is not available"
    finally:
        conn.close()


def test_drill_plan_names_the_host_each_ssh_check_runs_from():
    assert _expectation(TCP, "en") == "tcp 127.0.0.1:7043 from gw01"
    assert _expectation(TCP, "zh") == "从 gw01 可连接 TCP 127.0.0.1:7043"
    assert _expectation(COMMAND, "en") == "on gw01: ip -br addr (exit status 0, output ~ 'UP')"
    assert _expectation(COMMAND, "zh") == "在 gw01 上执行 ip -br addr（退出码 0，输出匹配 'UP'）"
