"""Helpers for compliance tests: lab-derived inventories and archived runs at chosen dates."""

from __future__ import annotations

import copy
import hashlib
import types
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

import orchestrator.journal.chain as journal_mod
from orchestrator.journal.chain import Journal

REPO = Path(__file__).resolve().parents[2]
LAB_INVENTORY = REPO / "inventories" / "lab"


@pytest.fixture(autouse=True)
def drill_home(tmp_path, monkeypatch):
    """Every compliance test gets its own DRILL_HOME (import this fixture into the module)."""
    home = tmp_path / "drill-home"
    home.mkdir()
    monkeypatch.setenv("DRILL_HOME", str(home))
    return home


def lab_doc() -> dict[str, Any]:
    return yaml.safe_load((LAB_INVENTORY / "hosts.yml").read_text(encoding="utf-8"))


def write_inventory(tmp_path: Path, mutate: Callable[[dict[str, Any]], None] | None = None,
                    name: str = "inv") -> Path:
    """A copy of the lab inventory, changed by `mutate(drill_vars)`, as tmp_path/name/hosts.yml."""
    doc = copy.deepcopy(lab_doc())
    if mutate:
        mutate(doc["all"]["vars"]["drill"])
    folder = tmp_path / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hosts.yml").write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False),
                                      encoding="utf-8")
    return folder


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def write_run(reports: Path, drill: str, started: datetime, status: str | None, *,
              environment: str = "lab", kind: str = "lab", year: int | None = None,
              records: list[tuple[str, dict[str, Any]]] = (), monkeypatch=None,
              start: dict[str, Any] | None = None) -> Path:
    """An archived run whose journal (orchestrator.journal.Journal) starts at `started`.

    The Journal writer stamps records with the wall clock; the test moves only that clock,
    through `monkeypatch` on the journal module, so the records are genuine. `start` adds to
    (or replaces keys of) the run.start data: params, plan, topology, rehearsal.
    """
    assert monkeypatch is not None
    ns = int(started.timestamp()) * 1_000_000_000
    clock = {"ns": ns}

    def time_ns() -> int:
        clock["ns"] += 1_000_000
        return clock["ns"]

    fake = types.SimpleNamespace(time_ns=time_ns, monotonic_ns=journal_mod.time.monotonic_ns)
    tag = hashlib.sha256(f"{drill}{ns}".encode()).hexdigest()[:6]
    run_id = f"{started.astimezone(UTC):%Y%m%dT%H%M%SZ}-{drill}-{tag}"
    folder = reports / f"{year or started.year}" / run_id
    with monkeypatch.context() as m:
        m.setattr(journal_mod, "time", fake)
        j = Journal(folder / "journal.jsonl", run_id)
        j.append("run.start", {
            "drill": {"id": drill, "title": {"zh": f"{drill} 演练", "en": f"{drill} drill"},
                      "cadence": "quarterly", "sha256": "0" * 64, "spec": ["R-NET-1"]},
            "inventory": {"path": "inventories/lab", "environment": environment, "kind": kind,
                          "timezone": "Asia/Shanghai", "sha256": "0" * 64},
            "operator": "tester", "params": {},
            **(start or {}),
        })
        for kind_, data in records:
            j.append(kind_, data)
        if status is not None:
            j.append("run.end", {"status": status, "exit_code": 0 if status == "passed" else 1,
                                 "summary": {}, "artifacts": {}})
        j.close()
    return folder
