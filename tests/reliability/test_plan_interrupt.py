"""`drill plan` runs its check-mode playbooks side by side (issue 19, P10): Ctrl-C, SIGTERM
or a closing terminal while they run ends every one of them (each runs in its own
session, where the signal never reaches it)."""

from __future__ import annotations

import shutil
import signal

import pytest
from drill_proc import REPO, DrillRun, _cmdline, all_procs, leftovers
from support import poll

from orchestrator.lab.testing import make_lab_inventory

# A pre-check whose check-mode run holds until the test has signalled drill: it says it
# started, then waits for a file nobody writes (both tasks also run under --check).
BLOCK = """\
- name: Hold the check (plan interrupt test)
  hosts: drill_control
  gather_facts: false
  tasks:
    - name: Say the check runs
      ansible.builtin.file: {path: "{{ started }}", state: touch, mode: "0600"}
      check_mode: false
    - name: Wait for a file nobody writes
      ansible.builtin.wait_for: {path: "{{ never }}", timeout: 600}
      check_mode: false
"""


def _project(tmp_path):
    root = tmp_path / "project"
    for sub in ("drills", "playbooks"):
        shutil.copytree(REPO / sub, root / sub)
    (root / "inventories").mkdir()
    (root / "playbooks" / "block.yml").write_text(BLOCK, encoding="utf-8")
    text = (REPO / "drills" / "carrier-outage.yaml").read_text(encoding="utf-8")
    verify = 'playbook: verify.yml\n      vars: {gateways: "{{ gateways() }}"}'
    assert text.count(verify) == 1
    started, never = tmp_path / "check.started", tmp_path / "never"
    text = text.replace("id: carrier-outage", "id: held-check").replace(
        verify, f'playbook: block.yml\n      vars: {{started: "{started}", never: "{never}"}}')
    (root / "drills" / "held-check.yaml").write_text(text, encoding="utf-8")
    return root, started


def _ignoring_sigint():
    # as a background job of a non-interactive shell starts it (CI): SIGINT ignored
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
@pytest.mark.parametrize("inherited", ["default", "sigint-ignored"])
def test_an_interrupted_plan_leaves_no_check_running(tmp_path, sig, inherited):
    inv = make_lab_inventory(tmp_path / "inv")
    home = tmp_path / "home"
    project, started = _project(tmp_path)
    run = DrillRun.start(["plan", "held-check", "--project", str(project), "--inventory", str(inv)],
                         home=home, workdir=tmp_path, tag=sig.name,
                         preexec=_ignoring_sigint if inherited == "sigint-ignored" else None)
    try:
        def holding():
            if run.proc.poll() is not None:
                raise AssertionError(f"drill plan ended before its check held:\n{run.output[-2000:]}")
            return started.exists()

        poll(holding, 120, "drill plan's held check-mode playbook")
        assert [p for p in all_procs() if "ansible-playbook" in _cmdline(p.pid)
                and str(inv) in _cmdline(p.pid) and p.state != "Z"]
        run.interrupt(sig)
        code = run.wait(120)
        assert code != 0, run.output
        assert leftovers(home) == [], run.output
        assert not [p for p in all_procs() if str(inv) in _cmdline(p.pid) and p.state != "Z"]
    finally:
        run.kill()
