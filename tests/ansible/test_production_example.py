"""inventories/production.example: loads as a production inventory with SSCC's addresses."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from orchestrator.config.inventory import load_inventory

EXAMPLE = Path(__file__).resolve().parents[2] / "inventories" / "production.example"


def test_it_loads_as_a_production_inventory_with_the_sscc_addresses():
    inv = load_inventory(EXAMPLE)
    assert inv.environment.kind == "production" and inv.driver == "linux"
    addr = {(c.id, s): str(ep) for c in inv.centres for s, ep in c.services.items()}
    assert addr[("BJ", "trading")] == "172.70.101.30:7043"
    assert addr[("BJ", "market_data")] == "172.70.101.60:7044"
    assert addr[("BJ", "settlement")] == "172.70.101.70:7013"
    assert addr[("BJ", "settlement_sm")] == "172.70.101.70:7015"
    assert addr[("FT", "trading")].startswith("172.60.101.")
    assert addr[("NF", "trading")].startswith("172.50.101.")
    terrestrial = {ln.carrier for ln in inv.lines if ln.terrestrial}
    assert terrestrial == {"CT", "CU"}
    assert any(ln.medium.startswith("satellite") for ln in inv.lines)


def test_ansible_reads_it_and_the_vault_placeholders_decrypt(tmp_path):
    password = tmp_path / "vault-pass"
    password.write_text("drill-example-only\n")
    bindir = Path(sys.executable).parent
    # Templating host vars on the local control host only: nothing connects anywhere.
    out = subprocess.run(
        [str(bindir / "ansible"), "-i", str(EXAMPLE), "localhost", "-m", "ansible.builtin.debug",
         "-a", "msg={{ hostvars['ct-router'].ansible_become_password }}|"
               "{{ hostvars['gw-md-01'].gateway_passwords.W00012TF }}|"
               "{{ hostvars['ct-router'].ansible_ssh_common_args }}",
         "--vault-id", f"example@{password}"],
        capture_output=True, text=True, env={"PATH": f"{bindir}:/usr/bin:/bin",
                                             "ANSIBLE_HOST_KEY_CHECKING": "True"})
    assert out.returncode == 0, out.stdout + out.stderr
    assert "CHANGE-ME|CHANGE-ME|" in out.stdout
    assert "StrictHostKeyChecking=yes" in out.stdout and "ProxyCommand" in out.stdout
