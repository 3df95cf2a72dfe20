"""A valid inventory is built from the value Ansible read: drill's own line-numbered read
of the same file (a second on 2,000 gateways) is made only to name the lines of
problems, or when its reading of the `drill` variable could differ from Ansible's."""

from __future__ import annotations

import dataclasses

import pytest
import yaml
from config_support import ini_layout, lab_drill, production_layout, write

from orchestrator.config.ansible_inventory import read_inventory
from orchestrator.config.inventory import load_source
from orchestrator.errors import InputError


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("DRILL_HOME", str(tmp_path / "home"))


def _hosts_yml(folder, drill_text: str):
    write(folder / "hosts.yml", "all:\n  children:\n    drill_control:\n      hosts:\n"
          "        lab: {ansible_connection: local}\n  vars:\n" + drill_text)
    return folder


def _drill_text(drill: dict) -> str:
    text = yaml.safe_dump({"drill": drill}, allow_unicode=True, sort_keys=False)
    return "".join(f"    {line}\n" for line in text.splitlines())


@pytest.mark.parametrize("layout", ["hosts.yml", "group_vars", "ini"])
def test_a_valid_inventory_is_the_same_built_from_ansibles_value(tmp_path, layout):
    drill = lab_drill(tmp_path, gateways=3)
    folder = tmp_path / "inv"
    if layout == "hosts.yml":
        _hosts_yml(folder, _drill_text(drill))
    else:
        (production_layout if layout == "group_vars" else ini_layout)(folder, drill)
    source = read_inventory(folder)
    assert "drill" in source.as_written
    slow = dataclasses.replace(source, as_written=frozenset())
    assert load_source(source, folder) == load_source(slow, folder)


def test_a_duplicate_key_in_the_drill_variable_is_still_refused_with_its_line(tmp_path):
    drill = lab_drill(tmp_path)
    assert drill["driver"] == "lab"
    text = _drill_text(drill).replace("    drill:\n", "    drill:\n      driver: lab\n", 1)
    folder = _hosts_yml(tmp_path / "inv", text)
    source = read_inventory(folder)
    assert "drill" not in source.as_written  # Ansible warned; its value kept the last
    with pytest.raises(InputError) as e:
        load_source(source, folder)
    assert [(p.field, p.message) for p in e.value.problems] == [("all.vars.drill.driver", "duplicate key")]


def test_a_boolean_key_in_the_drill_variable_is_still_refused(tmp_path):
    drill = lab_drill(tmp_path)
    text = _drill_text(drill).replace("    drill:\n", "    drill:\n      yes: 1\n", 1)
    folder = _hosts_yml(tmp_path / "inv", text)
    source = read_inventory(folder)
    assert "drill" not in source.as_written
    with pytest.raises(InputError) as e:
        load_source(source, folder)
    assert any(p.line == 8 and "expected a text key" in p.message for p in e.value.problems)


def test_a_date_keeps_the_text_it_was_written_as(tmp_path):
    """Ansible reads 2026-12-31 as a date; drill's reader keeps the text the schema checks."""
    drill = {**lab_drill(tmp_path), "standing_approvals": [
        {"change": "CHG-1", "approver": "ops lead", "valid_until": "2099-12-31"}]}
    text = _drill_text(drill).replace("'2099-12-31'", "2099-12-31")
    folder = _hosts_yml(tmp_path / "inv", text)
    source = read_inventory(folder)
    assert "drill" not in source.as_written
    inv = load_source(source, folder)
    assert [str(a.valid_until) for a in inv.standing_approvals] == ["2099-12-31"]


def test_a_duplicate_key_is_refused_on_every_read_in_one_process(tmp_path):
    """Ansible shows each warning once per process; drill reads an inventory many times."""
    text = _drill_text(lab_drill(tmp_path)).replace("    drill:\n", "    drill:\n      driver: lab\n", 1)
    folder = _hosts_yml(tmp_path / "inv", text)
    for _ in range(2):
        assert "drill" not in read_inventory(folder).as_written
