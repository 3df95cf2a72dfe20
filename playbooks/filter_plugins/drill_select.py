"""Filters for drill's playbooks: selection by id in linear time.

Jinja's `selectattr('id', 'in', ids)` tests each item against a list, so selecting
2,000 gateways by id costs 4 million comparisons (seconds of CPU per reference under
ansible-core's data tagging); these use a set.
"""

from __future__ import annotations


def drill_pick(items, ids, key="id"):
    """The items whose `key` is in `ids`, in the items' own order."""
    wanted = set(ids or ())
    return [item for item in items or () if item.get(key) in wanted]


def drill_monitored(items):
    """The gateways (or repoint plan items, `{gateway: …}`) drill watches through a monitor:
    `observe: host` ones have none to ask; drill reads their own log (docs/observers.md)."""
    def observe(item):
        gateway = item.get("gateway") if isinstance(item.get("gateway"), dict) else item
        return gateway.get("observe") or "monitor"

    return [item for item in items or () if observe(item) != "host"]


def drill_of_driver(items, driver, default_driver):
    """The items (gateways or lines) acted on through `driver`: their own `driver`, else
    the inventory's default. One pass: a zip/selectattr chain costs seconds on 2,000."""
    return [item for item in items or () if (item.get("driver") or default_driver) == driver]


def drill_drivers(items, default_driver):
    """The drivers the items use, each once, in the order first used."""
    out: list = []
    for item in items or ():
        driver = item.get("driver") or default_driver
        if driver not in out:
            out.append(driver)
    return out


class FilterModule:
    def filters(self):
        return {"drill_pick": drill_pick, "drill_monitored": drill_monitored,
                "drill_of_driver": drill_of_driver, "drill_drivers": drill_drivers}
