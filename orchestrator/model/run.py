"""A run's outcome as every reader names it: status and exit code (docs/journal.md, run.end),
and the four states of an objective (docs/reports.md)."""

from __future__ import annotations

from collections.abc import Iterable

STATUSES = ("passed", "failed", "inconclusive", "aborted", "refused")

# `drill run`'s exit code for each status (run.end.exit_code; docs/exit-codes.md).
EXIT_CODES = {"passed": 0, "failed": 1, "aborted": 3, "refused": 4, "inconclusive": 5}

# An objective is passed or failed only on a measurement; otherwise it is not applicable
# (known before the run: nothing the drill does can touch it) or not tested (it should
# have been measured and was not).
PASSED, FAILED, NOT_APPLICABLE, NOT_TESTED = "passed", "failed", "not_applicable", "not_tested"
OBJECTIVE_STATES = (PASSED, FAILED, NOT_APPLICABLE, NOT_TESTED)


def exit_code_of(status: str) -> int | None:
    return EXIT_CODES.get(status)


def objective_state(state: str | None, passed: bool | None) -> str:
    """An objective's state; a record written before the states existed has only `passed`."""
    if state in OBJECTIVE_STATES:
        return str(state)
    return PASSED if passed else FAILED


def verdict_of(states: Iterable[str]) -> str:
    """The run's verdict from its objectives alone: failed when any failed, else
    inconclusive when any was not tested, else passed (not applicable changes nothing)."""
    seen = set(states)
    if FAILED in seen:
        return "failed"
    if NOT_TESTED in seen:
        return "inconclusive"
    return "passed"


def state_counts(states: Iterable[str]) -> dict[str, int]:
    """How many objectives are in each state, in the order of OBJECTIVE_STATES."""
    out = dict.fromkeys(OBJECTIVE_STATES, 0)
    for s in states:
        out[s] = out.get(s, 0) + 1
    return out


def verdict_line(status: str, states: Iterable[str]) -> str:
    """The run's one-line verdict (first line of the report, last in the terminal):
    `INCONCLUSIVE: 3 passed, 0 failed, 2 not applicable, 1 not tested`."""
    c = state_counts(states)
    return (f"{status.upper()}: {c[PASSED]} passed, {c[FAILED]} failed, "
            f"{c[NOT_APPLICABLE]} not applicable, {c[NOT_TESTED]} not tested")
