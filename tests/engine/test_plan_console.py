"""The operator's console on a real lab run (issue 20): Ctrl-C during the hold says at once
that restore runs, before any restore output; the run exits 3 with one verdict line, the
last, whose counts are the objective lines above it."""

from __future__ import annotations

import re
import signal

from engine_fixtures import lab_env_fixture  # noqa: F401 - the lab_env fixture
from engine_helpers import poll, start_process, stop

RUN_DEADLINE_S = 300
INTERRUPTED = "interrupted: restoring (Ctrl-C again does not skip restore)"
VERDICT = re.compile(r"^(PASSED|FAILED|ABORTED|INCONCLUSIVE|REFUSED): (\d+) passed, (\d+) failed, "
                     r"(\d+) not applicable, (\d+) not tested$")


def test_ctrl_c_in_the_hold_says_restoring_at_once_and_ends_with_one_verdict_line(lab_env, tmp_path):
    pause = tmp_path / "pause-hold"
    proc = start_process(lab_env, "quick", pause_at="hold:0:start", pause_file=pause)
    try:
        poll(lambda: pause.exists() or proc.poll() is not None, RUN_DEADLINE_S,
             "the engine to pause at the hold")
        assert proc.poll() is None, proc.stdout.read()
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=RUN_DEADLINE_S)
    finally:
        stop(proc)
    assert proc.returncode == 3, out
    lines = out.splitlines()
    # live output before the signal: steps, the fault playbook's tasks and hosts, the wait
    assert any("▶ fault[0]" in ln for ln in lines), out
    assert any(ln.strip().startswith(("ok ", "changed ")) and "lab" in ln for ln in lines), out
    assert any("waits for: every gateway on the failed path restored" in ln for ln in lines), out
    said = [i for i, ln in enumerate(lines) if ln == INTERRUPTED]
    restore = [i for i, ln in enumerate(lines) if "restore[" in ln or ln.startswith("── restore")]
    assert said and restore and said[0] < restore[0], out
    verdicts = [ln for ln in lines if VERDICT.match(ln)]
    assert len(verdicts) == 1 and lines[-1] == verdicts[0], out
    m = VERDICT.match(verdicts[0])
    assert m.group(1) == "ABORTED"
    marks = {"pass": 0, "FAIL": 0, "n/a": 0, "UNTESTED": 0}
    for ln in lines:
        word = ln.strip().split(" ", 1)[0]
        if ln.startswith("  ") and word in marks and re.search(r"^\s+\S+\s+[a-z_.]+: ", ln):
            marks[word] += 1
    assert (marks["pass"], marks["FAIL"], marks["n/a"], marks["UNTESTED"]) == \
        tuple(int(g) for g in m.groups()[1:]), out
