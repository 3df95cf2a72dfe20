"""Inventories: valid ones load; every problem carries file:line and the field path."""

from __future__ import annotations

import re

import pytest
from model_support import LAB_INVENTORY, drill_home, load_lab  # noqa: F401 (fixture)

from orchestrator.cli import main
from orchestrator.config.inventory import load_inventory
from orchestrator.errors import InputError


def _broken(tmp_path, *replacements):
    text = (LAB_INVENTORY / "hosts.yml").read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new, 1)
    folder = tmp_path / "inv"
    folder.mkdir()
    (folder / "hosts.yml").write_text(text, encoding="utf-8")
    return folder


def test_lab_inventory_loads():
    lab_inventory = load_lab()
    assert lab_inventory.environment.name == "lab" and lab_inventory.environment.is_lab
    assert [ln.id for ln in lab_inventory.lines] == ["ct-ft", "cu-nf", "ct-nf", "sat-1"]
    assert lab_inventory.lines_of_carrier("CT") == ["ct-ft", "ct-nf"]


def test_generated_test_labs_load(tmp_path):
    from orchestrator.lab.testing import make_lab_inventory

    inv = load_inventory(make_lab_inventory(tmp_path, gateways=3))
    assert len(inv.gateways) == 3


def test_every_inventory_problem_has_file_line_and_field(tmp_path):
    folder = _broken(
        tmp_path,
        ("mbps: 4,", "mbps: -4,"),
        ("carrier: CU, centre: NF", "carrier: XX, centre: NF"),
        ("timezone: Asia/Shanghai", "timezone: Mars/Olympus"),
        ("kind: settlement", "kind: clearing"),
        ("port: 7015}", "port: 70150}"),
    )
    with pytest.raises(InputError) as e:
        load_inventory(folder)
    got = {p.field: p for p in e.value.problems}
    file = str(folder / "hosts.yml")
    assert set(got) == {"drill.lines[2].mbps", "drill.lines[1].carrier",
                        "drill.environment.timezone", "drill.gateways[4].kind",
                        "drill.centres[0].services.settlement_sm.port"}
    for problem in got.values():
        assert problem.file == file and problem.line
    lines = (folder / "hosts.yml").read_text(encoding="utf-8").splitlines()
    assert "mbps: -4" in lines[got["drill.lines[2].mbps"].line - 1]
    assert "XX" in lines[got["drill.lines[1].carrier"].line - 1]
    assert "CT, CU, CS" in got["drill.lines[1].carrier"].message


def test_missing_required_and_duplicate_ids(tmp_path):
    folder = _broken(tmp_path, ("id: cu-nf", "id: ct-ft"),
                     ("config: gateways/W000001T/server_list.xml", "service: x"))
    with pytest.raises(InputError) as e:
        load_inventory(folder)
    text = str(e.value)
    assert "drill.lines[1].id: duplicate id 'ct-ft'" in text
    assert "drill.gateways[1].config: required" in text


def test_inventory_without_drill_variable(tmp_path):
    (tmp_path / "hosts.yml").write_text("all:\n  hosts: {a: {}}\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        load_inventory(tmp_path)
    assert "all.vars.drill" in str(e.value)


def test_drill_variable_in_group_vars(tmp_path):
    import yaml

    doc = yaml.safe_load((LAB_INVENTORY / "hosts.yml").read_text(encoding="utf-8"))
    drill = doc["all"].pop("vars")["drill"]
    drill["retention_days"] = "a year"
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / "all.yml").write_text(
        yaml.safe_dump({"drill": drill}, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError) as e:
        load_inventory(tmp_path)
    (problem,) = e.value.problems
    assert problem.file.endswith("group_vars/all.yml") and problem.field == "drill.retention_days"
    assert problem.line


def test_vault_values_are_tracked_as_secrets(tmp_path):
    folder = _broken(tmp_path, ("  children:\n", "    db_password: !vault |\n"
                                "      $ANSIBLE_VAULT;1.1;AES256\n      6132\n  children:\n"))
    inv = load_inventory(folder)
    assert inv.secrets_paths == ("all.vars.db_password",)


def test_validate_reports_inventory_problems(tmp_path, capsys):
    folder = _broken(tmp_path, ("kind: lab,", "kind: staging,"))
    code = main(["validate", "--inventory", str(folder)])
    err = capsys.readouterr().err
    assert code == 2
    assert re.search(r"hosts\.yml:\d+: drill\.environment\.kind: expected one of: lab, production",
                     err)


def test_lab_inventory_stays_on_loopback(tmp_path):
    folder = _broken(tmp_path, ("trading: {address: 127.70.101.30", "trading: {address: 172.70.101.30"))
    with pytest.raises(InputError) as e:
        load_inventory(folder)
    (problem,) = e.value.problems
    assert problem.field == "drill.centres[2].services.trading.address"
    assert "loopback" in problem.message and problem.line


def test_linux_driver_needs_interface_and_service(tmp_path):
    folder = _broken(tmp_path, ("driver: lab", "driver: linux"))
    with pytest.raises(InputError) as e:
        load_inventory(folder)
    fields = {p.field for p in e.value.problems}
    assert "drill.lines[0].interface" in fields and "drill.gateways[0].service" in fields


def test_linux_gateway_host_must_be_in_gateway_hosts(tmp_path):
    folder = _broken(tmp_path, ("driver: lab", "driver: linux"))
    with pytest.raises(InputError) as e:
        load_inventory(folder)
    (problem,) = [p for p in e.value.problems if p.field == "drill.gateways[0].host"]
    assert "'lab' is not a host of the gateway_hosts group" in problem.message
    assert problem.line == 56 and problem.file.endswith("hosts.yml")


def test_two_gateways_on_one_monitor(tmp_path):
    folder = _broken(tmp_path, ("port: 17201}", "port: 17200}"))
    with pytest.raises(InputError) as e:
        load_inventory(folder)
    assert "drill.gateways[1].monitor" in str(e.value)


def test_production_example_loads():
    from model_support import REPO

    inv = load_inventory(REPO / "inventories" / "production.example")
    assert inv.environment.kind == "production"
    assert inv.centre("BJ").services["trading"].address == "172.70.101.30"
