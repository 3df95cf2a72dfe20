"""Organised drills and the SSCC operations notification, without a lab (issue 17): the
drill file's `organised` block and its notice, the test-environment example inventory,
the schedule, and the manual step that records SSCC operations support's reference before
a production line or centre drill (never on the lab)."""

from __future__ import annotations

import ipaddress
import re
import types
from datetime import date
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.compliance.schedule import plan_schedule
from orchestrator.config.inventory import load_inventory
from orchestrator.config.resolve import resolve
from orchestrator.config.scenario import find_drill, load_drill, load_drills
from orchestrator.engine import safety
from orchestrator.engine.kinds import ManualKind, StepCall
from orchestrator.engine.options import RunOptions
from orchestrator.errors import InputError, RefusedError
from orchestrator.journal import records as jr

REPO = Path(__file__).resolve().parents[2]
DRILLS = REPO / "drills"
TEST_ENV = REPO / "inventories" / "sscc-test.example"
PROD = REPO / "inventories" / "production.example"
LAB = REPO / "inventories" / "lab"


def _opts(tmp_path: Path, **kw) -> RunOptions:
    return RunOptions(reports_dir=tmp_path / "reports", drill_home=tmp_path / "home",
                      project_root=REPO, **kw)


def test_the_shipped_organised_drill_names_its_organiser_and_notice():
    d = find_drill(DRILLS, "sscc-organised-drill")
    assert d.kind == "organised" and d.organiser == "SSCC"
    assert d.params["notice"].type == "str"
    assert find_drill(DRILLS, "single-line").kind == "failover"


def test_an_organised_drill_without_a_notice_parameter_is_refused_with_its_line(tmp_path):
    text = (DRILLS / "sscc-organised-drill.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "sscc-organised-drill.yaml"
    without = re.sub(r"\n  notice:\n(?:    [^\n]*\n)+", "\n", text)
    assert without != text
    bad.write_text(without, encoding="utf-8")
    with pytest.raises(InputError) as e:
        load_drill(bad)
    # (the templates naming {{ notice }} are refused too)
    (p,) = [p for p in e.value.problems if p.field == "params.notice"]
    organised_line = text[:text.index("\norganised:")].count("\n") + 2
    assert p.file == str(bad) and p.line == organised_line
    assert "通知编号" in p.message


def test_outside_the_lab_the_notice_must_be_given(tmp_path, capsys):
    code = main(["run", "sscc-organised-drill", "--project", str(REPO), "-i", str(TEST_ENV),
                 "--reports", str(tmp_path / "reports"), "--yes", "--operator", "x",
                 "--confirm-environment", "sscc-test"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "--set: notice: expected the notice number" in err
    assert not (tmp_path / "reports").exists()
    inv = load_inventory(TEST_ENV)
    resolved = resolve(find_drill(DRILLS, "sscc-organised-drill"), inv, {"notice": "深证通〔2026〕88号"})
    with pytest.raises(RefusedError, match="not a lab"):  # past the notice: the usual confirmations
        safety.preflight(resolved, inv, _opts(tmp_path))


def test_the_test_environment_example_validates_and_holds_only_placeholder_addresses(capsys):
    assert main(["validate", "--project", str(REPO), "-i", str(TEST_ENV)]) == 0, capsys.readouterr().err
    text = (TEST_ENV / "hosts.yml").read_text(encoding="utf-8")
    bench = ipaddress.ip_network("198.18.0.0/15")
    found = re.findall(r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b", text)
    assert found and all(ipaddress.ip_address(a) in bench for a in found), found
    inv = load_inventory(TEST_ENV)
    assert {ln.driver for ln in inv.lines} == {"manual"}  # SSCC cuts them, the operator confirms


def test_an_organised_drill_is_never_scheduled():
    plan = plan_schedule(load_inventory(LAB), load_drills(DRILLS), date(2026, 12, 5))
    (left,) = [lo for lo in plan.left_out if lo.drill == "sscc-organised-drill"]
    assert "organised drill" in left.reason and "notice" in left.reason


@pytest.mark.parametrize("drill_id", ["single-line", "carrier-outage", "centre-outage"])
def test_a_production_line_or_centre_drill_notifies_sscc_operations_first(drill_id):
    resolved = resolve(find_drill(DRILLS, drill_id), load_inventory(PROD), {})
    step = resolved.phases["precheck"][-1]
    assert step.kind == "manual" and step.reference == "sscc_notification"
    assert "0755-83182222" in step.name.zh and "0755-83182222" in step.manual.en
    lab = resolve(find_drill(DRILLS, drill_id), load_inventory(LAB), {})
    assert all(s.reference is None for s in lab.phases["precheck"])  # never on the lab


def test_neither_the_organised_nor_the_market_data_drill_adds_the_notification():
    inv = load_inventory(PROD)
    md = resolve(find_drill(DRILLS, "md-multicast-fallback"), inv, {})
    assert all(s.reference is None for s in md.phases["precheck"])
    org = resolve(find_drill(DRILLS, "sscc-organised-drill"), inv, {"notice": "N-1"})
    assert all(s.reference is None for s in org.phases["precheck"])


def _engine(tmp_path, answers: list[str], **kw):
    emitted: list = []
    opts = _opts(tmp_path, ask=lambda _q: answers.pop(0), **kw)
    return emitted, types.SimpleNamespace(opt=opts, approval=None, emit=emitted.append,
                                          target=types.SimpleNamespace(unattended_ack=None))


def test_the_operator_gives_the_reference_and_the_journal_keeps_it(tmp_path):
    resolved = resolve(find_drill(DRILLS, "single-line"), load_inventory(PROD), {})
    step = resolved.phases["precheck"][-1]
    emitted, eng = _engine(tmp_path, ["王芳", "YW-20261205-0031"])
    assert ManualKind().run(eng, StepCall("precheck", 1, step, "precheck[1]")) is None
    (ack,) = emitted
    assert (ack.operator, ack.how, ack.reference) == ("王芳", "prompt", "YW-20261205-0031")
    data = ack.to_record()
    assert data["reference"] == "YW-20261205-0031"
    assert jr.OperatorAck.from_record(data) == ack
    # no reference given: the step is not done
    _, eng = _engine(tmp_path, ["王芳", ""])
    with pytest.raises(safety.StepFailed, match="no reference recorded"):
        ManualKind().run(eng, StepCall("precheck", 1, step, "precheck[1]"))


def test_an_ack_without_a_reference_records_as_before():
    ack = jr.OperatorAck("precheck[0]", "x", None, True, "lab-auto")
    assert "reference" not in ack.to_record()


def test_yes_cannot_give_the_reference(tmp_path, monkeypatch):
    inv = load_inventory(PROD)
    resolved = resolve(find_drill(DRILLS, "single-line"), inv, {})
    monkeypatch.setattr(safety, "_window", lambda *_a: None)
    with pytest.raises(RefusedError, match="records a reference"):
        safety.preflight(resolved, inv, _opts(tmp_path, yes=True, operator="x",
                                              confirm_environment="prod-sz"))
