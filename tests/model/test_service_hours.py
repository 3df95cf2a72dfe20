"""Service hours and holidays (model/hours.py, config/hours.py): a listed weekday holiday is
treated like a weekend by the service hours and the change windows alike."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from orchestrator.config.hours import shipped_holidays
from orchestrator.config.inventory import load_inventory
from orchestrator.errors import InputError
from orchestrator.model.hours import FLOWS, flows_at
from orchestrator.model.windows import in_change_window, next_window

REPO = Path(__file__).resolve().parents[2]
SH = ZoneInfo("Asia/Shanghai")
NATIONAL_DAY = datetime(2026, 10, 1, 10, 0, tzinfo=SH)       # Thursday, listed holiday
ORDINARY_THURSDAY = datetime(2026, 10, 15, 10, 0, tzinfo=SH)
SATURDAY = datetime(2026, 10, 17, 10, 0, tzinfo=SH)
MAKEUP_SATURDAY = datetime(2026, 10, 10, 10, 0, tzinfo=SH)    # 调休上班: the exchange stays shut


def _inventory(tmp_path: Path, service_hours: dict | None) -> Path:
    doc = yaml.safe_load((REPO / "inventories" / "lab" / "hosts.yml").read_text(encoding="utf-8"))
    if service_hours is not None:
        doc["all"]["vars"]["drill"]["service_hours"] = service_hours
    path = tmp_path / "hosts.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


NEEQ = {"market_data": [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:15", "end": "11:30"},
                        {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "13:00", "end": "15:30"}],
        "settlement": [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "20:00"}]}


def test_the_shipped_calendar_lists_2026_weekday_holidays_only_and_states_its_source():
    days = {h.day for h in shipped_holidays()}
    assert date(2026, 10, 1) in days and date(2026, 2, 16) in days and date(2026, 1, 2) in days
    assert all(d.weekday() < 5 for d in days)  # weekends need no entry
    assert date(2026, 10, 10) not in days  # a make-up Saturday is no trading day either
    assert all("国务院办公厅" in h.source for h in shipped_holidays())


def test_a_weekday_holiday_is_outside_service_hours_and_inside_the_weekend_change_window(tmp_path):
    inv = load_inventory(_inventory(tmp_path, NEEQ))
    hol = flows_at(inv, NATIONAL_DAY)
    assert hol.flowing == frozenset() and "holiday" in hol.reason and "National Day" in hol.reason
    assert flows_at(inv, ORDINARY_THURSDAY).flowing == frozenset(FLOWS)
    assert flows_at(inv, SATURDAY).flowing == frozenset()
    assert "outside the service hours" in flows_at(inv, SATURDAY).reason
    assert flows_at(inv, MAKEUP_SATURDAY).flowing == frozenset()
    # the default change windows: any time on a weekend (and so on a holiday), never 10:00 on a weekday
    assert in_change_window(inv, NATIONAL_DAY) and in_change_window(inv, SATURDAY)
    assert not in_change_window(inv, ORDINARY_THURSDAY)
    # the National Day window runs from the weekend before it to the end of the holiday
    span = next_window(inv, NATIONAL_DAY)
    assert span.end == datetime(2026, 10, 8, 9, 15, tzinfo=SH)


def test_lunch_break_stops_market_data_only(tmp_path):
    inv = load_inventory(_inventory(tmp_path, NEEQ))
    lunch = flows_at(inv, datetime(2026, 10, 15, 12, 0, tzinfo=SH))
    assert lunch.flowing == frozenset({"settlement"})
    assert lunch.expects("trading") and lunch.expects("settlement") and not lunch.expects("market_data")
    assert "no market data expected" in lunch.reason


def test_no_service_hours_means_flows_always_and_flow_checks_force_them(tmp_path):
    inv = load_inventory(_inventory(tmp_path, None))
    assert flows_at(inv, NATIONAL_DAY).flowing == frozenset(FLOWS)
    inv = load_inventory(_inventory(tmp_path, NEEQ))
    forced = flows_at(inv, NATIONAL_DAY, force=True)
    assert forced.flowing == frozenset(FLOWS) and forced.forced


def test_the_firms_own_holiday_and_turning_the_shipped_calendar_off(tmp_path):
    own = {**NEEQ, "holidays": [{"date": "2026-10-15", "name": {"zh": "公司假日", "en": "firm holiday"}}],
           "shipped_holidays": False}
    inv = load_inventory(_inventory(tmp_path, own))
    assert not flows_at(inv, ORDINARY_THURSDAY).flowing and in_change_window(inv, ORDINARY_THURSDAY)
    assert flows_at(inv, NATIONAL_DAY).flowing == frozenset(FLOWS)  # shipped calendar not read
    assert not in_change_window(inv, NATIONAL_DAY)


def test_a_bad_holiday_date_is_one_line_with_file_and_field(tmp_path):
    bad = {**NEEQ, "holidays": [{"date": "2026-02-30"}, {"date": "1 Oct"}]}
    with pytest.raises(InputError) as e:
        load_inventory(_inventory(tmp_path, bad))
    text = str(e.value)
    assert "drill.service_hours.holidays[0].date" in text and "2026-02-30" in text
    assert "drill.service_hours.holidays[1].date" in text


def test_lab_up_off_hours_writes_the_lab_setting_into_the_effective_inventory(tmp_path):
    from orchestrator.lab.config import effective_inventory

    path = _inventory(tmp_path, None)
    assert effective_inventory(path, None, off_hours=True)["all"]["vars"]["drill"]["lab"]["off_hours"] is True
    assert "off_hours" not in effective_inventory(path, None)["all"]["vars"]["drill"]["lab"]


def test_plan_warns_of_a_year_no_holiday_calendar_covers(tmp_path):
    """The shipped calendar covers 2026: in 2027 a weekday closure would silently count as a
    trading day, so `drill plan` says so (in the plan's language) until the firm lists them."""
    from orchestrator.cli._console import plan_warning
    from orchestrator.engine.plan import plan

    inv = _inventory(tmp_path, NEEQ)
    shown = plan(REPO, "single-line", inv, {}, tmp_path / "home", ansible_check=False,
                 today=date(2027, 3, 1))
    (gap,) = [w for w in shown.warnings if "holiday calendar" in w]
    assert gap.startswith("no holiday calendar for 2027:")
    assert "没有 2027 年的节假日日历" in plan_warning(gap, "zh")
    assert not [w for w in plan(REPO, "single-line", inv, {}, tmp_path / "home", ansible_check=False,
                                today=date(2026, 3, 2)).warnings if "holiday calendar" in w]


def test_a_year_the_inventory_lists_closures_for_is_covered(tmp_path):
    from orchestrator.model.hours import uncovered_year

    own = {**NEEQ, "holidays": [{"date": "2027-02-08", "name": "春节"}]}
    assert uncovered_year(load_inventory(_inventory(tmp_path, own)), date(2027, 3, 1)) is None
    assert uncovered_year(load_inventory(_inventory(tmp_path, NEEQ)), date(2027, 3, 1)) == 2027
    # a lab without service hours expects every flow at all times: holidays cannot matter
    assert uncovered_year(load_inventory(REPO / "inventories" / "lab"), date(2027, 3, 1)) is None


def test_check_warns_a_quarter_ahead_of_a_year_no_holiday_calendar_covers(tmp_path):
    """In December the next quarter's drills fall in 2027, which no calendar covers yet:
    `drill check` says so beside its clauses (a warning, never a failed clause)."""
    from orchestrator.compliance.check import run_check

    inv = _inventory(tmp_path, NEEQ)
    december = run_check(inv, tmp_path / "home", live=False, today=date(2026, 12, 7))
    assert [w[:33] for w in december.warnings] == ["no holiday calendar for 2027: its"]
    assert december.to_json()["warnings"] == list(december.warnings)
    assert not run_check(inv, tmp_path / "home", live=False, today=date(2026, 6, 1)).warnings


def test_schedule_notes_a_year_its_units_run_in_that_no_holiday_calendar_covers(tmp_path):
    from orchestrator.compliance.schedule import plan_schedule
    from orchestrator.config.scenario import load_drills

    inv, drills = load_inventory(_inventory(tmp_path, NEEQ)), load_drills(REPO / "drills")
    notes = plan_schedule(inv, drills, date(2026, 12, 7)).notes
    (gap,) = [n for n in notes if "holiday calendar" in n.en]
    assert gap.en.startswith("no holiday calendar for 2027: runs scheduled that year")
    assert "没有 2027 年的节假日日历" in gap.text("zh")
    assert not [n for n in plan_schedule(inv, drills, date(2026, 6, 1)).notes if "holiday" in n.en]
