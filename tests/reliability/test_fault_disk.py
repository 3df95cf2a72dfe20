"""Mid-drill faults of the operations host (issue 18): the run folder's disk fills up, and
DRILL_HOME is read-only. Root only (they mount a small tmpfs; CI is root).

Disk full: the journal stays valid up to its last fsync'd record, the rest goes to the
fallback on another filesystem (`$DRILL_HOME/fallback/<run id>.journal.jsonl`), the fault
phases stop and restore runs, the message names the disk; `drill recover` (once there is
room) completes the journal, and `drill verify` passes on it."""

from __future__ import annotations

import json

from drill_proc import (
    DrillRun,
    descendants,
    journal_records,
    process_problem,
    run_drill,
    run_folders,
    steady_problem,
)
from faults_support import fill, require_root, tmpfs

from orchestrator.journal.chain import first_bad_record
from orchestrator.lab.testing import make_lab_inventory, running_lab


def test_disk_full_mid_drill_falls_back_restores_and_recover_completes(tmp_path):
    home, disk = tmp_path / "home", tmp_path / "disk"
    inv = make_lab_inventory(tmp_path, gateways=3)
    problems: list[str] = []
    with tmpfs(disk, size="8m"), running_lab(inv, home) as lab:
        reports = disk / "reports"
        run = DrillRun.start(["run", "single-line", "-i", str(inv), "--reports", str(reports)],
                             home=home, workdir=tmp_path, pause_at="fault:0:end")
        try:
            run.wait_paused()
            snapshot = descendants(run.proc.pid)
            filler = fill(disk)
            run.release()
            code = run.wait()
        finally:
            run.release()
            run.kill()
        out = run.output
        assert code == 3, f"exit {code}, expected 3 (aborted, restore ran):\n{out[-3000:]}"
        [folder] = run_folders(reports)
        fallback = home / "fallback" / f"{folder.name}.journal.jsonl"
        # The message names the disk and where the rest of the journal went.
        assert f"mounted at {disk}" in out and str(fallback) in out, out[-3000:]
        # The run folder's journal: valid up to its last fsync'd record, no torn line.
        assert first_bad_record(folder / "journal.jsonl") is None
        kept = journal_records(folder)
        assert "run.end" not in [r["kind"] for r in kept]
        tail = [json.loads(line) for line in fallback.read_bytes().splitlines()]
        assert tail[0]["seq"] == kept[-1]["seq"] + 1 and tail[0]["prev"] == kept[-1]["hash"]
        kinds = [r["kind"] for r in tail]
        # restore ran (its playbook's artifacts went beside the fallback), then run.end
        assert any(r["kind"] == "step.end" and r["data"]["phase"] == "restore"
                   and r["data"]["status"] == "ok" for r in tail), kinds
        assert tail[-1]["kind"] == "run.end" and tail[-1]["data"]["status"] == "aborted"
        assert "run folder not writable" in tail[-1]["data"]["summary"], tail[-1]["data"]
        problems += filter(None, [steady_problem(inv, lab), process_problem(home, lab, snapshot)])

        # Until it is completed, the run is unfinished: the next run is refused.
        again = run_drill(["run", "single-line", "-i", str(inv), "--reports", str(reports)],
                          home=home)
        assert again.returncode == 4 and "recover" in again.stderr, again.stderr
        still_full = run_drill(["recover", "-i", str(inv), "--reports", str(reports)], home=home)
        assert still_full.returncode == 4 and f"mounted at {disk}" in still_full.stderr, (
            still_full.stdout + still_full.stderr)
        assert first_bad_record(folder / "journal.jsonl") is None and fallback.is_file()
        filler.unlink()
        rec = run_drill(["recover", "-i", str(inv), "--reports", str(reports)], home=home)
        assert rec.returncode == 0, rec.stdout + rec.stderr
        assert not fallback.exists()
        whole = journal_records(folder)
        assert [r["hash"] for r in whole] == [r["hash"] for r in kept + tail]
        verify = run_drill(["verify", str(folder), "--reports", str(reports)], home=home)
        assert verify.returncode == 0, verify.stdout + verify.stderr
        assert (folder / "report.json").is_file() or any(folder.glob("report.*.json"))
    assert not problems, problems


def test_read_only_drill_home_is_refused_before_anything_starts(tmp_path):
    require_root()
    home = tmp_path / "home"
    inv = make_lab_inventory(tmp_path, gateways=2)
    with tmpfs(home, size="1m", options="ro"):
        res = run_drill(["run", "single-line", "-i", str(inv), "--reports",
                         str(tmp_path / "reports")], home=home, timeout_s=120)
        assert res.returncode == 4, res.stdout + res.stderr
        assert f"DRILL_HOME {home} is not writable (Read-only file system" in res.stderr
        assert "Traceback" not in res.stderr
        assert list(home.iterdir()) == []  # no lab state, no lock
    assert not (tmp_path / "reports").exists()
