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
    stray = [i.nodeid for i in items
             if i.get_closest_marker("netns") and not i.nodeid.startswith("tests/hostbed/")]
    if stray:  # the scheduler below keeps the bed on one worker by its folder
        raise pytest.UsageError("netns tests must live under tests/hostbed/: " + ", ".join(stray))
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


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """Two workers (-n 2 in pyproject.toml), each taking a whole test file at a time, and
    every test of the netns bed (tests/hostbed/, where every `netns` test lives) on one.

    Beds can coexist (own prefix and management net each), but two at once beside the lab
    tests on 2 cores made a clock-skew test fail; one worker keeps the bed's load what it was
    when its timings were set. The largest unit goes first (xdist's loadscope reorder), so
    the bed starts at once instead of finishing alone. A whole file per worker: a module's
    lab or bed fixture starts once, not once per worker. (xdist's own `xdist_group` marker
    is not used: with pytest 9.2 it no longer renames the node ids it groups by.)
    """
    from xdist.scheduler import LoadScopeScheduling

    class BedOnOneWorker(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return "tests/hostbed/" if path.startswith("tests/hostbed/") else path

    return BedOnOneWorker(config, log)
