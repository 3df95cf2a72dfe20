"""Issue 12: every concern small enough to read: no module of orchestrator/ over 500
lines, no class over 300."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "orchestrator"


def test_no_module_over_500_lines():
    big = [f"{p.relative_to(PACKAGE)} ({n})" for p in PACKAGE.rglob("*.py")
           if (n := p.read_text(encoding="utf-8").count("\n")) > 500]
    assert big == []


def test_no_class_over_300_lines():
    big = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and node.end_lineno - node.lineno + 1 > 300:
                big.append(f"{path.relative_to(PACKAGE)}: {node.name}")
    assert big == []
