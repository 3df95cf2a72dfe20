"""Change windows: default = outside NEEQ/BSE trading hours; custom windows wrap midnight."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from compliance_helpers import drill_home, write_inventory  # noqa: F401 - drill_home: autouse fixture

from orchestrator.config.inventory import load_inventory
from orchestrator.errors import InputError
from orchestrator.model.windows import in_change_window, next_window

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def lab(tmp_path):
    return load_inventory(write_inventory(tmp_path))


@pytest.mark.parametrize(("local", "inside"), [
    ((2026, 11, 25, 9, 14), True),    # Wednesday before the open
    ((2026, 11, 25, 9, 15), False),
    ((2026, 11, 25, 11, 29), False),
    ((2026, 11, 25, 11, 30), True),   # lunch break
    ((2026, 11, 25, 13, 0), False),
    ((2026, 11, 25, 15, 29), False),
    ((2026, 11, 25, 15, 30), True),
    ((2026, 11, 28, 10, 0), True),    # Saturday
])
def test_default_windows_are_outside_trading_hours(lab, local, inside):
    assert in_change_window(lab, datetime(*local, tzinfo=SH)) is inside


def test_windows_use_the_inventory_time_zone(lab):
    # 02:00Z is 10:00 in Shanghai on a Wednesday: trading hours.
    assert not in_change_window(lab, datetime(2026, 11, 25, 2, 0, tzinfo=ZoneInfo("UTC")))


def test_custom_window_wraps_midnight(tmp_path):
    def mutate(d):
        d["environment"]["kind"] = "production"
        d["change_windows"] = [{"days": ["fri"], "start": "17:00", "end": "08:30"}]
    inv = load_inventory(write_inventory(tmp_path, mutate))
    assert in_change_window(inv, datetime(2026, 11, 27, 23, 0, tzinfo=SH))       # Fri night
    assert in_change_window(inv, datetime(2026, 11, 28, 8, 29, tzinfo=SH))       # Sat morning
    assert not in_change_window(inv, datetime(2026, 11, 28, 8, 30, tzinfo=SH))
    assert not in_change_window(inv, datetime(2026, 11, 26, 23, 0, tzinfo=SH))   # Thu night
    span = next_window(inv, datetime(2026, 11, 25, 12, 0, tzinfo=SH))
    assert span is not None
    assert span.start == datetime(2026, 11, 27, 17, 0, tzinfo=SH)
    assert span.end == datetime(2026, 11, 28, 8, 30, tzinfo=SH)


def test_next_window_merges_touching_windows(lab):
    span = next_window(lab, datetime(2026, 11, 27, 14, 0, tzinfo=SH))   # Friday afternoon session
    assert span is not None
    assert span.start == datetime(2026, 11, 27, 15, 30, tzinfo=SH)
    assert span.end == datetime(2026, 11, 30, 9, 15, tzinfo=SH)        # through the weekend
    inside = next_window(lab, datetime(2026, 11, 28, 10, 0, tzinfo=SH))
    assert inside is not None and inside.start <= datetime(2026, 11, 28, 10, 0, tzinfo=SH) < inside.end
    assert inside.end - inside.start > timedelta(days=2)


def test_bad_window_is_an_input_error(tmp_path):
    def mutate(d):
        d["change_windows"] = [{"days": ["fri", "someday"], "start": "25:00", "end": "08:30"}]
    with pytest.raises(InputError) as e:
        inv = load_inventory(write_inventory(tmp_path, mutate))
        in_change_window(inv, datetime(2026, 11, 27, 23, 0, tzinfo=SH))
    text = str(e.value)
    assert "change_windows[0].days" in text and "change_windows[0].start" in text
