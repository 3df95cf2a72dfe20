"""docs/architecture.md names every module of orchestrator/, and no module that is gone."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "orchestrator"
DOC = REPO / "docs" / "architecture.md"


def _modules() -> list[str]:
    """Every module, as its path relative to orchestrator/ (`engine/core.py`)."""
    return sorted(p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")
                  if "__pycache__" not in p.parts)


def _named(text: str) -> set[str]:
    """Module paths the page names in backticks (`lab/gateway.py`, `orchestrator/errors.py`)."""
    return {m.removeprefix("orchestrator/") for m in re.findall(r"`([\w/]+\.py)`", text)}


def test_every_module_is_named():
    named = _named(DOC.read_text(encoding="utf-8"))
    missing = [m for m in _modules() if m not in named]
    assert not missing, f"docs/architecture.md does not name: {', '.join(missing)}"


def test_every_named_module_exists():
    text = DOC.read_text(encoding="utf-8")
    # Paths of other trees (tests/..., cli names like `drill run`) are not module names.
    modules = set(_modules())
    stale = sorted(m for m in _named(text) if not m.startswith("tests/") and m not in modules)
    assert not stale, f"docs/architecture.md names modules that do not exist: {', '.join(stale)}"


def test_every_package_has_a_layer():
    """Each subpackage of orchestrator/ appears in the Layers table."""
    text = DOC.read_text(encoding="utf-8")
    layers = text.split("## Layers", 1)[1].split("## Modules", 1)[0]
    packages = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists())
    missing = [p for p in packages if f"`{p}/`" not in layers]
    assert not missing, f"no layer for: {', '.join(missing)}"
