"""Helpers of the engine tests: run drill in-process or as a process, read its run folder."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml
from support import poll  # noqa: F401 - re-exported for the tests that import it from here

from orchestrator.cli import main


def drill_args(env, drill_id: str, *extra: str) -> list[str]:
    return ["run", drill_id, "--project", str(env.project), "--inventory", str(env.inventory),
            "--reports", str(env.reports), *extra]


def run_inprocess(env, drill_id: str, *extra: str) -> int:
    return main(drill_args(env, drill_id, *extra))


@dataclass(frozen=True)
class Ran:
    """A run made in-process, its printed output kept (for fixtures that outlive capsys)."""

    code: int
    out: str
    err: str
    run: Path | None  # the newest run folder of the drill, None when none was made


def run_captured(env, drill_id: str, *extra: str) -> Ran:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run_inprocess(env, drill_id, *extra)
    runs = [p for p in run_folders(env.reports) if f"-{drill_id}-" in p.name]
    return Ran(code, out.getvalue(), err.getvalue(), max(runs, key=lambda p: p.name) if runs else None)


GOLDEN_KEYS = Path(__file__).resolve().parents[1] / "fixtures" / "golden_record_keys.json"


def record_keys(recs: list[dict]) -> dict[str, list[str]]:
    """Per record kind, the keys its records carry: top level and one level into dicts
    (the shape of tests/fixtures/golden_record_keys.json, captured before issue 12)."""
    kinds: dict[str, set[str]] = {}
    for r in recs:
        keys = kinds.setdefault(r["kind"], set())
        for k, v in r.items():
            keys.add(k)
            if isinstance(v, dict):
                keys.update(f"{k}.{k2}" for k2 in v)
    return {kind: sorted(keys) for kind, keys in sorted(kinds.items())}


# Written only when a monitor's `/status` sample fails between the fault task's return and
# the gateway's failover: on a loaded machine the gateway has often failed over first.
TIMING_DEPENDENT_KINDS = frozenset({"probe.transition", "gateway.events_folded"})


def golden_keys(drill_id: str) -> dict[str, list[str]]:
    with open(GOLDEN_KEYS, encoding="utf-8") as fh:
        return json.load(fh)[drill_id]


def assert_golden_keys(recs: list[dict], drill_id: str) -> None:
    """The run's record kinds and keys are the golden ones; a timing-dependent kind may be
    absent, but when present it carries exactly its golden keys."""
    got, want = record_keys(recs), golden_keys(drill_id)
    for kind in TIMING_DEPENDENT_KINDS:
        if kind not in got:
            want.pop(kind, None)
    assert got == want


def run_folders(reports: Path) -> list[Path]:
    return sorted(p.parent for p in Path(reports).glob("*/*/journal.jsonl"))


def newest_run(reports: Path, drill_id: str) -> Path:
    runs = [p for p in run_folders(reports) if f"-{drill_id}-" in p.name]
    assert runs, f"no run folder for {drill_id} in {reports}"
    return max(runs, key=lambda p: p.name)


def records(run_dir: Path) -> list[dict]:
    with open(run_dir / "journal.jsonl", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def of_kind(recs: list[dict], kind: str) -> list[dict]:
    return [r["data"] for r in recs if r["kind"] == kind]




def start_process(env, drill_id: str, *extra: str, pause_at: str | None = None,
                  pause_file: Path | None = None) -> subprocess.Popen:
    child_env = dict(os.environ, DRILL_HOME=str(env.home))
    if pause_at:
        child_env["DRILL_DEBUG_PAUSE_AT"] = pause_at
        child_env["DRILL_DEBUG_PAUSE_FILE"] = str(pause_file)
    exe = str(Path(sys.executable).parent / "drill")
    return subprocess.Popen([exe, *drill_args(env, drill_id, *extra)], env=child_env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)


def manual_lines(folder: Path) -> Path:
    """A test lab inventory folder with every terrestrial line on the manual driver."""
    path = folder / "hosts.yml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    for ln in doc["all"]["vars"]["drill"]["lines"]:
        if ln["medium"] == "terrestrial":
            ln["driver"] = "manual"
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return folder
