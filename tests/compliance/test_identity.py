"""Issue 13: a monitor answering with another gateway's id is named by `drill check`
(exit 1) and refused by `drill run` before any change (exit 4)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import yaml
from compliance_helpers import drill_home  # noqa: F401 - drill_home: autouse fixture

from orchestrator.cli import main
from orchestrator.compliance.live import MonitorView, _logged_in_once
from orchestrator.config.inventory import load_inventory
from orchestrator.lab.testing import make_lab_inventory, running_lab
from orchestrator.probes.identity import mismatches, reported_mismatch


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    base = tmp_path_factory.mktemp("identity")
    home = base / "home"
    home.mkdir()
    inv = make_lab_inventory(base, gateways=3)
    with running_lab(inv, home) as handle:
        yield inv, home, handle


def _swapped_copy(inv_dir: Path, dest: Path) -> Path:
    """The lab inventory with the first two gateways' monitor ports swapped."""
    doc = yaml.safe_load((inv_dir / "hosts.yml").read_text(encoding="utf-8"))
    gws = doc["all"]["vars"]["drill"]["gateways"]
    gws[0]["monitor"]["port"], gws[1]["monitor"]["port"] = gws[1]["monitor"]["port"], gws[0]["monitor"]["port"]
    dest.mkdir(parents=True)
    (dest / "hosts.yml").write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return dest


def test_the_identity_a_monitor_reports_is_compared(tmp_path):
    assert reported_mismatch("W1", "h:1", {"gateway": "W1"}) is None
    assert "reports gateway 'W2'" in reported_mismatch("W1", "h:1", {"gateway": "W2"})
    assert "reports no gateway id" in reported_mismatch("W1", "h:1", {"state": "logged_in"})
    assert reported_mismatch("W1", "h:1", OSError("refused")) is None  # no answer: the gate's
    inv = load_inventory(make_lab_inventory(tmp_path, gateways=1))
    gid = inv.gateways[0].id
    row = _logged_in_once(inv, [MonitorView(gid, True, "logged_in", "FT", (), identity="x: wrong")], None)
    assert row.status == "fail" and "identity mismatch: x: wrong" in row.evidence


def test_drill_check_names_swapped_monitors_and_exits_1(lab, tmp_path, capsys, monkeypatch):
    inv_dir, _home, _ = lab
    copy = _swapped_copy(inv_dir, tmp_path / "swapped")
    monkeypatch.setenv("DRILL_HOME", str(tmp_path / "elsewhere"))  # no lab there: probe as given
    code = main(["check", "--json", "--live", "--inventory", str(copy)])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    row = next(r for r in report["rows"] if r["part"] == "live" and r["clause"] == "R-APP-5")
    assert row["status"] == "fail"
    inv = load_inventory(inv_dir)
    a, b = inv.gateways[0].id, inv.gateways[1].id
    assert f"{a}: the monitor at" in row["evidence"] and f"reports gateway '{b}'" in row["evidence"]
    assert f"{b}: the monitor at" in row["evidence"] and f"reports gateway '{a}'" in row["evidence"]


def test_a_run_whose_monitors_answer_another_id_is_refused_before_any_change(lab, tmp_path):
    from orchestrator.engine.options import RunOptions
    from orchestrator.engine.prepare import prepare
    from orchestrator.engine.runner import Engine
    from orchestrator.errors import ExitCode, RefusedError
    from orchestrator.journal.chain import read_records

    inv_dir, home, handle = lab
    root = Path(__file__).resolve().parents[2]
    prepared = prepare(root, "carrier-outage", inv_dir, {}, home, start_lab=False)
    inv = prepared.inventory
    g0, g1 = inv.gateways[0], inv.gateways[1]
    swapped = dataclasses.replace(inv, gateways=(dataclasses.replace(g0, monitor=g1.monitor),
                                                 dataclasses.replace(g1, monitor=g0.monitor),
                                                 *inv.gateways[2:]))
    assert len(mismatches(swapped)) == 2 and mismatches(inv) == []
    lines_before = {ln["id"]: ln["state"] for ln in handle.status()["lines"]}
    opts = RunOptions(reports_dir=tmp_path / "reports", drill_home=home, project_root=root)
    with pytest.raises(RefusedError) as e:
        Engine(prepared.resolved, swapped, opts, prepared.target).run()
    assert e.value.exit_code == ExitCode.REFUSED == 4
    assert "monitor identity" in str(e.value) and g0.id in str(e.value) and g1.id in str(e.value)
    assert {ln["id"]: ln["state"] for ln in handle.status()["lines"]} == lines_before
    (journal,) = (tmp_path / "reports").rglob("journal.jsonl")
    recs = list(read_records(journal))
    assert not [r for r in recs if r.kind == "step.start"]  # not even the pre-check ran
    assert (recs[-1].data["status"], recs[-1].data["exit_code"]) == ("refused", 4)
