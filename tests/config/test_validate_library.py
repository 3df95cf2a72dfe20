"""`drill validate` is a library call (orchestrator.config.validate); the CLI only prints."""

from __future__ import annotations

import shutil
from pathlib import Path

from orchestrator.config.project import find_project
from orchestrator.config.validate import validate

REPO = Path(__file__).resolve().parents[2]


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    for part in ("drills", "playbooks", "inventories"):
        shutil.copytree(REPO / part, root / part)
    return root


def test_every_shipped_drill_is_valid_against_the_lab(tmp_path):
    root = _project(tmp_path)
    outcome = validate(find_project(root), [], "lab")
    assert outcome.problems == ()
    assert outcome.environment == "lab"
    assert outcome.drills == len(list((root / "drills").glob("*.yaml"))) == len(outcome.valid)


def test_problems_are_collected_not_raised(tmp_path):
    root = _project(tmp_path)
    (root / "drills" / "copy.yaml").write_text(
        (root / "drills" / "single-line.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (root / "inventories" / "lab" / "hosts.yml").write_text("all: [1]\n", encoding="utf-8")
    outcome = validate(find_project(root), [], "lab")
    assert outcome.environment is None
    fields = {p.field for p in outcome.problems}
    assert "id" in fields  # the duplicate drill id
    assert any(p.file.endswith("hosts.yml") for p in outcome.problems)
