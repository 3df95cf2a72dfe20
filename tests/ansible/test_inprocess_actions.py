"""drill's control-host modules (drill_lab, drill_monitor, drill_evidence) run inside
Ansible's worker on a local connection, and give the result the module itself gives."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from ansible_helpers import LOCAL_INVENTORY

from orchestrator.adapters.ansible import PlaybookRun, run_playbook

PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"
EFFECTIVE_NS = 1_700_000_000_123_456_789
# A stand-in for the drill CLI: notes who ran it and prints one stamped change.
FAKE_CLI = f"""#!/bin/sh
tr '\\0' ' ' < /proc/$PPID/cmdline > "$(dirname "$0")/parent.txt"
cat > "$(dirname "$0")/stdin.txt"
echo "$@" > "$(dirname "$0")/argv.txt"
echo '{{"ok": true, "target": "ct-ft", "effective_ns": {EFFECTIVE_NS}}}'
"""


def play(tmp_path: Path, task: dict, check: bool = False) -> tuple[object, dict]:
    """Run one task on the control host; the adapter's result and the task's own result."""
    inv = tmp_path / "hosts.yml"
    inv.write_text(LOCAL_INVENTORY, encoding="utf-8")
    pb = tmp_path / "play.yml"
    pb.write_text(json.dumps([{"hosts": "drill_control", "gather_facts": False, "tasks": [task]}]),
                  encoding="utf-8")
    pdd = tmp_path / f"pdd{len(list(tmp_path.glob('pdd*')))}"
    result = run_playbook(PlaybookRun(
        playbook=pb, inventory=inv, extravars={}, private_data_dir=pdd, check=check, timeout_s=120,
        envvars={"ANSIBLE_LIBRARY": str(PLAYBOOKS / "library"),
                 "ANSIBLE_ACTION_PLUGINS": str(PLAYBOOKS / "action_plugins")}))
    events = [json.loads(p.read_text(encoding="utf-8"))
              for p in sorted((pdd / "artifacts" / "run" / "job_events").glob("*.json"))]
    res = next((e["event_data"]["res"] for e in events
                if e["event"] in ("runner_on_ok", "runner_on_failed") and "res" in e["event_data"]), {})
    return result, res


def as_module(tmp_path: Path, name: str, args: dict) -> dict:
    """The same module run as its own process, as Ansible runs it on any other connection."""
    path = tmp_path / f"{name}-args.json"
    path.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}), encoding="utf-8")
    out = subprocess.run([sys.executable, str(PLAYBOOKS / "library" / f"{name}.py"), str(path)],
                         capture_output=True, text=True, timeout=60)
    return json.loads(out.stdout)


def comparable(res: dict, *skip: str) -> dict:
    """A task's result without what Ansible adds around a module's own answer."""
    drop = {"invocation", "changed", "failed", "exception", *skip}
    return {k: v for k, v in res.items() if k not in drop and not k.startswith("_ansible")}


@pytest.fixture
def fake_cli(tmp_path):
    cli = tmp_path / "bin" / "drill"
    cli.parent.mkdir()
    cli.write_text(FAKE_CLI, encoding="utf-8")
    cli.chmod(0o755)
    return cli


def test_a_lab_command_runs_from_ansibles_worker_and_its_stamp_reaches_the_adapter(tmp_path, fake_cli):
    args = {"argv": ["line", "down", "ct-ft"], "lab": "t1", "cli": str(fake_cli),
            "home": str(tmp_path), "stdin": "plan"}
    result, res = play(tmp_path, {"name": "Cut", "drill_lab": args})
    assert result.status == "successful"
    task = result.tasks[-1]
    assert task.status == "changed" and task.effective_ns == EFFECTIVE_NS
    assert "ansible-playbook" in (fake_cli.parent / "parent.txt").read_text()  # no module process
    assert (fake_cli.parent / "argv.txt").read_text().split() == [
        "lab", "line", "down", "ct-ft", "--environment", "t1", "--json"]
    assert (fake_cli.parent / "stdin.txt").read_text() == "plan"

    module = as_module(tmp_path, "drill_lab", args)
    assert "drill_lab.py" in (fake_cli.parent / "parent.txt").read_text()
    assert module["changed"] is True
    assert comparable(res) == comparable(module)


def test_a_failing_lab_command_fails_its_task_with_the_commands_error(tmp_path):
    cli = tmp_path / "drill"
    cli.write_text("#!/bin/sh\necho 'error: line: unknown line x' >&2\nexit 2\n", encoding="utf-8")
    cli.chmod(0o755)
    args = {"argv": ["line", "down", "x"], "lab": "t1", "cli": str(cli), "home": str(tmp_path)}
    result, res = play(tmp_path, {"name": "Cut", "drill_lab": args})
    assert result.status == "failed"
    assert result.failed_tasks[0].msg == "drill lab line down: error: line: unknown line x"
    assert res["rc"] == 2


def test_under_check_mode_only_a_read_only_lab_command_runs(tmp_path, fake_cli):
    change = {"argv": ["line", "down", "ct-ft"], "lab": "t1", "cli": str(fake_cli), "home": str(tmp_path)}
    result, res = play(tmp_path, {"name": "Cut", "drill_lab": change}, check=True)
    assert result.status == "successful" and result.tasks[-1].status == "skipped"
    assert not (fake_cli.parent / "argv.txt").exists()
    result, res = play(tmp_path, {"name": "Read", "drill_lab": {**change, "argv": ["status"], "read_only": True}},
                       check=True)
    assert result.status == "successful" and res["changed"] is False and res["rc"] == 0
    assert (fake_cli.parent / "argv.txt").read_text().split()[:2] == ["lab", "status"]


class _Monitor(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"state": "logged_in", "centre": "FT", "session_id": "s1",
                           "login_time": "2026-12-05T01:00:00Z", "other": 1}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def monitor():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Monitor)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"address": "127.0.0.1", "port": server.server_address[1]}
    server.shutdown()
    server.server_close()


def test_monitors_read_in_the_worker_give_the_modules_answer(tmp_path, monitor):
    args = {"gateways": [{"id": "W1", "monitor": monitor}, {"id": "W2", "monitor": monitor}],
            "expect_centre": "NF"}
    result, res = play(tmp_path, {"name": "Read", "drill_monitor": args})
    module = as_module(tmp_path, "drill_monitor", args)
    assert result.status == "failed" and module["failed"] is True
    assert res["bad"] == ["W1", "W2"] and res["gateways"]["W1"]["centre"] == "FT"
    assert res["msg"] == module["msg"] == (
        "2 of 2 gateway(s) not as expected: W1: state logged_in at FT, expected logged_in at NF; "
        "W2: state logged_in at FT, expected logged_in at NF")
    assert comparable(res, "elapsed_s") == comparable(module, "elapsed_s")


def test_evidence_sealed_in_the_worker_matches_the_modules_manifest(tmp_path):
    folders = []
    for name in ("worker", "module"):
        root = tmp_path / name
        (root / "configs" / "W1").mkdir(parents=True)
        (root / "configs" / "W1" / "gw.ini").write_text("[a]\npassword = s3cret\nhost=1\n", encoding="utf-8")
        (root / "logs").mkdir()
        (root / "logs" / "gw.log").write_text("line\n", encoding="utf-8")
        folders.append(root)
    seal = {"state": "sealed", "run_id": "r1", "environment": "e1"}
    result, res = play(tmp_path, {"name": "Seal", "drill_evidence": {**seal, "path": str(folders[0])}})
    module = as_module(tmp_path, "drill_evidence", {**seal, "path": str(folders[1])})
    assert result.status == "successful"
    assert res["redacted"] == module["redacted"] == ["configs/W1/gw.ini"]
    manifests = [json.loads((f / "manifest.json").read_text(encoding="utf-8")) for f in folders]
    for m in manifests:
        del m["collected_at"]
    assert manifests[0] == manifests[1]
    assert "s3cret" not in (folders[0] / "configs" / "W1" / "gw.ini").read_text(encoding="utf-8")
