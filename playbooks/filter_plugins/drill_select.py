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


class FilterModule:
    def filters(self):
        return {"drill_pick": drill_pick}
