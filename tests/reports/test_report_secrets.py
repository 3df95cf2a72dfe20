"""No secret reaches a report. The end-to-end test (a Vault password in a lab inventory,
grep every artifact of a real run) belongs with the engine; this one shows the reports
take nothing but the journal: a secret left in the run folder does not reach them."""

from __future__ import annotations

import subprocess

from report_runs import SECRET, require_tool, write_run

from orchestrator.reports import render_report, write_junit


def test_no_report_holds_a_secret_lying_in_the_run_folder(tmp_path, drill_home):
    run = write_run(tmp_path / "reports", "aborted", finish=False)
    planted = run.run_dir / "ansible" / "01-fault" / "env" / "extravars"
    planted.parent.mkdir(parents=True)
    planted.write_text(f"ansible_password: {SECRET}\n")
    outputs = [render_report(run.run_dir, fmt, "zh", run.run_dir / f"extra.zh.{fmt}")
               for fmt in ("md", "csv", "json", "html", "pdf")]
    outputs += [write_junit(run.run_dir, run.run_dir / "junit.xml"),
                run.run_dir / "report.html", run.run_dir / "report.json"]
    pdftotext = require_tool("pdftotext")
    text = subprocess.run([pdftotext, str(run.run_dir / "extra.zh.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert SECRET not in text
    for path in outputs:
        assert SECRET.encode() not in path.read_bytes(), path
    # The redacted evidence file is listed as such, with both hashes and no content.
    html = (run.run_dir / "extra.zh.html").read_text(encoding="utf-8")
    assert "已脱敏" in html and "f" * 64 in html
