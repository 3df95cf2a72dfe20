"""Suite-wide settings: the seeded sample of slow tests and the shared timing tolerance."""

from __future__ import annotations

import os
import random

import pytest
from hypothesis import settings
from lab_run_fixture import shared_lab_run  # noqa: F401 - the session's one lab run (fixture)
from support import TOLERANCE_S, in_ci, require_tool  # noqa: F401 - re-exported for older imports

# CI explores the same Hypothesis examples every run (a property that finds a new bug there
# would read as a flaky test); by hand each run explores new ones, as pytest-randomly seeds it.
settings.register_profile("ci", derandomize=True, database=None)
if in_ci():
    settings.load_profile("ci")

SAMPLE_SEED = int(os.environ.get("DRILL_SAMPLE_SEED", "20261125"))
SAMPLE_PER_GROUP = int(os.environ.get("DRILL_SAMPLE_PER_GROUP", "1"))


def pytest_report_header(config):
    return f"drill: slow-sample seed {SAMPLE_SEED}, {SAMPLE_PER_GROUP} per group (DRILL_SAMPLE_SEED)"


def pytest_collection_modifyitems(config, items):
    """Without -m, run every fast test plus a seeded sample of the slow ones.

    A slow test joins a group with @pytest.mark.slow(group="…"); the sample takes
    SAMPLE_PER_GROUP tests from each group. @pytest.mark.slow(sample=False): never sampled,
    run only with -m slow.
    """
    if config.option.markexpr:
        return
    groups: dict[str, list[pytest.Item]] = {}
    keep, drop = [], []
    for item in items:
        mark = item.get_closest_marker("slow")
        if mark is None:
            keep.append(item)
        elif mark.kwargs.get("sample") is False:  # only in the full matrix (-m slow)
            drop.append(item)
        else:
            groups.setdefault(mark.kwargs.get("group", item.nodeid), []).append(item)
    rng = random.Random(SAMPLE_SEED)
    for name in sorted(groups):
        members = sorted(groups[name], key=lambda i: i.nodeid)
        chosen = set(rng.sample(range(len(members)), min(SAMPLE_PER_GROUP, len(members))))
        for idx, item in enumerate(members):
            (keep if idx in chosen else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
