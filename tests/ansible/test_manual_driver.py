"""The manual driver: a person confirms; without a confirmation the step fails, never pretends."""

from __future__ import annotations

import uuid
from pathlib import Path

import yaml

from orchestrator.adapters.ansible import PlaybookRun, run_playbook

PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"


def _inventory(tmp_path: Path) -> Path:
    """Only what line.yml reads: the lines and the default driver; one control host."""
    line = {"carrier": "CT", "mbps": 10, "port_layer": 3, "medium": "terrestrial",
            "preference": 10, "router": "edge-1", "interface": "eth1"}
    doc = {"all": {
        "vars": {"drill": {"environment": {"name": "manual-test", "kind": "production"},
                           "driver": "manual",
                           "lines": [{"id": "ct-ft", "centre": "FT", **line},
                                     {"id": "ct-nf", "centre": "NF", **line}]}},
        "children": {"drill_control": {"hosts": {"localhost": {
            "ansible_connection": "local",
            "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}}}}}
    path = tmp_path / "hosts.yml"
    path.write_text(yaml.safe_dump(doc))
    return path


def _line_down(tmp_path: Path, **extravars):
    return run_playbook(PlaybookRun(
        playbook=PLAYBOOKS / "line.yml", inventory=_inventory(tmp_path),
        extravars={"lines": ["ct-ft"], "state": "down", "mode": "shutdown", **extravars},
        private_data_dir=tmp_path / f"pdd-{uuid.uuid4().hex[:6]}", timeout_s=120))


def test_without_a_person_the_manual_step_fails_saying_what_to_do(tmp_path):
    result = _line_down(tmp_path)
    assert result.status == "failed"
    failed = result.failed_tasks[0]
    assert failed.task == "The operator confirmed"
    assert "ct-ft" in failed.msg and "take it DOWN (shutdown)" in failed.msg
    assert result.effective_ns is None


def test_an_acknowledgement_from_the_engine_is_the_effective_time(tmp_path):
    at_ns = 1795600000000000000
    result = _line_down(tmp_path, drill_manual_ack={"operator": "张伟", "at_ns": at_ns})
    assert result.status == "successful", [t.msg for t in result.failed_tasks]
    assert result.effective_ns == at_ns
    stamp = next(t for t in result.tasks if t.effective_ns is not None)
    assert "张伟" in stamp.msg


def test_under_check_mode_nobody_is_asked_and_the_change_is_only_shown(tmp_path):
    """`drill plan` runs playbooks with --check: the manual driver shows, asks nothing, passes."""
    result = run_playbook(PlaybookRun(
        playbook=PLAYBOOKS / "line.yml", inventory=_inventory(tmp_path),
        extravars={"lines": ["ct-ft"], "state": "down", "mode": "shutdown"},
        private_data_dir=tmp_path / "pdd-check", timeout_s=120, check=True))
    assert result.status == "successful", [t.msg for t in result.failed_tasks]
    assert result.effective_ns is None  # nothing was changed, nothing stamped
    shown = next(t for t in result.tasks if t.task.startswith("Show the change"))
    assert "ct-ft" in shown.msg and "take it DOWN (shutdown)" in shown.msg
    skipped = {t.task for t in result.tasks if t.status == "skipped"}
    assert {"Ask the operator to do it and confirm", "The operator confirmed"} <= skipped


def test_centres_and_repoints_of_a_manual_inventory_pass_check_mode(tmp_path):
    from orchestrator.lab.testing import make_lab_inventory

    path = make_lab_inventory(tmp_path, gateways=2) / "hosts.yml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["all"]["vars"]["drill"]["driver"] = "manual"  # nothing of the lab is started
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    for playbook, extravars in (("centre.yml", {"centres": ["FT", "NF"], "state": "down"}),
                                ("repoint.yml", {"to": "BJ"})):
        result = run_playbook(PlaybookRun(
            playbook=PLAYBOOKS / playbook, inventory=path, extravars=extravars,
            private_data_dir=tmp_path / f"pdd-{playbook}", timeout_s=120, check=True))
        assert result.status == "successful", (playbook, [t.msg for t in result.failed_tasks])
        shown = next(t for t in result.tasks if t.task.startswith("Show the change"))
        assert ("Centre FT" in shown.msg) if playbook == "centre.yml" else ("Gateway " in shown.msg)
