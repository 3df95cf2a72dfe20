"""Run folders sealed before the restructure (tests/fixtures/runs) still verify, and a
flipped byte still fails naming the file (docs/integrity.md)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from orchestrator.integrity.index import append_run
from orchestrator.integrity.verify import verify_run

FIXTURES = sorted((Path(__file__).parents[1] / "fixtures" / "runs" / "2026").iterdir())


def _copy(run: Path, tmp_path: Path) -> tuple[Path, Path]:
    reports = tmp_path / "reports"
    shutil.copytree(run, reports / "2026" / run.name)
    return reports, reports / "2026" / run.name


def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset % len(data)] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("run", FIXTURES, ids=lambda p: p.name)
def test_fixture_run_verifies_without_the_archive_index(run: Path) -> None:
    verdict = verify_run(run)
    assert verdict.ok, verdict.findings
    assert "archive index not checked (no archive folder given)" in verdict.notes
    assert verdict.final_digest is not None


@pytest.mark.parametrize("run", FIXTURES, ids=lambda p: p.name)
def test_fixture_run_verifies_against_an_index_of_its_own(run: Path, tmp_path: Path,
                                                          monkeypatch) -> None:
    monkeypatch.delenv("DRILL_SIGNING_KEY", raising=False)
    reports, copy = _copy(run, tmp_path)
    entry = append_run(reports, copy, sign=False)
    assert entry.status == "passed" and entry.signed_by is None
    verdict = verify_run(copy, reports)
    assert verdict.ok, verdict.findings


@pytest.mark.parametrize("target", ["journal.jsonl", "report.json", "report.html",
                                    "evidence/probes.jsonl.gz", "ansible/manifest.json",
                                    "ansible artifact"])
def test_a_flipped_byte_fails_naming_the_file(target: str, tmp_path: Path) -> None:
    _, copy = _copy(FIXTURES[0], tmp_path)
    if target == "ansible artifact":
        target = next(p for p in sorted((copy / "ansible").rglob("*"))
                      if p.is_file() and p.name != "manifest.json").relative_to(copy).as_posix()
    _flip(copy / target, 101)
    verdict = verify_run(copy)
    assert not verdict.ok
    first = verdict.findings[0]
    assert first.where == f"{copy.name}/{target}"
    if target == "journal.jsonl":
        assert first.line is not None and f"record {first.line}:" in first.message
    elif target.startswith("ansible/") and target != "ansible/manifest.json":
        assert "sha256 differs from ansible/manifest.json" in first.message
    else:
        assert "sha256 differs from journal record" in first.message
