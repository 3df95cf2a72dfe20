"""`schema_problems` asks jsonschema-rs "valid?" first and lists problems with jsonschema
only when it says no. So a document jsonschema-rs passes must be one jsonschema passes
too, on every schema drill ships: checked on the shipped files, on seeded mutations of
them, and on every `pattern` with text the two regex dialects could read differently."""

from __future__ import annotations

import copy
import random
import re
from pathlib import Path

import jsonschema_rs
import pytest
import yaml
from jsonschema import Draft202012Validator

from orchestrator.config.yamlsrc import load_schema, schema_problems
from orchestrator.model.source import Lines

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = sorted(p.name for p in (REPO / "orchestrator" / "schemas").glob("*.json"))


def _documents() -> dict[str, list[object]]:
    def read(path: str) -> object:
        return yaml.safe_load((REPO / path).read_text(encoding="utf-8"))

    inventories = [read("inventories/lab/hosts.yml")["all"]["vars"]["drill"],
                   read("inventories/sscc-test.example/hosts.yml")["all"]["vars"]["drill"],
                   read("inventories/production.example/group_vars/all/drill.yml")["drill"]]
    return {
        "inventory.schema.json": inventories,
        "drill.schema.json": [yaml.safe_load(p.read_text(encoding="utf-8"))
                              for p in sorted((REPO / "drills").glob("*.yaml"))],
        "profile.schema.json": [read("profiles/lab-gateway.yaml"),
                                read("tests/hostbed/vendorgw/profile.yaml")],
        "config_adapter.schema.json": [read("adapters/sscc-ini.yaml")],
    }


DOCUMENTS = _documents()
ODD_VALUES = [None, True, 0, -1, 1.5, 10**20, "", " ", "x", "a\n", [], [None], {}, {"x": 1}]


def _paths(value: object, path: tuple = ()) -> list[tuple]:
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*path, i))
    return out


def _mutate(doc: object, rng: random.Random) -> object:
    """One change at a random place: a value replaced, a key dropped or added, a list
    emptied or an item doubled."""
    doc = copy.deepcopy(doc)
    path = rng.choice(_paths(doc)[1:])
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    key, how = path[-1], rng.randrange(4)
    if how == 0 and isinstance(parent, dict):
        del parent[key]
    elif how == 1 and isinstance(parent, dict):
        parent[rng.choice(["extra", "id", "driver", "x_y"])] = rng.choice(ODD_VALUES)
    elif how == 2 and isinstance(parent[key], list):
        parent[key] = parent[key][:0] if rng.random() < 0.5 else parent[key] + parent[key][:1]
    else:
        parent[key] = rng.choice(ODD_VALUES)
    return doc


def _agree(schema: dict, doc: object) -> tuple[bool, bool]:
    fast = jsonschema_rs.Draft202012Validator(schema).is_valid(doc)
    full = not any(Draft202012Validator(schema).iter_errors(doc))
    return fast, full


@pytest.mark.parametrize("name", SCHEMAS)
def test_the_shipped_files_are_valid_to_both(name):
    schema = load_schema(name)
    assert DOCUMENTS[name], f"no shipped file is checked against {name}"
    for doc in DOCUMENTS[name]:
        assert _agree(schema, doc) == (True, True)


@pytest.mark.parametrize("name", SCHEMAS)
def test_a_mutated_file_jsonschema_rs_passes_jsonschema_passes_too(name):
    schema, rng = load_schema(name), random.Random(f"schema-fast-{name}")
    verdicts = []
    for i in range(150):
        doc = _mutate(rng.choice(DOCUMENTS[name]), rng)
        fast, full = _agree(schema, doc)
        assert full or not fast, f"mutation {i}: jsonschema-rs passes what jsonschema refuses"
        verdicts.append(full)
    assert not all(verdicts), "no mutation was invalid: the check proves nothing"


def _patterns(node: object) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        if isinstance(node.get("pattern"), str):
            found.add(node["pattern"])
        for v in node.values():
            found |= _patterns(v)
    elif isinstance(node, list):
        for v in node:
            found |= _patterns(v)
    return found


# Where regex dialects differ: Unicode digits, letters and marks for \d and \w, Unicode
# and ASCII-control spaces for \s, a trailing newline for $.
ODD_CHARS = ["\u0661", "\uff11", "\u00e9", "e\u0301", "\u203f", "\ufeff", "\u00a0", "\u3000",
             "\x1c", "\u2028", "\n", "\t", "\r"]
SEEDS = ["a", "ab_c", "R-APP-5", "10s", " 5 ms ", "09:30", "24:00", "/var/log/x", "https://x",
         "{{ x }}", "2026-12-06", "{n}", "{address}", "drills/a.yml", "gw1", "@port"]


def test_every_pattern_passes_with_jsonschema_rs_only_what_python_re_passes():
    patterns = set().union(*(_patterns(load_schema(n)) for n in SCHEMAS))
    assert patterns
    for pattern in sorted(patterns):
        fast = jsonschema_rs.Draft202012Validator({"type": "string", "pattern": pattern})
        for seed in SEEDS:
            for odd in ODD_CHARS:
                for text in (odd + seed, seed[:1] + odd + seed[1:], seed + odd):
                    if fast.is_valid(text):
                        assert re.search(pattern, text), (pattern, text)


def test_an_invalid_document_is_still_explained_with_its_line():
    doc = copy.deepcopy(DOCUMENTS["inventory.schema.json"][0])
    doc["gateways"][0]["kind"] = 7
    lines = Lines("hosts.yml", {("gateways", 0, "kind"): 42})
    problems = schema_problems(doc, "inventory.schema.json", lines)
    assert [(p.line, p.field) for p in problems] == [(42, "gateways[0].kind")]
    assert problems[0].message.startswith("expected"), problems[0].message
