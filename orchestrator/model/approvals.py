"""Standing approvals: what lets a scheduled production run start with nobody at the
terminal (`drill schedule`, `drill run --standing-approval CHANGE`; docs/compliance.md).

An approval is recorded in the inventory (`drill.standing_approvals`): the change
reference, its approver, the last day it is valid, the drills it covers and, for drills
whose manual step records one, the SSCC notification reference. It stands in for the
production confirmation and for a manual step that only records a reference
(`reference: sscc_notification`); never for a step that needs a live confirmation.
Pure: the caller gives today's date.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

# What a manual step may record, and the approval field that supplies it.
REFERENCES = {"sscc_notification": "SSCC notification"}


@dataclass(frozen=True)
class StandingApproval:
    change: str
    approver: str
    valid_until: str  # YYYY-MM-DD, the last day it is valid (environment's time zone)
    drills: tuple[str, ...] = ()  # () = every drill
    sscc_notification: str | None = None

    def covers(self, drill_id: str) -> bool:
        return not self.drills or drill_id in self.drills

    def expired(self, today: date) -> bool:
        return today > date.fromisoformat(self.valid_until)

    def reference(self, name: str) -> str | None:
        return self.sscc_notification if name == "sscc_notification" else None

    def to_record(self) -> dict[str, object]:
        return {"change": self.change, "approver": self.approver,
                "valid_until": self.valid_until, "drills": list(self.drills),
                "sscc_notification": self.sscc_notification}


@dataclass(frozen=True)
class ManualStep:
    """A manual step as the approval rules see it."""

    label: str  # "precheck[0] Confirm SSCC agreed …"
    reference: str | None  # what it records; None: it needs a live confirmation


def live_confirmations(steps: Iterable[ManualStep]) -> list[str]:
    """Manual steps that need a person at the time: never scheduled."""
    return [s.label for s in steps if s.reference is None]


def approval_problem(approvals: Iterable[StandingApproval], change: str | None, drill_id: str,
                     steps: Iterable[ManualStep], today: date) -> tuple[StandingApproval | None, str | None]:
    """The approval `change` names and why it cannot start `drill_id` today (None: it can).
    With `change` None: the first approval that could, else why none can."""
    steps = list(steps)
    live = live_confirmations(steps)
    if live:
        return None, (f"{drill_id} has a step that needs a live confirmation ({live[0]}); "
                      f"a standing approval never stands in for one")
    candidates = [a for a in approvals if change is None or a.change == change]
    if not candidates:
        return None, (f"no standing approval {change!r} in the inventory (drill.standing_approvals)"
                      if change else "no standing approval in the inventory (drill.standing_approvals)")
    why = ""
    for a in candidates:
        if not a.covers(drill_id):
            why = f"standing approval {a.change} does not cover {drill_id} (drills: {', '.join(a.drills)})"
        elif a.expired(today):
            why = f"standing approval {a.change} expired on {a.valid_until}"
        else:
            missing = [REFERENCES[s.reference] for s in steps
                       if s.reference is not None and not a.reference(s.reference)]
            if missing:
                why = (f"standing approval {a.change} records no {missing[0]} reference, which "
                       f"{drill_id} asks for")
            else:
                return a, None
    return None, why
