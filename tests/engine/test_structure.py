"""Issue 12: the engine's shape. Step kinds and targets are registries; the engine never
asks which target it has; recover and sealing use only the engine's public API."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from orchestrator.engine.kinds import KINDS
from orchestrator.targets import TARGETS, Target
from orchestrator.targets.hosts import HostsTarget
from orchestrator.targets.lab import LabTarget

ENGINE = Path(__file__).resolve().parents[2] / "orchestrator" / "engine"


def test_every_step_kind_of_the_drill_format_is_in_the_registry():
    assert set(KINDS) == {"playbook", "manual", "wait", "verify"}


def test_targets_are_chosen_by_name_and_both_implement_the_interface():
    assert set(TARGETS) == {"lab", "hosts"}
    members = [n for n in vars(Target) if not n.startswith("_")] + list(Target.__annotations__)
    for target in (HostsTarget(), LabTarget(Path("/nonexistent"))):
        assert all(hasattr(target, name) for name in members), type(target).__name__


def test_the_engine_has_no_lab_branch():
    for path in ENGINE.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\bif (not )?(self\.|eng\.)?lab\b|lab_status|\.lab\b", text), path.name


def _private_uses(path: Path) -> list[str]:
    """`x._name` where x is not self/cls: reaching into another object's privates."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") \
                and not node.attr.startswith("__") \
                and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
            out.append(f"{path.name}:{node.lineno} .{node.attr}")
    return out


def test_recover_and_sealing_use_only_the_public_engine_api():
    assert _private_uses(ENGINE / "recover.py") + _private_uses(ENGINE / "sealing.py") == []

