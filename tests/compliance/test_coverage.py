"""Issue 17: evidence by environment and coverage per target, on archives of many runs
across quarters.

The archives are written with the project's own journal writer (`orchestrator.journal.Journal`
through `compliance_helpers.write_run`, only its clock moved): a real lab run takes ~15 s
and cannot be dated into other quarters. What each run exercised is given the way the
engine journals it (run.start `params`, `plan` step effects, `topology`, `measure`
records); tests/compliance/test_evidence_lab.py reads the same from a real lab run.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime

import pytest
from compliance_helpers import REPO, drill_home, utc, write_inventory, write_run  # noqa: F401 - drill_home: autouse fixture

from orchestrator.archive.exercised import exercised
from orchestrator.archive.runs import counted, scan_runs
from orchestrator.cli import main
from orchestrator.compliance import coverage as cov
from orchestrator.compliance.cadence import DrillCadence, due
from orchestrator.config.inventory import load_inventory

TZ = "Asia/Shanghai"
PROD = "prod-sz"
LINES = {"CT": ["ct-ft", "ct-nf"], "CU": ["cu-nf"]}
TOPOLOGY = {
    "carriers": [{"id": "CT", "name": {"zh": "中国电信", "en": "China Telecom"}},
                 {"id": "CU", "name": {"zh": "中国联通", "en": "China Unicom"}}],
    "centres": [{"id": "FT", "name": {"zh": "福田中心", "en": "Futian centre"}},
                {"id": "NF", "name": {"zh": "南方中心", "en": "Nanfang centre"}}],
    "lines": [{"id": "ct-ft", "carrier": "CT", "centre": "FT"}, {"id": "cu-nf", "carrier": "CU", "centre": "NF"},
              {"id": "ct-nf", "carrier": "CT", "centre": "NF"}],
}
CARRIER = DrillCadence("carrier-outage", "单运营商故障演练", "Single-carrier outage", "quarterly",
                       (("carrier", "carrier", "CT"),))
BEIJING = DrillCadence("beijing-cutover", "北京异地灾备切换演练（D+3）", "Beijing cutover", "quarterly",
                       (("dr", "centre", "BJ"),))


def _effect(lines=(), centres=()):
    return {"lines_down": list(lines), "lines_up": [], "centres_down": list(centres), "centres_up": [],
            "mode": "blackhole", "repoint_gateways": [], "repoint_to": None,
            "services_down": [], "services_up": []}


def _measure(gateway, passed, affected=True, phase="failover"):
    return ("measure", {"gateway": gateway, "service": "trading", "affected": affected,
                        "interrupted": affected, "interruption_s": 2.0 if passed is not None else None,
                        "target_s": 30.0, "passed": passed, "phase": phase, "centre_before": "FT",
                        "centre_after": "NF", "link_lost": None, "detected": None, "observed": None,
                        "restored": None})


def _end(status, rto):
    return ("run.end", {"status": status, "exit_code": {"passed": 0, "failed": 1}.get(status, 5),
                        "summary": "", "artifacts": {}, "rto_s": rto})


def carrier_run(reports, when, carrier, status, monkeypatch, *, kind="production", environment=PROD,
                rehearsal=False, measures=(("W000000T", True),)):
    start = {"params": {"carrier": carrier, "mode": "blackhole"}, "topology": TOPOLOGY,
             "plan": [{"phase": "fault", "index": 0, "kind": "playbook", "effect": _effect(LINES[carrier])},
                      {"phase": "restore", "index": 0, "kind": "playbook", "effect": None}],
             **({"rehearsal": True} if rehearsal else {})}
    records = [_measure(g, ok) for g, ok in measures] + [_end(status, {"trading": 2.0})]
    return write_run(reports, "carrier-outage", when, None, environment=environment, kind=kind,
                     records=records, start=start, monkeypatch=monkeypatch)


@pytest.fixture
def prod_inventory(tmp_path):
    def production(d):
        d["environment"].update(kind="production", name=PROD)
        d.pop("lab", None)
    return load_inventory(write_inventory(tmp_path, production, name="prod"))


def _cells(report, type_, id_):
    (row,) = [r for r in report.rows if (r.target.type, r.target.id) == (type_, id_)]
    return row.quarters


def test_coverage_per_quarter_counts_measured_targets_and_marks_gaps(tmp_path, monkeypatch, prod_inventory):
    reports = tmp_path / "reports"
    carrier_run(reports, utc(2026, 2, 10, 2), "CT", "passed", monkeypatch)               # Q1 pass
    carrier_run(reports, utc(2026, 5, 10, 2), "CT", "failed", monkeypatch,               # Q2 measured, failed
                measures=(("W000000T", False), ("W00002TF", True)))
    carrier_run(reports, utc(2026, 8, 10, 2), "CU", "inconclusive", monkeypatch,         # Q3 not tested: neither
                measures=(("W000001T", None),))
    write_run(reports, "single-line", utc(2026, 8, 11, 2), None, environment=PROD, kind="production",
              monkeypatch=monkeypatch, start={"params": {"line": "ct-ft"}, "topology": TOPOLOGY,
                                              "plan": [{"phase": "fault", "effect": _effect(["ct-ft"])}]},
              records=[_measure("W000000T", True), _measure("W000001T", True, affected=False),
                       _end("passed", {"trading": 1.5})])
    report = cov.build(reports, 2026, targets=cov.inventory_targets(prod_inventory), environment=PROD,
                       timezone=TZ, now=utc(2026, 11, 25))
    ct = _cells(report, "carrier", "CT")
    assert [e.drill for e in ct[0].entries] == ["carrier-outage"] and ct[0].passed and not ct[0].gap
    assert [e.result for e in ct[1].entries] == ["failed"] and ct[1].gap          # covered, no pass
    assert ct[2].entries == () and ct[2].gap                                      # single line is not the carrier
    assert all(c.gap and not c.entries for c in _cells(report, "carrier", "CU"))  # inconclusive: neither
    line = _cells(report, "line", "ct-ft")
    assert [(e.drill, e.result) for e in line[2].entries] == [("single-line", "passed")]
    assert _cells(report, "line", "ct-nf")[2].gap
    gw = _cells(report, "gateway", "W000000T")
    assert [e.result for e in gw[1].entries] == ["failed"]
    assert [e.result for e in _cells(report, "gateway", "W00002TF")[1].entries] == ["failed"]  # run failed
    assert [e.drill for e in gw[2].entries] == ["single-line"]
    assert all(not c.entries for c in _cells(report, "gateway", "W000001T"))  # not tested, off the path
    assert _cells(report, "line", "ct-ft")[3].gap                              # Q4 begun, nothing yet
    early = cov.build(reports, 2026, targets=cov.inventory_targets(prod_inventory), environment=PROD,
                      timezone=TZ, now=utc(2026, 5, 1))
    assert not any(c.gap for c in _cells(early, "carrier", "CU")[2:])          # quarters ahead: no gaps
    data = report.to_json()
    assert {"type": "carrier", "id": "CU", "quarter": 1} in data["gaps"]
    text = cov.render_text(report, "zh")
    assert "中国联通 (CU)" in text and "未演练" in text and "carrier-outage 演练 通过" in text  # the journal's title


def test_only_production_runs_count_unless_asked_and_then_labelled(tmp_path, monkeypatch, prod_inventory):
    reports = tmp_path / "reports"
    carrier_run(reports, utc(2026, 11, 2, 2), "CT", "passed", monkeypatch, rehearsal=True)
    carrier_run(reports, utc(2026, 11, 3, 2), "CU", "passed", monkeypatch, kind="test")
    carrier_run(reports, utc(2026, 11, 4, 2), "CU", "passed", monkeypatch, kind="production")
    runs = scan_runs(reports, environment=PROD)
    assert [(r.rehearsal, r.environment_kind, r.evidence) for r in runs] == \
        [(True, "production", False), (False, "test", False), (False, "production", True)]
    assert len(counted(runs)) == 1 and len(counted(runs, include_test=True)) == 3
    targets = cov.inventory_targets(prod_inventory)
    plain = cov.build(reports, 2026, targets=targets, environment=PROD, timezone=TZ, now=utc(2026, 11, 25))
    assert plain.hidden_test == 2 and _cells(plain, "carrier", "CT")[3].gap
    asked = cov.build(reports, 2026, targets=targets, environment=PROD, timezone=TZ, now=utc(2026, 11, 25),
                      include_test=True)
    (entry,) = _cells(asked, "carrier", "CT")[3].entries
    assert entry.test and "实验环境，不作为报送依据" in cov.render_text(asked, "zh")
    assert "test environment, not evidence for filing" in cov.render_text(asked, "en")
    v = {d.drill.id: d for d in due([CARRIER], counted(runs), timezone=TZ, now=utc(2026, 11, 25))}
    assert v["carrier-outage"].last_pass.run_id == runs[2].run_id


def test_due_per_target_reports_an_undrilled_carrier(tmp_path, monkeypatch):
    reports = tmp_path / "reports"
    carrier_run(reports, utc(2026, 11, 2, 2), "CT", "passed", monkeypatch)
    carrier_run(reports, utc(2026, 8, 2, 2), "CU", "passed", monkeypatch)       # last quarter
    values = {"carrier": ["CT", "CU"], "centre": ["FT", "NF"], "line": ["ct-ft"]}
    (car, bj) = due([CARRIER, BEIJING], scan_runs(reports), timezone=TZ, now=utc(2026, 11, 25),
                    target_values=values)
    assert car.status == "done"
    targets = {t.label: t for t in car.targets}
    assert targets["carrier=CT"].status == "done"
    assert targets["carrier=CU"].status == "due" and targets["carrier=CU"].last_pass.run_id.startswith("20260802")
    assert bj.targets == ()  # dr=BJ is no production centre: not judged per centre


def test_cli_coverage_marks_cu_a_gap_and_due_reports_it_due(tmp_path, monkeypatch, capsys, prod_inventory):
    """The done point: only CT drilled (this quarter, production) -> CU is a gap and DUE."""
    project = tmp_path / "proj"
    for sub in ("drills", "playbooks", "inventories"):
        (project / sub).mkdir(parents=True)
    shutil.copy(REPO / "drills" / "carrier-outage.yaml", project / "drills")
    now = datetime.now(UTC)
    run = carrier_run(project / "reports", now, "CT", "passed", monkeypatch)
    inv = str(prod_inventory.path)
    year = str(now.astimezone(cov.ZoneInfo(TZ)).year)
    q = (now.astimezone(cov.ZoneInfo(TZ)).month - 1) // 3
    base = ["--project", str(project), "--inventory", inv]
    assert main(["coverage", "--year", year, "--json", *base]) == 0
    data = json.loads(capsys.readouterr().out)
    by = {(t["type"], t["id"]): t["quarters"][q] for t in data["targets"]}
    assert by[("carrier", "CT")]["passed"] and not by[("carrier", "CT")]["gap"]
    assert by[("carrier", "CU")]["gap"] and by[("carrier", "CU")]["drills"] == []
    assert by[("line", "ct-ft")]["drills"] == [{"drill": "carrier-outage", "result": "passed",
                                                "run": run.name, "test": False}]
    assert main(["coverage", "--year", year, "--lang", "en", *base]) == 0
    assert "China Unicom (CU)" in capsys.readouterr().out
    assert main(["due", *base]) == 0
    out = capsys.readouterr().out
    assert "DUE carrier-outage carrier=CU" in out and f"DONE carrier-outage carrier=CT by {run.name}" in out


def test_exercised_reads_centres_and_ignores_unfinished_runs(tmp_path, monkeypatch):
    reports = tmp_path / "reports"
    write_run(reports, "centre-outage", utc(2026, 11, 2, 2), None, environment=PROD, kind="production",
              monkeypatch=monkeypatch, start={"topology": TOPOLOGY, "params": {"centre": "FT"},
                                              "plan": [{"phase": "fault", "effect": _effect(centres=["FT"])}]},
              records=[_measure("W000000T", True), _end("passed", {"trading": 3.0})])
    write_run(reports, "centre-outage", utc(2026, 11, 3, 2), None, environment=PROD, kind="production",
              monkeypatch=monkeypatch, start={"topology": TOPOLOGY,
                                              "plan": [{"phase": "fault", "effect": _effect(centres=["NF"])}]},
              records=[_measure("W000001T", True)])  # unfinished
    done, unfinished = scan_runs(reports)
    ex = exercised(done)
    assert ex.of("centre") == {"FT": "passed"} and ex.of("gateway") == {"W000000T": "passed"}
    assert ex.names[("centre", "FT")]["zh"] == "福田中心"
    assert exercised(unfinished).touches == ()
