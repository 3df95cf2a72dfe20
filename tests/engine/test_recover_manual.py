"""`drill recover` after a SIGKILL on an inventory whose lines use the manual driver: at a
terminal the person is told which line to bring back and confirms it (operator.ack in the
journal); with nobody to ask, recover refuses up front and leaves the run unfinished."""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from engine_fixtures import make_project
from engine_helpers import manual_lines, newest_run, of_kind, poll, records, stop

from orchestrator.cli import main
from orchestrator.config.inventory import load_inventory
from orchestrator.engine.recover import recover
from orchestrator.journal.runfolder import unfinished_runs
from orchestrator.lab.control import LabClient
from orchestrator.lab.testing import make_lab_inventory, running_lab
from orchestrator.targets.lab import LabTarget

LINE = "ct-ft"
RUN_DEADLINE_S = 300


def _line_state(client: LabClient, lid: str) -> str:
    lines = client.status()["lines"]
    items = lines.items() if isinstance(lines, dict) else ((ln["id"], ln) for ln in lines)
    ln = dict(items)[lid]
    return str(ln.get("state") or ("up" if ln.get("up") else "down")) if isinstance(ln, dict) else str(ln)


def _kill_mid_fault(home: Path, inv: Path, project: Path, reports: Path, lab_dir: Path,
                    tmp: Path) -> Path:
    """`drill run single-line` as a process at a (pseudo) terminal: the person cuts the line
    on the lab and answers; once the fault step ended, SIGKILL."""
    pause, log = tmp / "pause", tmp / "run.log"
    env = dict(os.environ, DRILL_HOME=str(home), PYTHONUNBUFFERED="1",
               DRILL_DEBUG_PAUSE_AT="fault:0:end", DRILL_DEBUG_PAUSE_FILE=str(pause))
    master, slave = pty.openpty()
    exe = str(Path(sys.executable).parent / "drill")
    with open(log, "wb") as out:
        proc = subprocess.Popen([exe, "run", "single-line", "--set", f"line={LINE}", "--set", "hold=1s",
                                 "--project", str(project), "--inventory", str(inv),
                                 "--reports", str(reports)],
                                stdin=slave, stdout=out, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
    os.close(slave)
    try:
        def asked() -> bool:
            assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
            return "Type your name when done" in log.read_text(errors="replace")

        poll(asked, RUN_DEADLINE_S, "drill run to ask for the line cut")
        LabClient(lab_dir, timeout=10.0).line_down(LINE, "blackhole")
        os.write(master, "张伟\n".encode())
        poll(lambda: pause.exists() or proc.poll() is not None, RUN_DEADLINE_S, "fault:0:end")
        assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        stop(proc)
        os.close(master)
        pause.unlink(missing_ok=True)
    return newest_run(reports, "single-line")


@pytest.fixture(scope="module")
def killed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("recover-manual")
    home = tmp / "home"
    mp = pytest.MonkeyPatch()
    mp.setenv("DRILL_HOME", str(home))
    try:
        inv = manual_lines(make_lab_inventory(tmp / "inv", gateways=2))
        project = make_project(tmp / "project")
        reports = tmp / "reports"
        with running_lab(inv, home) as lab:
            run_dir = _kill_mid_fault(home, inv, project, reports, lab.state_dir, tmp)
            yield home, inv, project, reports, lab, run_dir
    finally:
        mp.undo()


def test_recover_refuses_without_a_terminal_then_finishes_at_one(killed, capsys):
    """One story on one killed run (random order must not split it): with nobody to ask,
    recover refuses and leaves the run unfinished; a later recover at a terminal asks the
    person and closes it."""
    home, inv, project, reports, lab, run_dir = killed
    client = LabClient(lab.state_dir, timeout=10.0)
    assert _line_state(client, LINE) == "down"
    before = (run_dir / "journal.jsonl").read_bytes()
    code = main(["recover", "--project", str(project), "--inventory", str(inv),
                 "--reports", str(reports)])
    err = capsys.readouterr().err
    assert code == 4, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "nobody can confirm" in lines[0] and run_dir.name in lines[0]
    assert f"line {LINE} (CT to FT, router lab): bring it UP" in lines[0]
    # Nothing restored silently, nothing journaled: a later recover at a terminal finishes it.
    assert _line_state(client, LINE) == "down"
    assert (run_dir / "journal.jsonl").read_bytes() == before
    assert run_dir in unfinished_runs(home, load_inventory(inv / "hosts.yml").environment.name,
                                      (reports,))

    # At a terminal.
    questions: list[str] = []

    def person(question: str) -> str:
        questions.append(question)
        if f"line {LINE}" in question and "bring it UP" in question:
            client.line_up(LINE)
        return "李娜"

    env = load_inventory(inv / "hosts.yml").environment.name
    done = recover(home, env, reports_dirs=(reports,),
                   inventory=load_inventory(lab.state_dir / "inventory.yml"),
                   target=LabTarget(lab.state_dir), ask=person)
    closed = [r for r in done if r.run_id == run_dir.name]
    assert closed and closed[0].steady_ok is True, done
    assert len(questions) == 1 and f"line {LINE} (CT to FT, router lab): bring it UP" in questions[0]
    assert _line_state(client, LINE) == "up"

    recs = records(run_dir)
    assert recs[-1]["kind"] == "run.end" and recs[-1]["data"]["status"] == "aborted"
    assert "recover" in [r["kind"] for r in recs]
    acks = [a for a in of_kind(recs, "operator.ack") if a["step"] == "restore[0]"]
    assert [(a["operator"], a["unattended"], a["how"]) for a in acks] == [("李娜", False, "prompt")]
    ack_at = next(i for i, r in enumerate(recs)
                  if r["kind"] == "operator.ack" and r["data"]["step"] == "restore[0]")
    assert not [r for r in recs[:ack_at] if r["kind"] in ("ansible.process", "ansible.task")
                and r["data"].get("step") == "restore[0]"], "ack journaled before the playbook"
    ends = {(r["phase"], r["index"]): r["status"] for r in of_kind(recs, "step.end")}
    assert ends[("restore", 0)] == "ok"
    assert unfinished_runs(home, env, (reports,)) == []
    assert main(["verify", str(run_dir), "--reports", str(reports)]) == 0


def test_without_a_terminal_a_beijing_failback_names_the_centres_and_gateways_left_by_hand(tmp_path):
    """The Beijing cutover on a manual inventory: the refusal lists the centres to bring back
    and every gateway to repoint home (each asked at a terminal, after the Shenzhen check)."""
    from orchestrator.config.resolve import resolve
    from orchestrator.config.scenario import find_drill
    from orchestrator.engine.recover import _refuse_manual
    from orchestrator.engine.steps import step_record
    from orchestrator.errors import RefusedError
    from orchestrator.journal.chain import Journal

    folder = make_lab_inventory(tmp_path / "inv", gateways=2)
    path = folder / "hosts.yml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["all"]["vars"]["drill"]["driver"] = "manual"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    inv = load_inventory(path)
    project = make_project(tmp_path / "p")
    resolved = resolve(find_drill(project / "drills", "bj-quick"), inv)
    plan = [step_record(s, phase, i) for phase, steps in resolved.phases.items()
            for i, s in enumerate(steps)]
    run_dir = tmp_path / "reports" / "run-1"
    run_dir.mkdir(parents=True)
    journal = Journal(run_dir / "journal.jsonl", run_dir.name)
    journal.append("run.start", {"plan": plan, "project": str(project), "drill": {"id": "bj-quick"},
                                 "inventory": {"path": str(path)}})
    journal.append("step.start", {"phase": "fault", "index": 0})
    journal.close()
    with pytest.raises(RefusedError) as refused:
        _refuse_manual([run_dir], inv)
    text = str(refused.value)
    assert "\n" not in text and "run-1: centre FT: bring it back UP; centre NF: bring it back UP" in text
    for g in inv.gateways:
        if not g.satellite_only:
            assert f"gateway {g.id}: repoint to " in text
