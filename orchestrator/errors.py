"""Exceptions the library raises; each carries the exit code the CLI maps it to."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1
    BAD_INPUT = 2
    ABORTED = 3
    REFUSED = 4
    INCONCLUSIVE = 5


@dataclass(frozen=True)
class Problem:
    """One input problem, printed as `file:line: field: message`."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.message}"


class DrillError(Exception):
    """Base of every error drill raises on purpose."""

    exit_code = ExitCode.FAILED


class InputError(DrillError):
    """Bad input: every problem found, not just the first."""

    exit_code = ExitCode.BAD_INPUT

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, str):
            problems = [Problem("", None, "", problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class RefusedError(DrillError):
    """Refused to start: lock held, unfinished run, failed gate, unconfirmed production."""

    exit_code = ExitCode.REFUSED


class AbortedError(DrillError):
    """The run was aborted; restore ran."""

    exit_code = ExitCode.ABORTED


class ObjectiveFailed(DrillError):
    """An objective or check failed."""

    exit_code = ExitCode.FAILED
