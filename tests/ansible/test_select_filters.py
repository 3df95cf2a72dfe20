"""The playbooks' selection filters (playbooks/filter_plugins/drill_select.py) pick what the
Jinja chains they replace picked: an item's own driver, else the default (None or empty
counts as unset), in the items' order."""

from __future__ import annotations

import importlib.util
from pathlib import Path

PLUGIN = Path(__file__).resolve().parents[2] / "playbooks" / "filter_plugins" / "drill_select.py"
spec = importlib.util.spec_from_file_location("drill_select", PLUGIN)
drill_select = importlib.util.module_from_spec(spec)
spec.loader.exec_module(drill_select)

ITEMS = [{"id": "a"}, {"id": "b", "driver": "linux"}, {"id": "c", "driver": None},
         {"id": "d", "driver": ""}, {"id": "e", "driver": "manual"}, {"id": "f", "driver": "linux"}]


def test_items_are_split_by_their_driver_or_the_default():
    assert [i["id"] for i in drill_select.drill_of_driver(ITEMS, "lab", "lab")] == ["a", "c", "d"]
    assert [i["id"] for i in drill_select.drill_of_driver(ITEMS, "linux", "lab")] == ["b", "f"]
    assert drill_select.drill_of_driver(None, "lab", "lab") == []


def test_each_driver_is_named_once_in_the_order_first_used():
    assert drill_select.drill_drivers(ITEMS, "lab") == ["lab", "linux", "manual"]
    assert drill_select.drill_drivers(ITEMS, "linux") == ["linux", "manual"]
    assert drill_select.drill_drivers([], "lab") == []


def test_every_filter_is_registered_for_ansible():
    names = drill_select.FilterModule().filters()
    assert {"drill_pick", "drill_monitored", "drill_of_driver", "drill_drivers"} <= set(names)
