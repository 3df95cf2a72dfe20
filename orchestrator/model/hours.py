"""Service hours and holidays (docs/inventory.md, "Service hours and holidays"): when
market data and CCNET flow, so that the steady-state gate and the measurements know
whether a flow check means anything now. Pure time arithmetic over the inventory.

A listed holiday that falls on a weekday is treated like a weekend: the service hours and
the change windows (model/windows.py) of Saturday and Sunday apply to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from orchestrator.model.text import Text

if TYPE_CHECKING:  # inventory.py holds these types' values: no import cycle at run time
    from orchestrator.model.inventory import ChangeWindow, Inventory

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKEND = ("sat", "sun")
# The flows service hours name: market data (TCP ticks) and CCNET (settlement transfers).
FLOWS = ("market_data", "settlement")
FLOW_OF_KIND = {"market_data": "market_data", "settlement": "settlement"}
# How far ahead `drill check` and `drill schedule` want the holiday calendar known: the
# next quarterly drill's (a calendar is published late in the year before).
CALENDAR_AHEAD = timedelta(days=92)


@dataclass(frozen=True)
class Holiday:
    day: date
    name: Text
    source: str  # the shipped file, or the inventory


@dataclass(frozen=True)
class ServiceHours:
    """When each flow is expected; an empty tuple for a flow means it never flows."""

    market_data: tuple[ChangeWindow, ...]
    settlement: tuple[ChangeWindow, ...]

    def of(self, flow: str) -> tuple[ChangeWindow, ...]:
        return self.market_data if flow == "market_data" else self.settlement


@dataclass(frozen=True)
class FlowHours:
    """Whether flows are expected at one moment, and why, as the gate reports it."""

    flowing: frozenset[str]  # the flows (FLOWS) expected now
    reason: str  # one line: why the others are not expected (empty when all are)
    forced: bool = False  # an exchange-organised test asked for flow checks

    def expects(self, kind: str) -> bool:
        flow = FLOW_OF_KIND.get(kind)
        return flow is None or flow in self.flowing


ALWAYS = FlowHours(frozenset(FLOWS), "")


def day_name(inventory: Inventory, day: date) -> str:
    """The day's name for windows and service hours: a listed holiday on a weekday is
    a weekend day (`sat`)."""
    name = DAYS[day.weekday()]
    if name not in WEEKEND and holiday_on(inventory, day) is not None:
        return "sat"
    return name


def day_names(inventory: Inventory, day: date) -> tuple[str, ...]:
    """The day names whose windows apply on `day`: a weekday holiday takes both weekend
    days' windows."""
    name = day_name(inventory, day)
    if name == "sat" and DAYS[day.weekday()] not in WEEKEND:
        return WEEKEND
    return (name,)


def holiday_on(inventory: Inventory, day: date) -> Holiday | None:
    for h in inventory.holidays:
        if h.day == day:
            return h
    return None


def uncovered_year(inventory: Inventory, day: date) -> int | None:
    """`day`'s year when no holiday of that year is known (neither the shipped calendar nor
    the inventory lists one; every year's Spring Festival closes weekdays): its weekday
    closures would then count as trading days. None when holidays cannot matter (a lab
    without service hours) or the year is covered."""
    if inventory.environment.is_lab and inventory.service_hours is None:
        return None
    if any(h.day.year == day.year for h in inventory.holidays):
        return None
    return day.year


def uncovered_years(inventory: Inventory, first: date, last: date) -> tuple[int, ...]:
    """The years from `first`'s to `last`'s that no holiday calendar covers (`uncovered_year`)."""
    return tuple(y for y in range(first.year, last.year + 1)
                 if uncovered_year(inventory, date(y, 1, 1)) is not None)


def calendar_gaps(inventory: Inventory, first: date, last: date) -> tuple[str, ...]:
    """One warning per year of `uncovered_years`, in drill's English (model/i18n_terminal.py
    translates it)."""
    return tuple(f"no holiday calendar for {y}: its weekday market closures would count as "
                 f"trading days (service hours, change windows); list them under "
                 f"`drill.service_hours.holidays`" for y in uncovered_years(inventory, first, last))


def flows_at(inventory: Inventory, when: datetime, force: bool = False) -> FlowHours:
    """Which flows are expected at `when` (aware). No service hours declared: every flow
    at all times (drill's behaviour before service hours existed). `force`: an
    exchange-organised test sends data outside the hours, so every flow is checked."""
    hours = inventory.service_hours
    if force:
        return FlowHours(frozenset(FLOWS), "", forced=True)
    if hours is None:
        return ALWAYS
    if when.tzinfo is None:
        raise ValueError("service hours need an aware datetime")
    tz = ZoneInfo(inventory.environment.timezone)
    local = when.astimezone(tz)
    flowing = frozenset(f for f in FLOWS if _inside(inventory, hours.of(f), local))
    if flowing == frozenset(FLOWS):
        return FlowHours(flowing, "")
    hol = holiday_on(inventory, local.date())
    when_text = f"{local:%Y-%m-%d %a %H:%M} {inventory.environment.timezone}"
    if hol is not None and DAYS[local.weekday()] not in WEEKEND:
        why = f"{when_text} is a holiday ({hol.name.en}, {hol.source})"
    else:
        why = f"{when_text} is outside the service hours"
    off = [f for f in FLOWS if f not in flowing]
    return FlowHours(flowing, f"{why}: no {' or '.join(_FLOW_TEXT[f] for f in off)} expected")


_FLOW_TEXT = {"market_data": "market data", "settlement": "CCNET transfer"}


def _inside(inventory: Inventory, windows: Iterable[ChangeWindow], local: datetime) -> bool:
    tz = local.tzinfo
    for n in (-1, 0):
        day = local.date() + timedelta(days=n)
        names = day_names(inventory, day)
        for w in windows:
            if not any(d in w.days for d in names):
                continue
            start = datetime.combine(day, _hm(w.start), tz)
            end_day = day + timedelta(days=1) if w.end == "24:00" or w.end <= w.start else day
            end = datetime.combine(end_day, time(0) if w.end == "24:00" else _hm(w.end), tz)
            if start <= local < end:
                return True
    return False


def _hm(text: str) -> time:
    h, m = text.split(":")
    return time(int(h), int(m))
