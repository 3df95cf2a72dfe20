"""`drill prune`: never a run younger than a year, ages from journals, every deletion logged."""

from __future__ import annotations

import json
import os
from datetime import timedelta

import pytest
from compliance_helpers import LAB_INVENTORY, drill_home, utc, write_run  # noqa: F401 - drill_home: autouse fixture

from orchestrator.cli import main
from orchestrator.compliance.retention import PRUNE_LOG, prune
from orchestrator.errors import InputError
from orchestrator.journal.chain import first_bad_record, read_records

NOW = utc(2026, 11, 25, 12)


@pytest.fixture
def archive(tmp_path, monkeypatch):
    reports = tmp_path / "reports"
    runs = {
        "old": write_run(reports, "single-line", utc(2024, 10, 1), "passed", monkeypatch=monkeypatch),
        "13m": write_run(reports, "carrier-outage", utc(2025, 10, 20), "failed", monkeypatch=monkeypatch),
        "11m": write_run(reports, "centre-outage", utc(2025, 12, 25), "passed", monkeypatch=monkeypatch),
        "new": write_run(reports, "single-line", utc(2026, 11, 1), "passed", monkeypatch=monkeypatch),
        "unfinished": write_run(reports, "single-line", utc(2024, 5, 1), None, monkeypatch=monkeypatch),
    }
    # File times say "ancient"; only the journal's run.start counts.
    for folder in runs.values():
        for path in (folder, folder / "journal.jsonl"):
            os.utime(path, (0, 0))
    return reports, runs


@pytest.mark.parametrize("older_than", [timedelta(days=0), timedelta(days=30), timedelta(days=334),
                                        timedelta(days=364, hours=23)])
def test_short_older_than_is_refused_and_deletes_nothing(archive, older_than):
    reports, runs = archive
    with pytest.raises(InputError, match="--older-than"):
        prune(reports, older_than, 366, now=NOW)
    assert all(f.is_dir() for f in runs.values())
    assert not (reports / PRUNE_LOG).exists()


@pytest.mark.parametrize("retention_days", [0, 30, 365, 366])
@pytest.mark.parametrize("older_than_days", [365, 366, 400])
def test_eleven_month_old_run_survives_any_flags(archive, retention_days, older_than_days):
    reports, runs = archive
    prune(reports, timedelta(days=older_than_days), retention_days, now=NOW)
    assert runs["11m"].is_dir() and runs["new"].is_dir()
    assert not runs["old"].exists()


def test_unfinished_runs_are_kept(archive):
    reports, runs = archive
    result = prune(reports, timedelta(days=400), 366, now=NOW)
    assert runs["unfinished"].is_dir()
    kept = {d.run.run_id: d.reason for d in result.decisions if not d.delete}
    assert "unfinished" in kept[runs["unfinished"].name]


def test_longer_inventory_retention_is_honoured(archive):
    reports, runs = archive
    prune(reports, timedelta(days=366), 500, now=NOW)
    assert runs["13m"].is_dir()          # 401 days old < 500
    assert not runs["old"].exists()      # 785 days old


def test_every_deletion_is_logged_in_a_verifiable_chain(archive):
    reports, runs = archive
    prune(reports, timedelta(days=366), 366, now=NOW)
    log = reports / PRUNE_LOG
    assert first_bad_record(log) is None
    deleted = [r.data["run"] for r in read_records(log)]
    assert sorted(deleted) == sorted([runs["old"].name, runs["13m"].name])
    assert not runs["old"].exists() and not runs["13m"].exists()


def test_dry_run_deletes_and_logs_nothing(archive):
    reports, runs = archive
    result = prune(reports, timedelta(days=366), 366, now=NOW, dry_run=True)
    assert len(result.deleted) == 2
    assert all(f.is_dir() for f in runs.values())
    assert not (reports / PRUNE_LOG).exists()


def test_cli_refuses_short_durations_with_exit_2(archive, capsys):
    reports, runs = archive
    for value in ("30d", "11m", "0.9y", "48w"):
        code = main(["prune", "--older-than", value, "--reports", str(reports),
                     "--inventory", str(LAB_INVENTORY)])
        assert code == 2
        assert "--older-than" in capsys.readouterr().err
    assert all(f.is_dir() for f in runs.values())


def test_cli_uses_the_real_clock_and_keeps_recent_runs(archive, capsys):
    reports, runs = archive
    assert main(["prune", "--older-than", "1y", "--dry-run", "--json", "--reports", str(reports),
                 "--inventory", str(LAB_INVENTORY)]) == 0
    out = json.loads(capsys.readouterr().out)
    doomed = {r["run"] for r in out["runs"] if r["delete"]}
    assert runs["new"].name not in doomed and runs["unfinished"].name not in doomed
    assert runs["old"].name in doomed
