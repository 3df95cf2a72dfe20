"""One schema source: orchestrator/schemas/ (it ships in the wheel); schemas/ at the repo
root only republishes it for editors (`$schema=../schemas/drill.schema.json`)."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO / "orchestrator" / "schemas"
PUBLISHED = REPO / "schemas"


def test_published_schemas_are_the_package_ones():
    published = sorted(PUBLISHED.glob("*.json"))
    assert published, "schemas/ publishes no schema"
    for copy in published:
        source = SOURCE / copy.name
        assert source.is_file(), f"schemas/{copy.name} has no source in orchestrator/schemas/"
        assert copy.read_bytes() == source.read_bytes(), (
            f"schemas/{copy.name} differs from orchestrator/schemas/{copy.name}; "
            f"it must be a symlink to it (ln -sf ../orchestrator/schemas/{copy.name} schemas/)")
        assert copy.is_symlink() and copy.resolve() == source.resolve()


def test_every_drill_names_a_schema_that_exists():
    for drill in sorted((REPO / "drills").glob("*.yaml")):
        first = drill.read_text(encoding="utf-8").splitlines()[0]
        m = re.search(r"\$schema=(\S+)", first)
        assert m, f"{drill.name}: first line names no $schema"
        assert (drill.parent / m.group(1)).resolve() == (SOURCE / "drill.schema.json").resolve()
