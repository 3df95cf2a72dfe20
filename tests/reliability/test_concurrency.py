"""One drill per environment: two `drill run` started together give exactly one run."""

from __future__ import annotations

import signal
import subprocess

import pytest
from drill_proc import DrillRun, poll, run_drill, run_folders
from support import require_tool

from orchestrator.lab.testing import make_lab_inventory, running_lab


@pytest.mark.slow(group="concurrency")
def test_two_concurrent_runs_give_exactly_one_run(tmp_path):
    home, reports = tmp_path / "home", tmp_path / "reports"
    inv = make_lab_inventory(tmp_path, gateways=3)
    with running_lab(inv, home):
        args = ["run", "single-line", "-i", str(inv), "--reports", str(reports)]
        # Both pause before their first step, so neither can finish before the other starts.
        key = tmp_path / "firm_ed25519"  # an ordinary OpenSSH key, as a firm would make one
        subprocess.run([require_tool("ssh-keygen"), "-q", "-t", "ed25519", "-N", "", "-C",
                        "drill-archive", "-f", str(key)], check=True, timeout=60)
        runs = [DrillRun.start(args, home=home, workdir=tmp_path, pause_at="precheck:0:start",
                               tag=f"drill-{n}", extra_env={"DRILL_SIGNING_KEY": str(key)})
                for n in range(2)]
        try:
            def settled():
                paused = [r for r in runs if r.pause_file.exists()]
                done = [r for r in runs if r.proc.poll() is not None]
                return (paused, done) if len(paused) + len(done) == 2 else None

            paused, done = poll(settled, 300, "one run to pause and the other to finish")
            assert len(paused) == 1 and len(done) == 1, [r.output[-2000:] for r in runs]
            holder, refused = paused[0], done[0]
            assert refused.proc.returncode == 4, refused.output[-2000:]
            # The refusal names the holder: its pid (and run id, user, host, since).
            assert str(holder.proc.pid) in refused.output, refused.output
            assert len(run_folders(reports)) == 1, "the refused run wrote to the archive"
            # The run that went ahead need not cut anything to show it is the one run: it is
            # stopped before its first step (a whole signed run: tests/integrity/
            # test_signing_key.py), and still closed and sealed.
            holder.interrupt(signal.SIGINT)
            holder.release()
            assert holder.wait() == 3, holder.output[-3000:]
        finally:
            for r in runs:
                r.release()
                r.kill()
        folders = run_folders(reports)
        assert len(folders) == 1
        assert folders[0].name in refused.output
        # The run that went ahead (stopped, aborted) was sealed with the firm's key (DRILL_SIGNING_KEY).
        verify = run_drill(["verify", str(folders[0]), "--key", f"{key}.pub", "--require-signature"],
                           home=home)
        assert verify.returncode == 0, verify.stdout + verify.stderr
