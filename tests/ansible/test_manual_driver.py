"""The manual driver: a person confirms; without a confirmation the step fails, never pretends."""

from __future__ import annotations

import uuid
from pathlib import Path

import yaml

from orchestrator.ansible import PlaybookRun, run_playbook

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
