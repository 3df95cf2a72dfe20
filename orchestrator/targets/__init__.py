"""Targets: what a drill runs against (the embedded lab, real hosts), behind one interface.

The engine talks to a `Target` and never asks which one it has; a target is chosen once,
by name, from `TARGETS` (molecule's driver pattern)."""

from orchestrator.targets.base import EnvironmentView, Opened, Target
from orchestrator.targets.registry import TARGETS, open_target, target_for_run

__all__ = ["TARGETS", "EnvironmentView", "Opened", "Target", "open_target", "target_for_run"]
