"""Where a value came from: line numbers by JSON path, for `file:line: field` problems.

Filled by the YAML reader (orchestrator.config.yamlsrc); pure data, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from orchestrator.errors import Problem

PathKey = tuple[str | int, ...]


@dataclass(frozen=True)
class Lines:
    """Line numbers by JSON path; a missing path falls back to its nearest ancestor."""

    file: str
    by_path: dict[PathKey, int] = field(default_factory=dict)
    # Paths of Ansible Vault values (`!vault`): secrets that must never be copied out.
    secrets: list[PathKey] = field(default_factory=list)

    def line(self, path: Sequence[str | int]) -> int | None:
        key = tuple(path)
        while True:
            if key in self.by_path:
                return self.by_path[key]
            if not key:
                return None
            key = key[:-1]

    def problem(self, path: Sequence[str | int], message: str, field: str | None = None) -> Problem:
        return Problem(self.file, self.line(path), field if field is not None else dotted(path),
                       message)


def dotted(path: Sequence[str | int]) -> str:
    """`("phases", "fault", 0, "vars")` → `phases.fault[0].vars`; odd keys are quoted."""
    import json

    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not re.fullmatch(r"[\w-]+", str(part)):
            out += f"[{json.dumps(str(part), ensure_ascii=False)}]"
        else:
            out += f".{part}" if out else str(part)
    return out
