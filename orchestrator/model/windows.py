"""Change windows (docs/inventory.md): when a production drill may run. Pure time arithmetic
over the inventory's windows, used by the engine's safety gate and by `drill schedule`.

Windows are local times in the environment's time zone. An `end` at or before `start`
wraps past midnight; `24:00` ends at midnight. The default is any time outside NEEQ/BSE
trading hours (weekdays 09:15–11:30 and 13:00–15:30). A listed holiday that falls on a
weekday is treated like a weekend: the windows of Saturday and Sunday apply to it
(model/hours.py; the shipped calendar and the inventory's own holidays).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from orchestrator.errors import InputError, Problem
from orchestrator.model.hours import day_names
from orchestrator.model.inventory import ChangeWindow, Inventory

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAYS = DAYS[:5]
DEFAULT_WINDOWS = (
    ChangeWindow(days=WEEKDAYS, start="00:00", end="09:15"),
    ChangeWindow(days=WEEKDAYS, start="11:30", end="13:00"),
    ChangeWindow(days=WEEKDAYS, start="15:30", end="24:00"),
    ChangeWindow(days=("sat", "sun"), start="00:00", end="24:00"),
)
_LOOKAHEAD_DAYS = 15


@dataclass(frozen=True)
class Span:
    start: datetime   # aware, environment time zone
    end: datetime

    def __contains__(self, when: datetime) -> bool:
        return self.start <= when < self.end


def windows_of(inv: Inventory) -> tuple[ChangeWindow, ...]:
    return inv.change_windows or DEFAULT_WINDOWS


def in_change_window(inventory: Inventory, when: datetime) -> bool:
    """Whether `when` (aware) falls inside one of the inventory's change windows."""
    local = _aware(when).astimezone(ZoneInfo(inventory.environment.timezone))
    return any(local in s for s in _spans(inventory, local.date() - timedelta(days=1), 2))


def next_window(inventory: Inventory, when: datetime) -> Span | None:
    """The window in force at `when`, else the next one to open (merged where they touch)."""
    local = _aware(when).astimezone(ZoneInfo(inventory.environment.timezone))
    spans = _merged(_spans(inventory, local.date() - timedelta(days=1), _LOOKAHEAD_DAYS))
    for s in spans:
        if s.end > local:
            return s
    return None


def _aware(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError("change windows need an aware datetime")
    return when


def _spans(inv: Inventory, first: date, days: int) -> list[Span]:
    tz = ZoneInfo(inv.environment.timezone)
    problems = validate(windows_of(inv), str(inv.path))
    if problems:
        raise InputError(problems)
    out = []
    for n in range(days + 1):
        day = first + timedelta(days=n)
        names = day_names(inv, day)
        for w in windows_of(inv):
            if not any(d in w.days for d in names):
                continue
            start = datetime.combine(day, _hm(w.start), tz)
            end_day = day + timedelta(days=1) if w.end == "24:00" or w.end <= w.start else day
            end = datetime.combine(end_day, time(0) if w.end == "24:00" else _hm(w.end), tz)
            out.append(Span(start, end))
    return sorted(out, key=lambda s: s.start)


def _merged(spans: Iterable[Span]) -> list[Span]:
    out: list[Span] = []
    for s in spans:
        if out and s.start <= out[-1].end:
            if s.end > out[-1].end:
                out[-1] = Span(out[-1].start, s.end)
        else:
            out.append(s)
    return out


def _hm(text: str) -> time:
    h, m = text.split(":")
    return time(int(h), int(m))


def validate(windows: Iterable[ChangeWindow], file: str) -> list[Problem]:
    problems = []
    for i, w in enumerate(windows):
        where = f"drill.change_windows[{i}]"
        bad_days = [d for d in w.days if d not in DAYS]
        if bad_days or not w.days:
            problems.append(Problem(file, None, f"{where}.days",
                                    f"expected days from {', '.join(DAYS)}; got {list(w.days)}"))
        for key in ("start", "end"):
            value = getattr(w, key)
            if not _valid_hm(value, allow_24=(key == "end")):
                problems.append(Problem(file, None, f"{where}.{key}",
                                        f"expected HH:MM (00:00–23:59{', or 24:00' if key == 'end' else ''}); "
                                        f"got {value!r}"))
    return problems


def _valid_hm(value: object, allow_24: bool) -> bool:
    if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
        return False
    if allow_24 and value == "24:00":
        return True
    try:
        h, m = int(value[:2]), int(value[3:])
    except ValueError:
        return False
    return 0 <= h < 24 and 0 <= m < 60
