"""Property tests (issue 6): generated and mutated drill files and inventories never make
the loaders fail with anything but `InputError`, the tool's own clear error."""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from model_support import DRILLS, LAB_INVENTORY, drill_home  # noqa: F401 (fixture)

from orchestrator.config.inventory import load_inventory
from orchestrator.config.resolve import resolve
from orchestrator.config.scenario import load_drill
from orchestrator.errors import InputError

SETTINGS = settings(max_examples=100, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
DRILL_TEXTS = {p.stem: p.read_text(encoding="utf-8") for p in sorted(DRILLS.glob("*.yaml"))}
INVENTORY_TEXT = (LAB_INVENTORY / "hosts.yml").read_text(encoding="utf-8")

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(["5s", "3d", "0ms", "1.5m", "ct-ft", "CT", "FT", "BJ", "home", "line.yml",
                     "{{ line }}", "{{ lines_of_carrier(carrier) }}", "{{ nope(", "{% for %}",
                     "{{ inventory.__class__ }}", "{{ 1/0 }}", "{{ gateways(kind=1) }}",
                     "all_restored", "no_new_loss", "tcp", "monitor", "log", "R-NET-1",
                     "quarterly", "blackhole", "on: yes", "&a [*a]", "!!python/object:os.system",
                     "- - -", "{", "]", "\t", "--- \n...", "é中文", "0x1F", "1e999"]),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.text(max_size=10) | st.sampled_from(
                                   ["id", "name", "playbook", "wait", "until", "for", "effect",
                                    "lines_down", "verify", "probe", "port", "type", "default"]),
                                   children, max_size=4)),
    max_leaves=12,
)
text_edits = st.lists(
    st.tuples(st.sampled_from(["delete", "insert", "replace", "dup_line", "drop_line", "indent"]),
              st.integers(0, 10**6), st.integers(0, 40),
              st.text(alphabet=st.sampled_from(list(":-[]{}&*!|>'\"#%@`, \n\tabc01{}é")), max_size=8)),
    min_size=1, max_size=4,
)


def _mutate_text(text: str, edits) -> str:
    for op, pos, length, insert in edits:
        lines = text.splitlines(keepends=True)
        if op in ("dup_line", "drop_line", "indent") and lines:
            i = pos % len(lines)
            if op == "dup_line":
                lines.insert(i, lines[i])
            elif op == "drop_line":
                del lines[i]
            else:
                lines[i] = " " * (length % 5) + lines[i]
            text = "".join(lines)
            continue
        pos = pos % (len(text) + 1)
        if op == "delete":
            text = text[:pos] + text[pos + length:]
        elif op == "insert":
            text = text[:pos] + insert + text[pos:]
        else:
            text = text[:pos] + insert + text[pos + len(insert):]
    return text


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*prefix, i))


def _mutate_tree(doc, choice: int, action: str, new):
    doc = copy.deepcopy(doc)
    paths = [p for p in _paths(doc) if p]
    path = paths[choice % len(paths)]
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    key = path[-1]
    if action == "delete":
        del parent[key]
    elif action == "replace":
        parent[key] = new
    elif action == "add" and isinstance(parent, dict):
        parent[f"{key}_x"] = new
    elif action == "add":
        parent.append(new)
    return doc


def _check(load, path: Path, text: str):
    path.write_text(text, encoding="utf-8")
    try:
        return load(path)
    except InputError as e:
        assert e.problems, "an InputError must name at least one problem"
        for problem in e.problems:
            assert str(problem) and "\n" not in str(problem)
        return None


@pytest.fixture(scope="module")
def workdir():
    with tempfile.TemporaryDirectory() as d:
        yield Path(d)


@pytest.fixture(scope="module")
def lab():
    return load_inventory(LAB_INVENTORY)


def _load_and_resolve(inv, overrides=None):
    def run(path: Path):
        drill = load_drill(path)
        return resolve(drill, inv, overrides or {})
    return run


@SETTINGS
@given(name=st.sampled_from(sorted(DRILL_TEXTS)), edits=text_edits)
def test_mutated_drill_text(workdir, lab, name, edits):
    _check(_load_and_resolve(lab), workdir / f"{name}.yaml", _mutate_text(DRILL_TEXTS[name], edits))


@SETTINGS
@given(name=st.sampled_from(sorted(DRILL_TEXTS)), choice=st.integers(0, 10**6),
       action=st.sampled_from(["delete", "replace", "add"]), new=values)
def test_mutated_drill_structure(workdir, lab, name, choice, action, new):
    doc = _mutate_tree(yaml.safe_load(DRILL_TEXTS[name]), choice, action, new)
    _check(_load_and_resolve(lab), workdir / f"{name}.yaml", yaml.safe_dump(doc, allow_unicode=True))


@SETTINGS
@given(doc=values)
def test_generated_drill_documents(workdir, lab, doc):
    _check(_load_and_resolve(lab), workdir / "generated.yaml", yaml.safe_dump(doc, allow_unicode=True))


@SETTINGS
@given(name=st.sampled_from(sorted(DRILL_TEXTS)),
       overrides=st.dictionaries(st.sampled_from(["line", "carrier", "centre", "mode", "hold", "dr",
                                                  "x"]),
                                 st.text(max_size=12) | st.sampled_from(["ct-ft", "CU", "NF", "5s",
                                                                         "shutdown", "{{ 1 }}"]),
                                 max_size=3))
def test_set_overrides(workdir, lab, name, overrides):
    path = workdir / f"{name}.yaml"
    _check(_load_and_resolve(lab, overrides), path, DRILL_TEXTS[name])


@SETTINGS
@given(edits=text_edits)
def test_mutated_inventory_text(workdir, edits):
    folder = workdir / "inv-text"
    folder.mkdir(exist_ok=True)
    _check(lambda p: load_inventory(p.parent), folder / "hosts.yml", _mutate_text(INVENTORY_TEXT, edits))


@SETTINGS
@given(choice=st.integers(0, 10**6), action=st.sampled_from(["delete", "replace", "add"]), new=values)
def test_mutated_inventory_structure(workdir, lab, choice, action, new):
    doc = _mutate_tree(yaml.safe_load(INVENTORY_TEXT), choice, action, new)
    folder = workdir / "inv-tree"
    folder.mkdir(exist_ok=True)
    inv = _check(lambda p: load_inventory(p.parent), folder / "hosts.yml",
                 yaml.safe_dump(doc, allow_unicode=True))
    if inv is not None:  # a still-valid inventory must also serve a shipped drill or say why
        drill = load_drill(DRILLS / f"{sorted(DRILL_TEXTS)[choice % len(DRILL_TEXTS)]}.yaml")
        try:
            resolve(drill, inv, {})
        except InputError as e:
            assert e.problems


@SETTINGS
@given(doc=values)
def test_generated_inventory_documents(workdir, doc):
    folder = workdir / "inv-gen"
    folder.mkdir(exist_ok=True)
    wrapped = {"all": {"vars": {"drill": doc}}}
    _check(lambda p: load_inventory(p.parent), folder / "hosts.yml", yaml.safe_dump(wrapped))
