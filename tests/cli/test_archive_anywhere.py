"""One archive (issue 20): `drill history` and `drill due` give the same answers from the
project root and from another folder, and name the archive they read; history shows
operator, parameters and verdict, and its trend counts only measured passed/failed runs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.cli._options import archive_dir
from orchestrator.journal.chain import Journal

REPO = Path(__file__).resolve().parents[2]


def _run(reports: Path, n: int, status: str, rto: float | None, operator: str) -> None:
    run_id = f"20260101T00000{n}Z-carrier-outage-abc{n}"
    j = Journal(reports / "2026" / run_id / "journal.jsonl", run_id)
    j.append("run.start", {
        "drill": {"id": "carrier-outage", "title": {"zh": "单运营商故障演练", "en": "Single-carrier outage"},
                  "cadence": "quarterly", "sha256": "0" * 64, "spec": ["R-NET-1"]},
        "inventory": {"path": "inventories/lab", "environment": "lab", "kind": "lab",
                      "timezone": "Asia/Shanghai", "sha256": "0" * 64},
        "operator": operator, "params": {"carrier": "CU", "mode": "blackhole"}})
    j.append("run.end", {"status": status, "exit_code": {"passed": 0, "failed": 1}.get(status, 3),
                         "summary": "", "artifacts": {},
                         "rto_s": {"trading": rto} if rto is not None else {}})
    j.close()


@pytest.fixture(name="project")
def project_fixture(tmp_path, monkeypatch):
    project = tmp_path / "proj"
    (project / "drills").mkdir(parents=True)
    (project / "playbooks").mkdir()
    shutil.copytree(REPO / "inventories" / "lab", project / "inventories" / "lab")
    shutil.copy(REPO / "drills" / "carrier-outage.yaml", project / "drills")
    _run(project / "reports", 1, "passed", 2.5, "alice")
    _run(project / "reports", 2, "aborted", 40.0, "bob")   # aborted: not in the trend
    _run(project / "reports", 3, "failed", 31.0, "carol")
    monkeypatch.setenv("DRILL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DRILL_PROJECT", str(project))
    return project


def _answers(capsys, folder: Path, monkeypatch) -> list[tuple[int, str, str]]:
    monkeypatch.chdir(folder)
    out = []
    # lab runs: listed and counted only when asked (issue 17)
    for args in (["history", "--include-test"], ["history", "--json", "--include-test"],
                 ["due", "--json", "--include-test"]):
        code = main(args)
        captured = capsys.readouterr()
        out.append((code, captured.out, captured.err))
    return out


def test_history_and_due_answer_the_same_from_any_folder_and_name_the_archive(
        project, tmp_path, capsys, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    at_root = _answers(capsys, project, monkeypatch)
    away = _answers(capsys, elsewhere, monkeypatch)
    assert at_root == away
    archive = str((project / "reports").resolve())
    for _code, _out, err in at_root:
        assert f"archive: {archive}" in err.splitlines()
    (hist, _e1), (hist_json, _e2), (due, _e3) = [(o, e) for _c, o, e in at_root]
    for who in ("alice", "bob", "carol"):
        assert who in hist
    assert "carrier=CU mode=blackhole" in hist and "verdict" in hist
    assert "last 2 measured passed/failed runs" in hist
    rows = json.loads(hist_json)
    assert [r["operator"] for r in rows] == ["alice", "bob", "carol"]
    due_rows = json.loads(due)
    assert [(r["drill"], r["status"], r["last_pass"]) for r in due_rows] == \
        [("carrier-outage", "done", "20260101T000001Z-carrier-outage-abc1")], due_rows


def test_without_a_project_the_archive_does_not_depend_on_the_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("DRILL_PROJECT", raising=False)
    monkeypatch.setenv("DRILL_HOME", str(tmp_path / "home"))
    seen = set()
    for folder in (tmp_path / "a", tmp_path / "b" / "c"):
        folder.mkdir(parents=True)
        monkeypatch.chdir(folder)
        seen.add(archive_dir(None, None, name_it=False))
    assert len(seen) == 1 and tmp_path not in next(iter(seen)).parents
