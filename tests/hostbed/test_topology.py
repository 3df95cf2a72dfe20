"""The SSH view of an inventory, read as Ansible would (no hosts contacted)."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.adapters.hosts import load_topology
from orchestrator.errors import InputError

ROOT = Path(__file__).resolve().parents[2]


def test_production_example_hosts_are_reached_through_the_bastion():
    topo = load_topology(ROOT / "inventories" / "production.example")
    assert topo.known_hosts == ROOT / "inventories" / "production.example" / "known_hosts"
    assert topo.host("bastion").address == "10.8.0.10" and topo.host("bastion").via is None
    router = topo.host("ct-router")  # a network device: its own local user (password in Vault)
    assert router.via == "bastion" and router.user == "drill-netops"
    gateway_host = topo.host("gw-trade-01")
    assert gateway_host.via == "bastion" and gateway_host.user == "drill-ops"
    assert gateway_host.key_file == Path("~/.ssh/drill_ops_ed25519").expanduser()
    assert [h.name for h in topo.chain("gw-trade-01")] == ["bastion", "gw-trade-01"]
    assert "localhost" not in topo.hosts  # local connections are not SSH hosts


def test_bad_fingerprint_and_unknown_jump_host_are_input_errors(tmp_path):
    (tmp_path / "hosts.yml").write_text(
        "all:\n  children:\n    routers:\n      hosts:\n"
        "        r1: {ansible_host: 198.18.0.1, drill_ssh_via: nojump, ssh_host_fingerprints: [MD5:aa]}\n")
    with pytest.raises(InputError) as err:
        load_topology(tmp_path)
    fields = [p.field for p in err.value.problems]
    assert fields == ["r1.ssh_host_fingerprints", "r1.drill_ssh_via"]
