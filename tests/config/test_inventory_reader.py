"""One inventory reader with Ansible's semantics (orchestrator.config.ansible_inventory):
every consumer sees the same variables, wherever the inventory defines them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from config_support import ini_layout, lab_drill, production_layout, write

from orchestrator.adapters.hosts import load_topology
from orchestrator.config.ansible_inventory import read_inventory, vault_plaintexts
from orchestrator.config.inventory import load_inventory
from orchestrator.config.secrets import inventory_secrets, vault_values
from orchestrator.errors import InputError
from orchestrator.integrity.signing import key_path_for
from orchestrator.lab.config import effective_inventory

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("DRILL_HOME", str(tmp_path / "home"))
    for var in ("ANSIBLE_VAULT_PASSWORD_FILE", "ANSIBLE_VAULT_IDENTITY_LIST", "DRILL_SIGNING_KEY"):
        monkeypatch.delenv(var, raising=False)


def test_the_lab_reads_drill_from_group_vars_all_folder(tmp_path):
    """Bug: `drill.yml` in group_vars/all/ passed validate, then the lab's own reader died
    with a KeyError and the signing key set there was ignored."""
    drill = {**lab_drill(tmp_path), "signing": {"key": "../firm_ed25519"}}
    inv = production_layout(tmp_path / "inv", drill)
    assert load_inventory(inv).environment.is_lab
    doc = effective_inventory(inv, None)
    assert doc["all"]["vars"]["drill"]["gateways"] == drill["gateways"]
    # The copy lives in the lab's state folder: its key path no longer depends on where.
    assert doc["all"]["vars"]["drill"]["signing"]["key"] == str((inv / "../firm_ed25519").resolve())
    host = doc["all"]["children"]["drill_control"]["hosts"]["lab"]
    assert host["ansible_connection"] == "local"
    assert key_path_for(inv, None) == inv / "../firm_ed25519"
    assert load_inventory(_written(tmp_path, doc)).gateways == load_inventory(inv).gateways


def _written(tmp_path: Path, doc: dict) -> Path:
    from orchestrator.lab.config import write_inventory

    dest = tmp_path / "state" / "inventory.yml"
    dest.parent.mkdir()
    write_inventory(doc, dest)
    return dest


def test_ini_hosts_and_host_vars(tmp_path):
    inv = ini_layout(tmp_path / "inv", lab_drill(tmp_path))
    source = read_inventory(inv)
    assert source.hosts["lab"].effective["ansible_connection"] == "local"
    assert source.groups["drill_control"].hosts == ("lab",)
    assert load_inventory(inv).environment.kind == "lab"
    doc = effective_inventory(inv, 3)
    assert len(doc["all"]["vars"]["drill"]["gateways"]) == 3
    assert doc["all"]["children"]["drill_control"]["hosts"]["lab"]["ansible_connection"] == "local"


def test_a_broken_ini_inventory_names_file_and_line(tmp_path):
    write(tmp_path / "inv" / "hosts", "[drill_control]\nlab\n\n[routers\nr1\n")
    with pytest.raises(InputError) as e:
        load_inventory(tmp_path / "inv")
    (problem,) = e.value.problems
    assert problem.file.endswith("hosts") and problem.line == 4


def test_drill_variable_in_ini_problems_name_its_line(tmp_path):
    write(tmp_path / "inv" / "hosts.ini", "[drill_control]\nlab\n\n[all:vars]\nx=1\n"
          'drill={"environment": {"name": "t", "kind": "labb"}}\n')
    with pytest.raises(InputError) as e:
        load_inventory(tmp_path / "inv")
    kind = [p for p in e.value.problems if p.field == "drill.environment.kind"]
    assert kind and kind[0].file.endswith("hosts.ini") and kind[0].line == 6


def test_a_yaml_syntax_error_names_its_line(tmp_path):
    write(tmp_path / "inv" / "hosts.yml", "all:\n  vars:\n    drill: {a: [1, 2}\n")
    with pytest.raises(InputError) as e:
        load_inventory(tmp_path / "inv")
    (problem,) = e.value.problems
    assert problem.file.endswith("hosts.yml") and problem.line == 3


def test_variables_merge_as_ansible_merges_them(tmp_path):
    """Child group over parent, group_vars/ over the inventory file, host over group."""
    inv = tmp_path / "inv"
    write(inv / "hosts.ini", "[routers]\nr1 ansible_host=10.0.0.1\nr2 ansible_host=10.0.0.2\n\n"
          "[edge:children]\nrouters\n\n[edge:vars]\nansible_user=edge\nansible_port=2200\n\n"
          "[routers:vars]\nansible_user=router\n")
    write(inv / "group_vars" / "routers" / "ssh.yml", "ansible_port: 2222\n")
    write(inv / "host_vars" / "r2.yml", "ansible_port: 2233\ndrill_ssh_via: r1\n")
    topo = load_topology(inv)
    assert (topo.host("r1").user, topo.host("r1").port) == ("router", 2222)
    assert (topo.host("r2").port, topo.host("r2").via) == (2233, "r1")


def _vault(password: str, plaintext: str) -> str:
    from ansible.parsing.vault import VaultLib, VaultSecret

    return VaultLib([("default", VaultSecret(password.encode()))]).encrypt(plaintext).decode()


def test_vault_without_and_with_the_password(tmp_path, monkeypatch):
    inv = production_layout(tmp_path / "inv", lab_drill(tmp_path))
    inline = _vault("pw", "inline-secret").replace("\n", "\n  ")
    write(inv / "group_vars" / "all" / "vault.yml",
          f"vault_gateway_password: !vault |\n  {inline}\nlogin_password: plain-secret\n")
    write(inv / "group_vars" / "drill_control.yml", _vault("pw", "api_token: file-secret\n"))
    # No password: validate still reads the topology; the sealed file is named, not fatal.
    assert load_inventory(inv).environment.is_lab
    assert read_inventory(inv).sealed_files == (str(inv / "group_vars" / "drill_control.yml"),)
    assert load_inventory(inv).secrets_paths == ("all.vars.vault_gateway_password",)
    assert inventory_secrets(inv) == ["plain-secret"]
    assert vault_values(inv) == []
    password = write(tmp_path / "vault-pass", "pw\n")
    env = {"ANSIBLE_VAULT_PASSWORD_FILE": str(password)}
    assert vault_plaintexts(inv, env) == {"inline-secret", "file-secret"}
    monkeypatch.setenv("ANSIBLE_VAULT_PASSWORD_FILE", str(password))
    assert vault_values(inv) == ["file-secret", "inline-secret"]
    assert "file-secret" in inventory_secrets(inv)  # readable now: api_token is secret-named


def test_list_and_help_import_no_ansible():
    code = ("import sys\nfrom orchestrator.cli import main\n"
            "for args in (['--help'], ['list']):\n"
            "    try:\n        main(args)\n    except SystemExit:\n        pass\n"
            "print([m for m in sys.modules if m.split('.')[0] in ('ansible', 'ansible_runner')])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=REPO, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_production_example_reads_the_same_through_every_consumer():
    inv = REPO / "inventories" / "production.example"
    drill = yaml.safe_load((inv / "group_vars" / "all" / "drill.yml").read_text(encoding="utf-8"))
    loaded = load_inventory(inv)
    assert [g.id for g in loaded.gateways] == [g["id"] for g in drill["drill"]["gateways"]]
    assert load_topology(inv).host("bastion").address == "10.8.0.10"
    assert effective_inventory(inv, None)["all"]["vars"]["drill"]["environment"]["name"] == "prod-sz"


def test_a_broken_group_vars_file_names_file_and_line(tmp_path):
    inv = production_layout(tmp_path / "inv", lab_drill(tmp_path))
    write(inv / "group_vars" / "all" / "drill.yml", "drill:\n  lines: [1, 2\n  gateways: 3\n")
    with pytest.raises(InputError) as e:
        load_inventory(inv)
    (problem,) = e.value.problems
    assert problem.file.endswith("group_vars/all/drill.yml") and problem.line == 3


def test_ansible_warnings_are_kept_not_printed(tmp_path, capfd):
    """The managed known_hosts sits in the inventory folder (docs/real-hosts.md); Ansible
    warns it is no inventory. drill keeps the warning with the result, off the terminal."""
    inv = production_layout(tmp_path / "inv", lab_drill(tmp_path))
    write(inv / "known_hosts", "10.8.0.10 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6\n")
    source = read_inventory(inv)
    assert load_inventory(inv).environment.is_lab
    out, err = capfd.readouterr()
    assert "WARNING" not in out + err
    assert any("known_hosts" in w for w in source.warnings)
