"""Issue 15: how an inventory declares a gateway's config adapter. Inline (`config_format`
with `config_locator`) or named (`config_adapter`, adapters/<name>.yaml in the project);
bad declarations are file:line errors (exit 2); a gateway with none, a missing definition
or a template outside the project is refused at plan (exit 4)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from orchestrator.adapters.config_formats import adapter_of, load_definition, unwritable
from orchestrator.cli import main
from orchestrator.config.inventory import load_inventory
from orchestrator.errors import InputError

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "inventories" / "production.example"


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("DRILL_HOME", str(tmp_path / "home"))


def _production(tmp_path: Path, edit) -> Path:
    dest = tmp_path / "production"
    shutil.copytree(SHIPPED, dest)
    path = dest / "group_vars" / "all" / "drill.yml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit({g["id"]: g for g in doc["drill"]["gateways"]})
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return dest


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    for sub in ("drills", "playbooks", "adapters"):
        shutil.copytree(REPO / sub, root / sub)
    (root / "inventories").mkdir()
    return root


def test_the_production_example_declares_named_and_inline_adapters(capsys):
    # so the drills that repoint or fail back plan there (they were refused for lack of a format)
    for drill in ("carrier-outage", "single-line", "centre-outage", "beijing-cutover"):
        assert main(["plan", drill, "--project", str(REPO), "--inventory", str(SHIPPED), "--no-check"]) == 0, \
            capsys.readouterr().err
    inv = load_inventory(SHIPPED)
    by_id = {g.id: adapter_of(g, REPO) for g in inv.gateways}
    assert by_id["W000010T"].format == "ini" and by_id["W000010T"].locator["key"] == "Server{n}"
    assert by_id["W000010T"].source.endswith("adapters/sscc-ini.yaml")
    assert by_id["W00012TF"].format == "keyvalue" and by_id["W00014JS"].format == "xml"
    assert unwritable(inv, [g.id for g in inv.gateways if not g.satellite_only], REPO) == []
    # without the project's adapters/ the named ones cannot be found: refused, named
    assert unwritable(inv, ["W000010T"], None) == [
        "W000010T (config_adapter 'sscc-ini': no adapters/sscc-ini.yaml in the project; "
        "drill writes only ini, keyvalue, lab-xml, template, xml)"]


def test_bad_inline_locators_and_orders_are_file_line_errors(tmp_path, capsys):
    def edit(g):
        g["W00012TF"]["config_locator"] = {"value": "{port}"}          # no key, no {address}
        g["W00014JS"]["config_locator"] = {"path": "CCNET/Servers/Server", "address": "@ip"}
        g["W00014JS"]["server_order"] = ["NF", "XX"]
        g["W000011T"]["config_format"] = "ini"                          # beside config_adapter
    inv = _production(tmp_path, edit)
    assert main(["plan", "single-line", "--project", str(REPO), "--inventory", str(inv),
                 "--no-check"]) == 2
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert all("group_vars/all/drill.yml:" in ln for ln in lines), err
    assert "drill.gateways[1].config_adapter: expected either config_adapter or config_format" in err
    assert "drill.gateways[2].config_locator.value: expected a value pattern with {address}" in err
    assert "drill.gateways[2].config_locator.key: required; missing" in err
    assert "drill.gateways[4].config_locator.port: required; missing" in err
    assert "drill.gateways[4].server_order[1]: unknown centre 'XX'" in err


def test_a_bad_adapter_definition_is_a_file_line_error(tmp_path, capsys):
    root = _project(tmp_path)
    bad = root / "adapters" / "sscc-ini.yaml"
    bad.write_text("config_format: ini\nconfig_locator:\n  key: Server{n}\n  colour: blue\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        load_definition(bad)
    text = "\n".join(str(p) for p in e.value.problems)
    assert f"{bad}:2: config_locator" in text and "section" in text, text
    assert f"{bad}:4: config_locator.colour" in text or f"{bad}:2: config_locator" in text, text
    assert main(["plan", "single-line", "--project", str(root), "--inventory", str(SHIPPED),
                 "--no-check"]) == 2
    assert str(bad) in capsys.readouterr().err


def test_a_missing_definition_or_a_template_outside_the_project_is_refused(tmp_path, capsys):
    root = _project(tmp_path)
    (root / "adapters" / "sscc-ini.yaml").unlink()
    assert main(["plan", "single-line", "--project", str(root), "--inventory", str(SHIPPED),
                 "--no-check"]) == 4
    assert "no adapters/sscc-ini.yaml in the project" in capsys.readouterr().err

    def edit(g):
        g["W00012TF"]["config_format"] = "template"
        g["W00012TF"]["config_locator"] = {"template": "../../etc/passwd"}
    inv = _production(tmp_path, edit)
    assert main(["plan", "single-line", "--project", str(REPO), "--inventory", str(inv),
                 "--no-check"]) == 4
    assert "climbs out of it" in capsys.readouterr().err
    (root / "templates").mkdir(exist_ok=True)
    shutil.copy(REPO / "adapters" / "sscc-ini.yaml", root / "adapters" / "sscc-ini.yaml")
    (root / "templates" / "hq.conf.j2").write_text(
        "{% for s in servers %}server.{{ loop.index }}={{ s.address }}:{{ s.port }}\n{% endfor %}")

    def edit2(g):
        g["W00012TF"]["config_format"] = "template"
        g["W00012TF"]["config_locator"] = {"template": "templates/hq.conf.j2"}
    inv = _production(tmp_path / "b", edit2)
    assert main(["plan", "single-line", "--project", str(root), "--inventory", str(inv),
                 "--no-check"]) == 0
