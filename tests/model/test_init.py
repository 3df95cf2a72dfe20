"""`drill init DIR` scaffolds a project `drill validate` accepts; the package ships it."""

from __future__ import annotations

import configparser
import glob
from pathlib import Path

from model_support import REPO, drill_home  # noqa: F401 (fixture)

from orchestrator.cli import main


def test_init_creates_a_project_validate_accepts(tmp_path, capsys, monkeypatch):
    dest = tmp_path / "firm"
    assert main(["init", str(dest)]) == 0
    for folder in ("drills", "playbooks", "inventories"):
        assert (dest / folder).is_dir()
    assert (dest / "drills" / "carrier-outage.yaml").is_file()
    monkeypatch.chdir(dest)  # found from the current folder, no --project
    assert main(["validate"]) == 0
    out = capsys.readouterr().out
    assert str(dest / "drills" / "single-line.yaml") in out or "single-line" in out
    assert main(["list"]) == 0
    assert "beijing-cutover" in capsys.readouterr().out


def test_init_refuses_a_non_empty_folder(tmp_path, capsys):
    dest = tmp_path / "busy"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine", encoding="utf-8")
    assert main(["init", str(dest)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert sorted(p.name for p in dest.iterdir()) == ["notes.txt"]


def test_every_shipped_project_file_is_installed_as_data():
    """A non-editable `pip install` must carry drills/, playbooks/, inventories/."""
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "setup.cfg")
    shipped: set[Path] = set()
    for target, patterns in cfg["options.data_files"].items():
        assert target.startswith("share/drill-orchestrator")
        for pattern in patterns.split():
            shipped |= {Path(p) for p in glob.glob(pattern, root_dir=REPO)}
    tracked = {p.relative_to(REPO) for folder in ("drills", "playbooks", "inventories")
               for p in (REPO / folder).rglob("*")
               if p.is_file() and "__pycache__" not in p.parts and not p.name.startswith(".")}
    assert tracked - shipped == set()


def test_init_into_an_existing_empty_folder(tmp_path):
    dest = tmp_path / "empty"
    dest.mkdir()
    assert main(["init", str(dest)]) == 0
    assert (dest / "inventories" / "lab" / "hosts.yml").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["empty"]  # no staging folder left behind
