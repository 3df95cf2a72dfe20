"""Reports of a real `drill run carrier-outage` on a test lab (issue 4, "Done means").

One real run (real lab processes, real Ansible; the session's, tests/lab_run_fixture.py) whose
lab inventory holds a password and a token; then every artifact is checked: the reports
exist and are sealed by run.end, their numbers are the journal's, the zh PDF renders
Chinese, and no file holds a secret.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import subprocess

import pytest
from lab_run_fixture import PASSWORD, TOKEN, drill_home
from report_runs import require_tool

from orchestrator.cli import main
from orchestrator.journal.chain import first_bad_record, read_records


@pytest.fixture(scope="module")
def real_run(shared_lab_run, tmp_path_factory):
    """This module's copy of the session's lab run (tests/lab_run_fixture.py), and the JUnit
    file the run's --junit wrote."""
    tmp = tmp_path_factory.mktemp("report-e2e")
    run = shared_lab_run.copy(tmp)
    with drill_home(tmp / "home"):
        yield run.code, run.run_dir, run.junit


@pytest.mark.slow(group="reports-e2e-sealed")
def test_real_run_reports_are_sealed_and_carry_the_journal_numbers(real_run):
    code, run_dir, junit = real_run
    assert code == 0
    assert first_bad_record(run_dir / "journal.jsonl") is None
    records = list(read_records(run_dir / "journal.jsonl"))
    end = records[-1]
    assert end.kind == "run.end"
    for name in ("report.html", "report.json"):
        sha = hashlib.sha256((run_dir / name).read_bytes()).hexdigest()
        assert end.data["artifacts"][name] == sha
    report = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    assert report["status"] == "passed"
    digest = next(r.data["journal_digest"] for r in records if r.kind == "report.file")
    assert report["journal_digest"] == digest
    measures = [r.data for r in records if r.kind == "measure"]
    assert [(m["gateway"], m["interruption_s"], m["passed"]) for m in report["measures"]] == \
        [(m["gateway"], m["interruption_s"], m["passed"]) for m in measures]
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "<strong>通过</strong>" in html[:html.index("<h2")]
    assert 'class="timeline"' in html and 'id="per-gateway"' in html
    assert junit.is_file()


@pytest.mark.slow(group="reports-e2e-pdf")
def test_real_run_zh_pdf_renders_chinese(real_run, tmp_path):
    _, run_dir, _ = real_run
    pdffonts, pdftotext = require_tool("pdffonts"), require_tool("pdftotext")
    out = tmp_path / "r.pdf"
    assert main(["report", str(run_dir), "--format", "pdf", "--lang", "zh", "--out", str(out)]) == 0
    fonts = subprocess.run([pdffonts, str(out)], capture_output=True, text=True, check=True).stdout
    assert "CJK" in fonts
    first = subprocess.run([pdftotext, "-f", "1", "-l", "1", str(out), "-"], capture_output=True,
                           text=True, check=True).stdout
    assert "演练结论" in first and "通过" in first and "单运营商故障演练" in first


@pytest.mark.slow(group="reports-e2e-secrets")
def test_no_artifact_of_the_real_run_holds_an_inventory_secret(real_run, tmp_path):
    _, run_dir, junit = real_run
    for fmt in ("md", "csv", "pdf"):
        assert main(["report", str(run_dir), "--format", fmt, "--lang", "zh",
                     "--out", str(tmp_path / f"r.{fmt}")]) == 0
    files = [p for p in run_dir.rglob("*") if p.is_file()]
    files += [junit, *tmp_path.iterdir()]
    assert len(files) > 10
    leaks = []
    for path in files:
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
        if path.suffix == ".pdf":
            data = subprocess.run([require_tool("pdftotext"), str(path), "-"], capture_output=True,
                                  check=True).stdout
        leaks += [f"{path}: {s}" for s in (PASSWORD, TOKEN) if s.encode() in data]
    assert leaks == []
