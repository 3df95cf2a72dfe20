"""Confinement: a local path that an input file names stays under its root.

Every path drill reads or writes on behalf of an inventory or a drill has a root (see
docs/inventory.md and docs/drill-format.md): a lab gateway's `config` the lab's state
folder, a drill's playbook the project's `playbooks/`. A path that is absolute, climbs out
with `..`, or leads out through a symlink is refused (exit 2) with the field and the root.
Paths the user types on the command line are not confined.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from orchestrator.errors import InputError, Problem


def lexical_problem(value: str, root_name: str) -> str | None:
    """Why `value` leaves its root on its face (absolute, `~`, or climbing with `..`);
    None when it stays (symlinks are checked by `confined`, once the root exists)."""
    path = PurePosixPath(value)
    if not value or path.is_absolute() or value.startswith("~"):
        return f"expected a relative path under {root_name}, got {value!r}"
    depth = 0
    for part in path.parts:
        depth += -1 if part == ".." else (0 if part == "." else 1)
        if depth < 0:
            return f"expected a path under {root_name}; {value!r} climbs out of it"
    return None


def escapes(root: Path, value: str) -> Path | None:
    """Where `root / value` really leads (symlinks followed) when that is outside `root`;
    None when it stays under it."""
    base = Path(os.path.realpath(root))
    real = Path(os.path.realpath(Path(root) / value))
    return None if real == base or base in real.parents else real


def confined(root: Path, value: str, *, file: str, line: int | None, field: str,
             root_name: str | None = None) -> Path:
    """`root / value` when it stays under `root` (lexically and through symlinks), else
    `InputError` naming the file, the field and the root."""
    name = root_name or str(root)
    why = lexical_problem(value, name)
    if why is None:
        out = escapes(root, value)
        if out is not None:
            why = f"expected a path under {name}; {value!r} leads to {out} through a symlink"
    if why is not None:
        raise InputError(Problem(file, line, field, why))
    return Path(root) / value
