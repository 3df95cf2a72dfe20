"""`drill plan`: a drill's resolved steps as they would run, each playbook step tried in
Ansible check mode with the extra variables a run would give it."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator.engine.playbook import extravars
from orchestrator.engine.prepare import prepare
from orchestrator.engine.record import plain_params
from orchestrator.engine.steps import step_record


@dataclass(frozen=True)
class Plan:
    drill: str
    params: Mapping[str, Any]
    steps: tuple[Mapping[str, Any], ...]  # step records, with "check" for checked playbooks

    def to_record(self) -> dict[str, Any]:
        return {"drill": self.drill, "params": plain_params(self.params),
                "steps": [dict(s) for s in self.steps]}


def plan(project_root: Path, drill_id: str, inventory_path: Path, overrides: Mapping[str, str],
         drill_home: Path, *, ansible_check: bool = True) -> Plan:
    """Never starts a lab and changes nothing (check mode)."""
    prepared = prepare(project_root, drill_id, inventory_path, overrides, drill_home,
                       start_lab=False)
    rows = []
    for phase, steps in prepared.resolved.phases.items():
        for i, step in enumerate(steps):
            rec = step_record(step, phase, i)
            if ansible_check and step.kind == "playbook":
                rec["check"] = _check(project_root, step, prepared.inventory_path,
                                      prepared.inventory.environment.name, drill_home)
            rows.append(rec)
    return Plan(drill_id, dict(prepared.resolved.params), tuple(rows))


def _check(project_root: Path, step, inventory: Path, environment: str,
           drill_home: Path) -> dict[str, Any]:
    from orchestrator.adapters import ansible

    with tempfile.TemporaryDirectory(prefix="drill-plan-") as tmp:
        res = ansible.run_playbook(ansible.PlaybookRun(
            playbook=Path(project_root) / "playbooks" / step.playbook, inventory=inventory,
            extravars=extravars(step, run_id="plan", environment=environment,
                                drill_home=drill_home, project=project_root,
                                evidence_dir=Path(tmp) / "evidence"),
            private_data_dir=Path(tmp) / "pdd", check=True, timeout_s=step.timeout_s))
    return {"status": res.status, "tasks": len(res.tasks),
            "failed": [f"{t.task}: {t.msg}" for t in res.failed_tasks]}
