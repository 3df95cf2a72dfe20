"""Issue 13: never write what drill cannot edit. A repoint on a gateway whose config format
has no adapter is refused by `drill plan` and `drill run` before any change (exit 4)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from orchestrator.cli import main
from orchestrator.config.inventory import load_inventory

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("DRILL_HOME", str(tmp_path / "home"))


def _inventory(tmp_path: Path, *, kind: str = "lab", fmt: dict[str, str | None] | None = None) -> Path:
    doc = yaml.safe_load((REPO / "inventories" / "lab" / "hosts.yml").read_text(encoding="utf-8"))
    drill = doc["all"]["vars"]["drill"]
    drill["environment"]["kind"] = kind
    drill["environment"]["name"] = f"copy-{kind}"
    # always inside a window: what is tested here must not depend on the hour it runs
    drill["change_windows"] = [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                                "start": "00:00", "end": "24:00"}]
    for g in drill["gateways"]:
        if fmt and g["id"] in fmt:
            g["config_format"] = fmt[g["id"]]
    folder = tmp_path / f"inv-{kind}"
    folder.mkdir(exist_ok=True)
    (folder / "hosts.yml").write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False),
                                      encoding="utf-8")
    return folder


def test_lab_gateways_default_to_the_lab_xml_adapter_and_others_to_none(tmp_path):
    assert {g.config_format for g in load_inventory(REPO / "inventories" / "lab").gateways} == {"lab-xml"}
    assert {g.config_format for g in load_inventory(_inventory(tmp_path, kind="production")).gateways} == {None}


def test_plan_refuses_a_repoint_of_a_gateway_with_no_adapter(tmp_path, capsys):
    first = load_inventory(REPO / "inventories" / "lab").gateways[0].id
    inv = _inventory(tmp_path, fmt={first: "vendor-ini"})
    code = main(["plan", "centre-outage", "--project", str(REPO), "--inventory", str(inv), "--no-check"])
    err = capsys.readouterr().err
    assert code == 4
    assert f"{first} (config_format 'vendor-ini' has no adapter" in err
    # a failback may repoint any gateway that moved: refused too
    assert main(["plan", "carrier-outage", "--project", str(REPO), "--inventory", str(inv),
                 "--no-check"]) == 4
    # a drill that repoints nothing (no repoint step, no failback) writes no config
    assert main(["plan", "md-multicast-fallback", "--project", str(REPO), "--inventory", str(inv),
                 "--no-check"]) == 0


def test_run_refuses_it_before_any_change(tmp_path, capsys):
    inv = _inventory(tmp_path, kind="production")
    reports = tmp_path / "reports"
    code = main(["run", "beijing-cutover", "--project", str(REPO), "--inventory", str(inv),
                 "--reports", str(reports), "--confirm-environment", "copy-production", "--yes",
                 "--operator", "tester"])
    err = capsys.readouterr().err
    assert code == 4
    assert "repoints gateways whose config drill cannot write" in err and "declares no config_format" in err
    assert not reports.exists()  # refused before a run folder, a lock or a step
    assert main(["plan", "beijing-cutover", "--project", str(REPO), "--inventory", str(inv),
                 "--no-check"]) == 4


def test_declaring_the_lab_format_lets_it_plan(tmp_path, capsys):
    ids = [g.id for g in load_inventory(REPO / "inventories" / "lab").gateways]
    inv = _inventory(tmp_path, kind="production", fmt=dict.fromkeys(ids, "lab-xml"))
    assert main(["plan", "centre-outage", "--project", str(REPO), "--inventory", str(inv),
                 "--no-check"]) == 0
