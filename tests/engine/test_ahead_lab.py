"""In a real lab run (the session's, tests/lab_run_fixture.py), the playbook steps were started
ahead and held (issue 19, P4): each one's `ansible-playbook` was started before the step
began (the first while the run set up its observers), and ran its first task only after."""

from __future__ import annotations

import datetime
import json

import pytest

from orchestrator.journal.chain import read_records


@pytest.fixture(scope="module")
def run_dir(shared_lab_run, tmp_path_factory):
    return shared_lab_run.copy(tmp_path_factory.mktemp("ahead")).run_dir


def _ns(created: str) -> int:
    at = datetime.datetime.fromisoformat(created)
    return int(at.timestamp()) * 1_000_000_000 + at.microsecond * 1000


def _events(folder) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for path in (folder / "artifacts" / "run" / "job_events").glob("*.json"):
        event = json.loads(path.read_text(encoding="utf-8"))
        out.setdefault(event["event"], []).append(_ns(event["created"]))
    return out


def test_playbook_steps_were_started_ahead_and_held_until_their_turn(run_dir):
    records = list(read_records(run_dir / "journal.jsonl"))
    starts = {f"{r.data['phase']}[{r.data['index']}]": r.data["started"]["ns"] for r in records
              if r.kind == "step.start" and r.data["step_kind"] == "playbook"}
    folders = sorted((run_dir / "ansible").iterdir())
    folders = [f for f in folders if f.is_dir()]
    assert len(folders) == len(starts) >= 4, (folders, starts)  # no folder of an abandoned run
    ahead = 0
    for folder, (label, started_ns) in zip(folders, starts.items(), strict=True):
        events = _events(folder)
        assert min(events["runner_on_start"]) > started_ns, label  # ran only at its turn
        # start_playbook writes artifacts/run/command just before it starts the process
        ahead += (folder / "artifacts" / "run" / "command").stat().st_mtime_ns < started_ns
    assert ahead == len(starts), "every playbook step started ahead"
