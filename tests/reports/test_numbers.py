"""The numbers in report.json and report.html are the journal's numbers."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

from orchestrator.journal.chain import first_bad_record, read_records


def _journal_measures(run_dir):
    return [r.data for r in read_records(run_dir / "journal.jsonl") if r.kind == "measure"]


def test_report_json_measures_equal_the_journal(any_run):
    report = json.loads((any_run.run_dir / "report.json").read_text(encoding="utf-8"))
    journal = _journal_measures(any_run.run_dir)
    assert len(report["measures"]) == len(journal) == 5
    for got, want in zip(report["measures"], journal, strict=True):
        assert (got["gateway"], got["service"], got["phase"]) == (want["gateway"], want["service"], want["phase"])
        assert got["interruption_s"] == want["interruption_s"]
        assert got["target_s"] == want["target_s"]
        assert got["passed"] == want["passed"]
        for key in ("link_lost", "detected", "observed", "restored"):
            if want[key] is None:
                assert got[key] is None
            else:
                assert got[key]["ns"] == want[key]["ns"]
                assert got[key]["t"] == want[key]["t"]
                assert got[key]["source"] == want[key]["source"]
                assert got[key]["uncertainty_ms"] == want[key]["uncertainty_ms"]


def test_report_json_objectives_status_and_digest_match(any_run):
    report = json.loads((any_run.run_dir / "report.json").read_text(encoding="utf-8"))
    records = list(read_records(any_run.run_dir / "journal.jsonl"))
    objectives = [r.data for r in records if r.kind == "objective"]
    assert [(o["name"], o["passed"]) for o in report["objectives"]] == \
        [(o["name"], o["passed"]) for o in objectives]
    end = records[-1]
    assert end.kind == "run.end"
    assert report["status"] == end.data["status"] == any_run.outcome
    # The report embeds the digest of the record before run.end; run.end binds the report.
    assert report["journal_digest"] == records[-2].hash
    assert end.data["artifacts"]["report.json"] == any_run.report_hashes["report.json"]
    # run.end's definition (journal.md): worst failover interruption among affected gateways.
    worst = {}
    for m in _journal_measures(any_run.run_dir):
        if m["phase"] == "failover" and m["affected"] and m["interruption_s"] is not None:
            worst[m["service"]] = max(worst.get(m["service"], 0.0), m["interruption_s"])
    assert worst and report["rto_by_service"] == worst
    assert first_bad_record(any_run.run_dir / "journal.jsonl") is None


class _Rows(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and "data-gateway" in a:
            self.rows.append(a)


def test_html_per_gateway_table_carries_the_journal_interruptions(any_run):
    html = (any_run.run_dir / "report.html").read_text(encoding="utf-8")
    parser = _Rows()
    parser.feed(html)
    want = _journal_measures(any_run.run_dir)
    assert [(r["data-gateway"], r["data-service"]) for r in parser.rows] == \
        [(m["gateway"], m["service"]) for m in want]
    for row, m in zip(parser.rows, want, strict=True):
        got = row["data-interruption"]
        assert (float(got) if got else None) == m["interruption_s"]
    # And the figure as printed (English locale) appears in the table.
    trading = next(m for m in want if m["gateway"] == "W000000T")
    assert re.search(rf">{trading['interruption_s']:g} s<", html)


def test_every_time_names_its_source_and_uncertainty(passed_run):
    html = (passed_run.run_dir / "report.html").read_text(encoding="utf-8")
    table = html[html.index('id="per-gateway"'):html.index("</table>", html.index('id="per-gateway"'))]
    assert "fault task ±1 ms" in table
    assert "gateway monitor ±0 ms" in table
    assert "probe sample" not in table or "±50 ms" in table
