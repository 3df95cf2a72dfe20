"""Targets and durations that make no sense are refused with the reason (issue 18):
`rto` <= 0, a cutover limit of 0, a `wait` whose `for` exceeds its own `timeout` (written
out, or rendered from a parameter)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from model_support import DRILLS, LAB_INVENTORY, drill_home  # noqa: F401 (fixture)

from orchestrator.cli import main

SINGLE_LINE = (DRILLS / "single-line.yaml").read_text(encoding="utf-8")
HOLD = 'wait: {for: "{{ hold }}", while: no_new_loss}'


def _project(tmp_path: Path, text: str) -> tuple[Path, Path]:
    root = tmp_path / "proj"
    shutil.copytree(DRILLS.parent / "playbooks", root / "playbooks")
    shutil.copytree(LAB_INVENTORY.parent, root / "inventories")
    (root / "drills").mkdir()
    drill = root / "drills" / "single-line.yaml"
    drill.write_text(text, encoding="utf-8")
    return root, drill


def _line(path: Path, needle: str) -> int:
    return next(i for i, ln in enumerate(path.read_text().splitlines(), 1) if needle in ln)


def _refused(root: Path, drill: Path, capsys, *extra: str) -> str:
    """`drill validate` and `drill run` both exit 2 with the reason; the run starts nothing."""
    assert main(["validate", str(drill), "--project", str(root)]) == 2
    validate_err = capsys.readouterr().err
    code = main(["run", "single-line", "--project", str(root), "--reports",
                 str(root / "reports"), *extra])
    run_err = capsys.readouterr().err
    assert code == 2, run_err
    assert "Traceback" not in validate_err + run_err and "Starting the lab" not in run_err
    assert not (root / "reports").exists()
    return validate_err + run_err


@pytest.mark.parametrize("rto", ["0s", "0", "0ms"])
def test_rto_of_zero_is_refused(tmp_path, capsys, rto):
    root, drill = _project(tmp_path, SINGLE_LINE.replace("trading: {rto: 30s}",
                                                         f"trading: {{rto: {rto}}}"))
    err = _refused(root, drill, capsys)
    line = _line(drill, f"trading: {{rto: {rto}}}")
    assert re.search(rf"{re.escape(str(drill))}:{line}: targets\.trading\.rto: expected a target > 0", err), err


def test_wait_longer_than_its_timeout_is_refused(tmp_path, capsys):
    root, drill = _project(tmp_path, SINGLE_LINE.replace(
        HOLD, 'wait: {for: 90s, timeout: 60s, until: all_restored}'))
    err = _refused(root, drill, capsys)
    line = _line(drill, "for: 90s, timeout: 60s")
    assert f"{drill}:{line}: phases.hold[0].wait.for: expected at most the wait's own timeout (60s)" in err, err


def test_wait_rendered_longer_than_its_timeout_is_refused(tmp_path, capsys):
    """`for` from a parameter: the written drill is fine, `--set hold=2m` is not."""
    root, drill = _project(tmp_path, SINGLE_LINE.replace(
        HOLD, 'wait: {for: "{{ hold }}", timeout: 60s, until: all_restored}'))
    assert main(["validate", str(drill), "--project", str(root)]) == 0
    capsys.readouterr()
    code = main(["run", "single-line", "--set", "hold=2m", "--project", str(root),
                 "--reports", str(root / "reports")])
    err = capsys.readouterr().err
    assert code == 2, err
    line = _line(drill, 'for: "{{ hold }}", timeout: 60s')
    assert f"{drill}:{line}: phases.hold[0].wait.for: expected at most the wait's own timeout" in err
    assert not (root / "reports").exists()


def test_a_wait_within_its_timeout_and_a_positive_rto_load(tmp_path):
    from orchestrator.config.scenario import load_drill

    _, drill = _project(tmp_path, SINGLE_LINE.replace(
        HOLD, 'wait: {for: 60s, timeout: 60s, until: all_restored}').replace(
        "trading: {rto: 30s}", "trading: {rto: 1ms}"))
    d = load_drill(drill)
    assert d.targets.rto_s["trading"] == 0.001
