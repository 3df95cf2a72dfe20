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
    assert {"drill_pick", "drill_monitored", "drill_of_driver", "drill_drivers",
            "drill_repoint_plan"} <= set(names)


SERVICES = {c: {"trading": {"address": f"10.0.{n}.1", "port": 9000 + n}}
            for n, c in enumerate(("FT", "NF", "BJ"))}


def _plan(gateways, to="home", tmp=Path("/nonexistent")):
    return drill_select.drill_repoint_plan(gateways, to, ["BJ"], SERVICES, str(tmp), "lab")


def test_home_is_the_server_order_else_ft_first_for_an_even_last_digit():
    plan = _plan([{"id": "W000010T", "kind": "trading"}, {"id": "W000011T", "kind": "trading"},
                  {"id": "W000012T", "kind": "trading", "server_order": ["NF", "FT"], "driver": "linux"}])
    assert [[s["centre"] for s in p["servers"]] for p in plan] == [["FT", "NF"], ["NF", "FT"], ["NF", "FT"]]
    assert plan[0]["servers"][0] == {"centre": "FT", "address": "10.0.0.1", "port": 9000}
    assert [p["driver"] for p in plan] == ["lab", "lab", "linux"]
    assert plan[0]["adapter"] == {"config_format": "lab-xml", "config_locator": {}}


def test_beijing_is_the_dr_centres_for_every_gateway():
    plan = _plan([{"id": "W000010T", "kind": "trading", "server_order": ["NF", "FT"]}], to="BJ")
    assert plan[0]["servers"] == [{"centre": "BJ", "address": "10.0.2.1", "port": 9002}]


def test_a_named_adapter_is_read_from_the_project_and_never_from_outside_it(tmp_path):
    import pytest

    (tmp_path / "adapters").mkdir()
    (tmp_path / "adapters" / "vendor.yaml").write_text("config_format: ini\nconfig_locator: {section: s}\n")
    plan = _plan([{"id": "W000010T", "kind": "trading", "config_adapter": "vendor"}], tmp=tmp_path)
    assert plan[0]["adapter"] == {"config_format": "ini", "config_locator": {"section": "s"}}
    (tmp_path / "secret.yaml").write_text("a: 1\n")
    with pytest.raises(ValueError, match="config_adapter"):
        _plan([{"id": "W000010T", "kind": "trading", "config_adapter": "../secret"}], tmp=tmp_path)


def test_lab_server_lists_render_the_template_for_each_gateway_with_its_password():
    """drill_render.drill_lab_server_lists: what the linux driver writes for lab-xml gateways,
    one item per gateway, from playbooks/templates/server_list.xml.j2."""
    spec = importlib.util.spec_from_file_location("drill_render", PLUGIN.with_name("drill_render.py"))
    render = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(render)
    targets = [{"gateway": {"id": gid, "kind": "trading", "config": f"/srv/{gid}.xml",
                            "monitor": {"address": "127.0.0.1", "port": 9000 + i}},
                "servers": [{"centre": "NF", "address": "198.18.102.30", "port": 7043},
                            {"centre": "FT", "address": "198.18.101.30", "port": 7043}]}
               for i, gid in enumerate(("W000001T", "W000002T"))]
    timing = {"heartbeat_interval": 1, "heartbeat_timeout": 3, "reconnect_interval": 0.5}
    out = render.drill_lab_server_lists(targets, PLUGIN.parents[1] / "templates" / "server_list.xml.j2",
                                        timing, None, {"W000002T": "Pa55<&>"})
    assert [f["path"] for f in out] == ["/srv/W000001T.xml", "/srv/W000002T.xml"]
    first, second = (f["content"] for f in out)
    assert '<gateway id="W000001T" kind="trading">' in first and 'port="9000"' in first
    assert first.index('centre="NF"') < first.index('centre="FT"') and first.endswith("</gateway>\n")
    assert "credential" not in first and "<lab>" not in first
    assert '<credential user="W000002T" password="Pa55&lt;&amp;&gt;"/>' in second


def test_a_hosts_log_cuts_take_the_mark_only_of_the_same_path():
    gws = [{"id": "W1", "host": "gw"}, {"id": "W2", "host": "gw"}, {"id": "W3", "host": "gw2"}]
    marks = {"W1": {"path": "/l/W1.log", "inode": 7, "size": 100},
             "W2": {"path": "/old/W2.log", "inode": 8, "size": 5}}
    assert drill_select.drill_log_cuts(gws, "gw", "/l/{id}.log", marks) == [
        {"id": "W1", "path": "/l/W1.log", "inode": 7, "size": 100},
        {"id": "W2", "path": "/l/W2.log"}]  # marked elsewhere: cut as unmarked
    assert drill_select.drill_log_cuts(gws, "gw2", "/l/{id}.log", {}) == [{"id": "W3", "path": "/l/W3.log"}]
