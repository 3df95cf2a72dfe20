"""A run's outcome as every reader names it: status and exit code (docs/journal.md, run.end)."""

from __future__ import annotations

STATUSES = ("passed", "failed", "aborted", "refused")

# `drill run`'s exit code for each status (run.end.exit_code).
EXIT_CODES = {"passed": 0, "failed": 1, "aborted": 3, "refused": 4}


def exit_code_of(status: str) -> int | None:
    return EXIT_CODES.get(status)
