"""Service hours and holidays from the inventory (`drill.service_hours`) and the holiday
calendar drill ships (`orchestrator/holidays/*.yaml`): the one reader of both
(docs/inventory.md, "Service hours and holidays"; the model is orchestrator.model.hours).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from orchestrator.errors import InputError, Problem
from orchestrator.model.hours import Holiday, ServiceHours
from orchestrator.model.inventory import ChangeWindow
from orchestrator.model.text import Text

HOLIDAY_DIR = Path(__file__).parents[1] / "holidays"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
# A flow the inventory's service_hours leaves out: the NEEQ/BSE trading sessions.
TRADING_SESSIONS = (
    ChangeWindow(days=WEEKDAYS, start="09:15", end="11:30"),
    ChangeWindow(days=WEEKDAYS, start="13:00", end="15:30"),
)


def service_hours_of(d: dict[str, Any]) -> ServiceHours | None:
    """The inventory's service hours (schema-valid `drill`), None when it declares none."""
    sh = d.get("service_hours")
    if not isinstance(sh, dict) or not (sh.get("market_data") is not None
                                        or sh.get("settlement") is not None):
        return None
    return ServiceHours(market_data=_ranges(sh.get("market_data")),
                        settlement=_ranges(sh.get("settlement")))


def holidays_of(d: dict[str, Any], inventory_file: str) -> tuple[Holiday, ...]:
    """The shipped calendar (unless `shipped_holidays: false`) and the inventory's own
    holidays; a date in both keeps the inventory's entry."""
    sh = d.get("service_hours") if isinstance(d.get("service_hours"), dict) else {}
    own = tuple(Holiday(_day(h["date"]), _text(h.get("name") or "holiday"), inventory_file)
                for h in sh.get("holidays") or ())
    shipped = shipped_holidays() if sh.get("shipped_holidays", True) else ()
    days = {h.day for h in own}
    return tuple(sorted((*own, *(h for h in shipped if h.day not in days)), key=lambda h: h.day))


def shipped_holidays(folder: Path = HOLIDAY_DIR) -> tuple[Holiday, ...]:
    """Every holiday of every shipped calendar file; a malformed file is an input error."""
    from orchestrator.config.yamlsrc import load_yaml

    out: list[Holiday] = []
    for path in sorted(folder.glob("*.yaml")):
        doc, lines = load_yaml(path)
        items = doc.get("holidays") if isinstance(doc, dict) else None
        if not isinstance(items, list):
            raise InputError(Problem(str(path), None, "holidays", "expected a list of {date, name}"))
        for i, h in enumerate(items):
            try:
                out.append(Holiday(_day(h["date"]), _text(h.get("name") or "holiday"),
                                   f"{path.name}: {doc.get('source', 'no source stated')}"))
            except (KeyError, TypeError, ValueError):
                raise InputError(lines.problem(("holidays", i), "expected {date: YYYY-MM-DD, name: …}",
                                               field=f"holidays[{i}]")) from None
    return tuple(out)


def date_problems(d: dict[str, Any], lines, base) -> list[Problem]:
    """A holiday date the schema's pattern lets through but no calendar has."""
    sh = d.get("service_hours")
    out = []
    if isinstance(sh, dict) and isinstance(sh.get("holidays"), list):
        for i, h in enumerate(sh["holidays"]):
            value = h.get("date") if isinstance(h, dict) else None
            if isinstance(value, str):
                try:
                    date.fromisoformat(value)
                except ValueError:
                    out.append(lines.problem((*base, "service_hours", "holidays", i, "date"),
                                             f"expected a calendar date YYYY-MM-DD, got {value!r}",
                                             field=f"drill.service_hours.holidays[{i}].date"))
    return out


def _ranges(value: Any) -> tuple[ChangeWindow, ...]:
    if value is None:
        return TRADING_SESSIONS
    return tuple(ChangeWindow(days=tuple(w["days"]), start=w["start"], end=w["end"]) for w in value)


def _day(value: Any) -> date:
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _text(v: Any) -> Text:
    if isinstance(v, dict):
        return Text(zh=str(v.get("zh", v.get("en", ""))), en=str(v.get("en", v.get("zh", ""))))
    return Text(zh=str(v), en=str(v))
