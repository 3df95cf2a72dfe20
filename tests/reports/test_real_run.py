"""Reports of a real `drill run carrier-outage` on a test lab (issue 4, "Done means").

One real run (real lab processes, real Ansible) whose lab inventory holds a password and a
token; then every artifact is checked: the reports exist and are sealed by run.end, their
numbers are the journal's, the zh PDF renders Chinese, and no file holds a secret.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml
from report_runs import require_tool

from orchestrator.cli import main
from orchestrator.journal.chain import first_bad_record, read_records
from orchestrator.lab.testing import make_lab_inventory, running_lab

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "Lab-Inv-Pa55w0rd-7f3e"
TOKEN = "tok-9c1d52e8a4b7"


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report-e2e")
    old = os.environ.get("DRILL_HOME")
    os.environ["DRILL_HOME"] = str(tmp / "home")
    try:
        inv = make_lab_inventory(tmp / "inv", gateways=5)
        doc = yaml.safe_load((inv / "hosts.yml").read_text(encoding="utf-8"))
        doc["all"]["vars"]["gateway_admin_password"] = PASSWORD
        doc["all"]["children"]["drill_control"]["hosts"]["lab"]["monitor_api_token"] = TOKEN
        (inv / "hosts.yml").write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True),
                                       encoding="utf-8")
        reports = tmp / "reports"
        with running_lab(inv, tmp / "home"):
            code = main(["run", "carrier-outage", "--project", str(REPO), "--inventory", str(inv),
                         "--reports", str(reports), "--lang", "zh", "--junit", str(tmp / "junit.xml")])
        runs = sorted(reports.glob("*/*/journal.jsonl"))
        assert runs, "no run folder"
        yield code, runs[-1].parent, tmp
    finally:
        if old is None:
            os.environ.pop("DRILL_HOME", None)
        else:
            os.environ["DRILL_HOME"] = old


@pytest.mark.slow(group="reports-e2e-sealed")
def test_real_run_reports_are_sealed_and_carry_the_journal_numbers(real_run):
    code, run_dir, tmp = real_run
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
    assert (tmp / "junit.xml").is_file()


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
    _, run_dir, tmp = real_run
    for fmt in ("md", "csv", "pdf"):
        assert main(["report", str(run_dir), "--format", fmt, "--lang", "zh",
                     "--out", str(tmp_path / f"r.{fmt}")]) == 0
    files = [p for p in run_dir.rglob("*") if p.is_file()]
    files += [tmp / "junit.xml", *tmp_path.iterdir()]
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
