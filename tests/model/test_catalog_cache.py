"""`drill list` lists unchanged drill files from a validation cache: same listing, same
errors, and an edited, new or invalid file is always validated in full."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from model_support import DRILLS, drill_home  # noqa: F401 (fixture)

import orchestrator.config.scenario as scenario
from orchestrator.cli import main
from orchestrator.config.catalog import list_drills

LISTINGS = (["list"], ["list", "--lang", "zh"], ["list", "--json"])


@pytest.fixture
def project(tmp_path) -> Path:
    """A project of the shipped drills (list reads only drills/)."""
    root = tmp_path / "proj"
    shutil.copytree(DRILLS, root / "drills")
    (root / "playbooks").mkdir()
    (root / "inventories").mkdir()
    return root


def _drill(project: Path, capsys, *args: str) -> tuple[int, str, str]:
    code = main([*args, "--project", str(project)])
    out, err = capsys.readouterr()
    return code, out, err


def _cache_files() -> list[Path]:
    return sorted((Path(os.environ["DRILL_HOME"]) / "cache").glob("catalog-*.json"))


def _no_validation(monkeypatch) -> None:
    """From here on a full validation fails the test: the listing must come from the cache."""
    def refuse(path):
        raise AssertionError(f"{path} was validated again; expected a cache hit")
    monkeypatch.setattr(scenario, "load_drill", refuse)


def test_cached_listing_is_identical_to_a_fresh_one(project, capsys, monkeypatch):
    fresh = [_drill(project, capsys, *args) for args in LISTINGS]
    assert all(code == 0 for code, _, _ in fresh) and len(_cache_files()) == 1
    # The library's answer is the model's own, cache or not.
    expected = [(d.id, d.title.zh, d.title.en, d.spec, d.cadence, d.path)
                for d in scenario.load_drills(project / "drills")]
    cache_dir = Path(os.environ["DRILL_HOME"]) / "cache"
    assert [(e.id, e.title_zh, e.title_en, e.spec, e.cadence, e.path)
            for e in list_drills(project / "drills", None)] == expected
    _no_validation(monkeypatch)
    assert [_drill(project, capsys, *args) for args in LISTINGS] == fresh
    assert [(e.id, e.title_zh, e.title_en, e.spec, e.cadence, e.path)
            for e in list_drills(project / "drills", cache_dir)] == expected


def test_edited_drill_is_validated_again_and_its_error_shown(project, capsys):
    assert _drill(project, capsys, "list")[0] == 0
    path = project / "drills" / "single-line.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("cadence: quarterly",
                                                             "cadence: weekly"),
                    encoding="utf-8")
    code, out, err = _drill(project, capsys, "list")
    assert code == 2 and out == "" and "Traceback" not in err
    assert f"{path}:" in err and "cadence" in err
    # Exactly what a cold start (no cache) reports, and still so on the next call:
    # an invalid file is never cached.
    assert _drill(project, capsys, "list") == (code, out, err)
    shutil.rmtree(Path(os.environ["DRILL_HOME"]) / "cache")
    assert _drill(project, capsys, "list") == (code, out, err)


def test_edited_title_shows_at_once(project, capsys):
    assert _drill(project, capsys, "list")[0] == 0
    path = project / "drills" / "carrier-outage.yaml"
    text = path.read_text(encoding="utf-8")
    assert "Single-carrier outage" in text
    path.write_text(text.replace("Single-carrier outage", "One carrier down"), encoding="utf-8")
    code, out, _ = _drill(project, capsys, "list")
    assert code == 0 and "One carrier down" in out and "Single-carrier outage" not in out


def test_new_duplicate_is_reported_from_the_cache_as_without_it(project, capsys, monkeypatch):
    assert _drill(project, capsys, "list")[0] == 0
    shutil.copy(project / "drills" / "single-line.yaml", project / "drills" / "single-line.yml")
    cold = _drill(project, capsys, "list")
    assert cold[0] == 2 and "duplicate drill id; also in" in cold[2]
    _no_validation(monkeypatch)
    assert _drill(project, capsys, "list") == cold


@pytest.mark.parametrize("garbage", [b"{not json", b"\xff\xfe\x00", b"[1, 2]", b"",
                                     b'{"format": 1, "validator": "x", "drills": []}'])
def test_corrupt_cache_is_ignored_and_rewritten(project, capsys, garbage):
    fresh = _drill(project, capsys, "list", "--json")
    (cache,) = _cache_files()
    cache.write_bytes(garbage)
    assert _drill(project, capsys, "list", "--json") == fresh
    assert json.loads(cache.read_text(encoding="utf-8"))["drills"]


def test_tampered_entry_is_not_trusted(project, capsys):
    """A cache entry with the right hash but the wrong shape is validated afresh."""
    fresh = _drill(project, capsys, "list")
    (cache,) = _cache_files()
    data = json.loads(cache.read_text(encoding="utf-8"))
    data["drills"]["single-line.yaml"]["spec"] = "R-NET-1"
    data["drills"]["carrier-outage.yaml"]["title"] = None
    cache.write_text(json.dumps(data), encoding="utf-8")
    assert _drill(project, capsys, "list") == fresh


def test_another_validator_voids_the_cache(project, capsys, monkeypatch):
    fresh = _drill(project, capsys, "list")
    (cache,) = _cache_files()
    data = json.loads(cache.read_text(encoding="utf-8"))
    data["validator"] = "0" * 64  # as after an upgrade of drill, its schema or jsonschema
    cache.write_text(json.dumps(data), encoding="utf-8")
    validated: list[Path] = []
    real = scenario.load_drill
    monkeypatch.setattr(scenario, "load_drill", lambda p: validated.append(p) or real(p))
    assert _drill(project, capsys, "list") == fresh
    assert len(validated) == len(list((project / "drills").glob("*.yaml")))


def test_unwritable_cache_folder_does_not_break_list(project, capsys, monkeypatch, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "cache").write_text("a file where the cache folder should be", encoding="utf-8")
    monkeypatch.setenv("DRILL_HOME", str(home))
    code, out, err = _drill(project, capsys, "list")
    assert code == 0 and "carrier-outage" in out and err == ""
