"""Interrupt a real `drill run` at every step boundary with SIGINT, SIGTERM, SIGHUP or SIGKILL
(then `drill recover`): the lab ends in steady state, the journal verifies, the report
says aborted and no process is left (issue 6).

The full matrix is slow (`pytest -m slow tests/reliability`): all five shipped drills ×
every step boundary × SIGINT, SIGTERM, SIGHUP, SIGKILL. Without -m, the seeded sample in
tests/conftest.py runs one case per drill, the five together covering every signal
(SAMPLED_SIGNAL).
"""

from __future__ import annotations

import json
import signal

import pytest
from drill_proc import (
    DrillRun,
    boundaries,
    descendants,
    journal_records,
    process_problem,
    promises_home,
    run_drill,
    run_folders,
    steady_problem,
)

from orchestrator.lab.testing import make_lab_inventory, running_lab

DRILLS = ("single-line", "carrier-outage", "centre-outage", "beijing-cutover", "md-multicast-fallback")
# SIGHUP: the operator's terminal closed; it behaves like SIGTERM (issue 18).
SIGNALS = {"SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM, "SIGHUP": signal.SIGHUP,
           "SIGKILL": signal.SIGKILL}
GATEWAYS = 3  # one trading, one market-data, one settlement gateway


# The default run's sample: one boundary (seeded) per drill, each drill with one signal, so
# that every drill and every signal is interrupted in CI. SIGINT, SIGTERM and SIGHUP take
# the same path in the engine (test_sighup.py: the handler; tests/engine/test_safety.py:
# SIGINT and SIGTERM on a quick drill); SIGKILL + `drill recover` runs on two drills
# (tests/engine/test_recover_beijing.py: the Beijing cutover's recover).
SAMPLED_SIGNAL = {"single-line": "SIGINT", "carrier-outage": "SIGTERM",
                  "centre-outage": "SIGKILL", "beijing-cutover": "SIGHUP",
                  "md-multicast-fallback": "SIGKILL"}


def _cases():
    for drill in DRILLS:
        for boundary in boundaries(drill):
            for name in SIGNALS:
                mark = (pytest.mark.slow(group=f"{drill}-{name}") if SAMPLED_SIGNAL[drill] == name
                        else pytest.mark.slow(sample=False))
                yield pytest.param(drill, boundary, name, id=f"{drill}-{boundary}-{name}",
                                   marks=mark)


@pytest.mark.parametrize(("drill", "boundary", "signame"), list(_cases()))
def test_interrupt_restores_the_lab(tmp_path, drill, boundary, signame):
    """Every promise is checked and every broken one reported together."""
    sig = SIGNALS[signame]
    home, reports = tmp_path / "home", tmp_path / "reports"
    inv = make_lab_inventory(tmp_path, gateways=GATEWAYS)
    problems: list[str] = []

    def expect(ok: bool, message: str) -> None:
        if not ok:
            problems.append(message)

    with running_lab(inv, home) as lab:
        run = DrillRun.start(["run", drill, "-i", str(inv), "--reports", str(reports), "--set", "hold=1s"],
                             home=home, workdir=tmp_path, pause_at=boundary)
        try:
            run.wait_paused()
            snapshot = descendants(run.proc.pid)
            run.interrupt(sig)
            run.release()
            code = run.wait()
            if sig == signal.SIGKILL:
                assert code == -signal.SIGKILL, run.output[-3000:]
                again = run_drill(["run", drill, "-i", str(inv), "--reports", str(reports)],
                                  home=home)
                expect(again.returncode == 4 and "recover" in again.stderr,
                       f"drill run before recover: exit {again.returncode}, expected 4 saying "
                       f"to recover: {again.stderr[-500:]}")
                rec = run_drill(["recover", "-i", str(inv), "--reports", str(reports)], home=home)
                expect(rec.returncode == 0,
                       f"drill recover exit {rec.returncode}: {(rec.stdout + rec.stderr)[-1500:]}")
            else:
                expect(code == 3, f"drill run exit {code}, expected 3:\n{run.output[-1500:]}")
        finally:
            run.release()
            run.kill()

        folders = run_folders(reports)
        assert len(folders) == 1, folders
        folder = folders[0]
        records = journal_records(folder)
        kinds = [r["kind"] for r in records]
        ends = [r for r in records if r["kind"] == "run.end"]
        expect(len(ends) == 1 and ends[0]["data"]["status"] == "aborted",
               f"journal does not end aborted: {kinds[-5:]}")
        if sig == signal.SIGKILL:
            expect("recover" in kinds, "no recover record in the journal")
        else:
            sigs = [r["data"].get("signal") for r in records if r["kind"] == "signal"]
            expect(signame in sigs, f"no signal record naming {signame}: {sigs}")

        verify = run_drill(["verify", str(folder), "--reports", str(reports)], home=home)
        expect(verify.returncode == 0, "drill verify failed:\n" + verify.stdout[-1500:])

        report_json = folder / "report.json"
        report = (json.loads(report_json.read_text(encoding="utf-8"))
                  if report_json.is_file() else {})
        expect(report.get("status") == "aborted",
               f"report.json status {report.get('status')!r}, expected 'aborted'")
        html = folder / "report.html"
        expect(html.is_file() and any(w in html.read_text(encoding="utf-8")
                                      for w in ("已中止", "ABORTED")),
               "report.html missing or does not say aborted")

        problems += filter(None, [steady_problem(inv, lab, require_home=promises_home(drill)),
                                  process_problem(home, lab, snapshot)])
    assert not problems, f"{drill} {boundary} {signame}:\n- " + "\n- ".join(problems)
