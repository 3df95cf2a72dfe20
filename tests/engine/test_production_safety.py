"""A non-lab environment needs its exact name confirmed and, outside its change windows, a
recorded override; `--yes` never confirms it. Refusals write nothing (issue 6)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from orchestrator.cli import main
from orchestrator.config.inventory import load_inventory
from orchestrator.config.resolve import resolve
from orchestrator.config.scenario import find_drill
from orchestrator.engine.options import RunOptions
from orchestrator.engine.runner import Engine
from orchestrator.errors import RefusedError
from orchestrator.model.inventory import ChangeWindow

REPO = Path(__file__).resolve().parents[2]
PROD = REPO / "inventories" / "production.example"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("DRILL_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _run(tmp_path, *extra):
    return main(["run", "carrier-outage", "--project", str(REPO), "--inventory", str(PROD),
                 "--reports", str(tmp_path / "reports"), *extra])


def test_yes_alone_never_confirms_production(home, tmp_path, capsys):
    assert _run(tmp_path, "--yes", "--operator", "ops") == 4
    err = capsys.readouterr().err
    assert "--confirm-environment" in err and "--yes" in err
    assert not (tmp_path / "reports").exists()
    assert not (home / "locks").exists()


def test_a_wrong_environment_name_is_refused(home, tmp_path, capsys):
    assert _run(tmp_path, "--confirm-environment", "lab") == 4
    assert "is not a lab" in capsys.readouterr().err
    assert not (tmp_path / "reports").exists()


def test_outside_the_change_windows_production_is_refused_without_an_override(home, tmp_path):
    inv = load_inventory(PROD)
    today = datetime.now(ZoneInfo(inv.environment.timezone))
    other_day = DAYS[(today.weekday() + 3) % 7]
    inv = dataclasses.replace(inv, change_windows=(ChangeWindow((other_day,), "00:00", "24:00"),))
    resolved = resolve(find_drill(REPO / "drills", "carrier-outage"), inv)
    # an operator at a terminal (`ask`): the example notifies SSCC operations support first,
    # a manual step somebody answers (issue 17); the window is what this test is about
    opts = RunOptions(reports_dir=tmp_path / "reports", drill_home=home, project_root=REPO,
                      confirm_environment=inv.environment.name, ask=lambda _q: "operator")
    with pytest.raises(RefusedError, match="--override-window"):
        Engine(resolved, inv, opts).preflight()
    # With a recorded reason the window no longer refuses: the example declares the config
    # adapters (issue 15), so the run would go on ...
    Engine(resolved, inv, dataclasses.replace(opts, override_window="CR-1 emergency")).preflight()
    # ... unless a gateway declares none: issue 13's refusal, carrier-outage's failback would
    # rewrite a config drill cannot write.
    unwritable = dataclasses.replace(inv, gateways=tuple(
        dataclasses.replace(g, config_format=None, config_adapter=None) for g in inv.gateways))
    with pytest.raises(RefusedError, match="config drill cannot write"):
        Engine(resolve(find_drill(REPO / "drills", "carrier-outage"), unwritable), unwritable,
               dataclasses.replace(opts, override_window="CR-1 emergency")).preflight()
    assert not (tmp_path / "reports").exists()
