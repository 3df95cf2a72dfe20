"""Playbook steps whose lines use the manual driver: the engine shows the person the change,
asks who did it, journals the acknowledgement and passes it to the playbook (its time is the
change's effective time). Nobody answers: the step fails, nothing runs, restore still runs."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest
import yaml
from engine_fixtures import make_project
from engine_helpers import manual_lines, of_kind, records

from orchestrator.config.inventory import load_inventory
from orchestrator.config.resolve import resolve
from orchestrator.config.scenario import find_drill
from orchestrator.engine.options import RunOptions
from orchestrator.engine.prepare import prepare
from orchestrator.engine.runner import Engine
from orchestrator.engine.steps import manual_changes
from orchestrator.errors import RefusedError
from orchestrator.lab.control import LabClient
from orchestrator.lab.testing import make_lab_inventory, running_lab

LINE = "ct-ft"


class Person:
    """What an operator does: read the instruction, make the change on the lab, answer."""

    def __init__(self, state_dir: Path, answers: list[str]) -> None:
        self.client = LabClient(state_dir, timeout=10.0)
        self.answers = answers
        self.questions: list[str] = []
        self.answered_ns: list[int] = []

    def __call__(self, question: str) -> str:
        self.questions.append(question)
        answer = self.answers.pop(0)
        if answer and "take it DOWN (blackhole)" in question:
            self.client.line_down(LINE, "blackhole")
        elif answer and "bring it UP" in question:
            self.client.line_up(LINE)
        self.answered_ns.append(time.time_ns())
        return answer


@pytest.fixture(scope="module")
def manual_lab(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("manual")
    home = tmp / "home"
    mp = pytest.MonkeyPatch()
    mp.setenv("DRILL_HOME", str(home))
    try:
        inv = manual_lines(make_lab_inventory(tmp / "inv", gateways=3))
        project = make_project(tmp / "project")
        with running_lab(inv, home):
            yield home, inv, project, tmp / "reports"
    finally:
        mp.undo()


def _run(manual_lab, answers: list[str]):
    home, inv, project, reports = manual_lab
    prepared = prepare(project, "single-line", inv, {"line": LINE, "hold": "1s"}, home,
                       start_lab=False)
    assert prepared.target.name == "lab"
    person = Person(prepared.target.state_dir, answers)
    opts = RunOptions(reports_dir=reports, drill_home=home, project_root=project, ask=person)
    outcome = Engine(prepared.resolved, prepared.inventory, opts, prepared.target).run()
    return outcome, person, records(outcome.run_dir)


def test_the_person_is_told_each_line_and_direction_and_their_ack_is_the_effective_time(manual_lab):
    outcome, person, recs = _run(manual_lab, ["张伟", "李娜"])
    assert outcome.status == "passed", outcome.summary
    down_q, up_q = person.questions
    assert f"line {LINE} (CT to FT, router lab): take it DOWN (blackhole)" in down_q
    assert f"line {LINE} (CT to FT, router lab): bring it UP" in up_q
    assert "Fault injection: cut line ct-ft" in down_q and "Restore line ct-ft" in up_q

    kinds = [(r["kind"], r["data"].get("step")) for r in recs]
    for label, who in (("fault[0]", "张伟"), ("restore[0]", "李娜")):
        ack_at = kinds.index(("operator.ack", label))
        first_task = next(i for i, k in enumerate(kinds) if k[1] == label and k[0] != "operator.ack")
        assert ack_at < first_task, "the acknowledgement is journaled before the playbook runs"
        ack = next(r for r in of_kind(recs, "operator.ack") if r["step"] == label)
        assert ack["operator"] == who and ack["unattended"] is False
    acks = {r["step"]: r for r in of_kind(recs, "operator.ack")}
    fault_ack_ns = acks["fault[0]"]["at"]["ns"]
    assert fault_ack_ns >= person.answered_ns[0]
    # The playbook received drill_manual_ack: its stamp is the confirmation instant.
    stamped = [t for t in of_kind(recs, "ansible.task")
               if t["step"] == "fault[0]" and t.get("effective_ns") is not None]
    assert [t["effective_ns"] for t in stamped] == [fault_ack_ns]
    assert "张伟" in stamped[0]["msg"]
    effective = next(r for r in of_kind(recs, "fault.effective") if r["step"] == "fault[0]")
    assert effective["at"]["ns"] == fault_ack_ns and effective["at"]["source"] == "fault-task"
    starts = {(r["phase"], r["index"]): r for r in of_kind(recs, "step.start")}
    assert starts[("fault", 0)]["automated"] is False


def test_an_empty_answer_fails_the_step_before_its_playbook_and_restore_still_runs(manual_lab):
    outcome, person, recs = _run(manual_lab, ["", "李娜"])
    assert outcome.status == "failed" and outcome.exit_code == 1
    ends = {(r["phase"], r["index"]): r for r in of_kind(recs, "step.end")}
    fault = ends[("fault", 0)]
    assert fault["status"] == "failed"
    assert "not acknowledged" in fault["error"] and "take it DOWN" in fault["error"]
    assert not [r for r in recs if r["data"].get("step") == "fault[0]"
                and r["kind"] in ("operator.ack", "ansible.process", "ansible.task")]
    # Restore ran (and asked the person again), every step of it ok.
    assert len(person.questions) == 2 and "bring it UP" in person.questions[1]
    assert ends[("restore", 0)]["status"] == "ok"
    assert [r["step"] for r in of_kind(recs, "operator.ack")] == ["restore[0]"]


def test_without_anyone_to_ask_a_manual_driver_drill_is_refused_before_it_starts(tmp_path):
    inv = load_inventory(manual_lines(make_lab_inventory(tmp_path / "inv", gateways=2)) / "hosts.yml")
    resolved = resolve(find_drill(Path(make_project(tmp_path / "p")) / "drills", "single-line"), inv)
    opts = RunOptions(reports_dir=tmp_path / "reports", drill_home=tmp_path / "home",
                      project_root=tmp_path / "p", yes=True, operator="ops")
    with pytest.raises(RefusedError, match=r"manual driver.*--yes never confirms"):
        Engine(resolved, inv, opts).preflight()
    assert not (tmp_path / "reports").exists()


def test_the_instructions_name_centres_and_repoints_of_a_manual_inventory(tmp_path):
    folder = make_lab_inventory(tmp_path / "inv", gateways=2)
    path = folder / "hosts.yml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["all"]["vars"]["drill"]["driver"] = "manual"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    inv = load_inventory(path)
    resolved = resolve(find_drill(Path(make_project(tmp_path / "p")) / "drills", "bj-quick"), inv)
    texts = {s.name.en: manual_changes(inv, s) for _, s in resolved.steps()}
    assert texts["Both Shenzhen centres down"] == ("centre FT: take it DOWN", "centre NF: take it DOWN")
    assert texts["Shenzhen centres up"] == ("centre FT: bring it back UP", "centre NF: bring it back UP")
    bj = inv.centre("BJ").services["trading"]
    repoint = texts["Repoint to BJ"]
    assert len(repoint) == len([g for g in inv.gateways if not g.satellite_only])
    assert any(t.startswith("gateway ") and f"repoint to BJ ({bj})" in t for t in repoint)
    assert all("repoint to FT → NF" in t or "repoint to NF → FT" in t
               for t in texts["Repoint home"])
    zh = manual_changes(inv, next(s for _, s in resolved.steps() if s.name.en == "Shenzhen centres up"), "zh")
    assert zh == ("中心 FT：恢复服务", "中心 NF：恢复服务")


def test_drill_plan_on_a_manual_inventory_asks_nobody_and_checks_the_change_steps(tmp_path, capsys,
                                                                                   monkeypatch):
    import json

    from orchestrator.cli import main

    monkeypatch.setenv("DRILL_HOME", str(tmp_path / "home"))
    folder = make_lab_inventory(tmp_path / "inv", gateways=2)  # the lab is not started
    path = folder / "hosts.yml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["all"]["vars"]["drill"]["driver"] = "manual"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    project = make_project(tmp_path / "p")
    assert main(["plan", "single-line", "--project", str(project), "--inventory", str(folder),
                 "--json"]) == 0
    steps = json.loads(capsys.readouterr().out)["steps"]
    checked = {(s["phase"], s["index"]): s["check"]["status"] for s in steps
               if s["playbook"] in ("line.yml", "evidence.yml")}
    assert checked == {("fault", 0): "successful", ("restore", 0): "successful",
                       ("restore", 2): "successful"}


def test_a_step_whose_targets_cannot_be_told_follows_the_inventory_default_driver(tmp_path):
    from orchestrator.model.drill import Effect, Step
    from orchestrator.model.text import Text

    inv = load_inventory(manual_lines(make_lab_inventory(tmp_path / "inv", gateways=2)) / "hosts.yml")
    custom = Step(name=Text("自定义", "Custom"), kind="playbook", playbook="custom.yml")
    assert manual_changes(inv, custom) == ()  # default driver lab
    by_effect = Step(name=Text("自定义", "Custom"), kind="playbook", playbook="custom.yml",
                     effect=Effect(lines_down=("ct-ft", "sat-1"), mode="shutdown"))
    assert manual_changes(inv, by_effect) == ("line ct-ft (CT to FT, router lab): take it DOWN (shutdown)",)
    manual_default = dataclasses.replace(inv, driver="manual")
    assert manual_changes(manual_default, custom) == (
        "targets not known: make the change this step names by hand",)
    for quiet in ("verify.yml", "evidence.yml"):
        step = Step(name=Text("x", "x"), kind="playbook", playbook=quiet)
        assert manual_changes(manual_default, step) == ()
