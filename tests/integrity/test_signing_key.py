"""`drill run --signing-key PATH`: a real run on a test lab is sealed with the given key;
its ansible-runner artifacts and a later render are bound, so a flipped byte fails verify."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from engine.engine_fixtures import make_project
from support import require_tool
from test_verify import drill_exe

from orchestrator.lab.testing import make_lab_inventory, running_lab

RUN_TIMEOUT_S = 600


def drill(args: list, home: Path, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    full = {**os.environ, "DRILL_HOME": str(home), **(env or {})}
    full.pop("DRILL_SIGNING_KEY", None)
    full.pop("DRILL_DEBUG_PAUSE_AT", None)
    return subprocess.run([drill_exe(), *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=full, timeout=RUN_TIMEOUT_S)


@pytest.fixture
def ssh_key(tmp_path) -> Path:
    """An ordinary OpenSSH key, as a firm would make one (ssh-keygen writes key + key.pub)."""
    key = tmp_path / "firm_ed25519"
    subprocess.run([require_tool("ssh-keygen"), "-q", "-t", "ed25519", "-N", "", "-C",
                    "drill-archive", "-f", str(key)], check=True, timeout=60)
    return key


def flip(path: Path, pos: int) -> bytes:
    original = path.read_bytes()
    path.write_bytes(original[:pos] + bytes([original[pos] ^ 0x41]) + original[pos + 1:])
    return original


@pytest.mark.slow(group="integrity-real-run")  # one real lab run; CI's sample always takes it
def test_drill_run_signing_key_seals_a_real_run(tmp_path, ssh_key):
    home, reports = tmp_path / "home", tmp_path / "reports"
    inv = make_lab_inventory(tmp_path, gateways=2)
    # The engine tests' quick carrier drill (no pre-check or evidence step): sealing does
    # not depend on the drill, and its playbooks leave ansible-runner artifacts to bind.
    project = make_project(tmp_path / "project")
    with running_lab(inv, home):
        out = drill(["run", "quick-failback", "-i", inv, "--reports", reports,
                     "--project", project, "--signing-key", ssh_key], home, tmp_path)
        assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    [run] = sorted(reports.glob("*/*/journal.jsonl"))
    run = run.parent
    pub = f"{ssh_key}.pub"
    ok = drill(["verify", run, "--key", pub, "--require-signature"], home, tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "signed by key" in ok.stdout
    # The published public key in the archive is the firm's.
    published = list((reports / "keys").glob("*.pub"))
    assert len(published) == 1
    assert published[0].read_text().split()[:2] == Path(pub).read_text().split()[:2]

    # A byte of a kept ansible-runner artifact (after redaction) fails verify, naming it.
    events = sorted((run / "ansible").glob("*/artifacts/*/job_events/*.json"))
    assert events and (run / "ansible" / "manifest.json").is_file()
    victim = events[len(events) // 2]
    original = flip(victim, len(victim.read_bytes()) // 2)
    bad = drill(["verify", run, "--key", pub], home, tmp_path)
    victim.write_bytes(original)
    assert bad.returncode == 1
    assert victim.relative_to(run).as_posix() in bad.stdout

    # A later render is recorded, signed with the same key, and bound.
    md = drill(["report", run, "--format", "md", "--lang", "en", "--signing-key", ssh_key],
               home, tmp_path)
    assert md.returncode == 0, md.stderr
    render = Path(md.stdout.split()[0])  # the Markdown, then the activity log it links
    assert render.parent == run
    assert drill(["verify", run, "--key", pub, "--require-signature"], home,
                 tmp_path).returncode == 0
    original = flip(render, 10)
    bad = drill(["verify", run, "--key", pub], home, tmp_path)
    render.write_bytes(original)
    assert bad.returncode == 1 and render.name in bad.stdout


def test_a_bad_signing_key_path_exits_2_before_anything_runs(tmp_path):
    home, reports = tmp_path / "home", tmp_path / "reports"
    inv = make_lab_inventory(tmp_path, gateways=1)
    not_a_key = tmp_path / "not-a-key"
    not_a_key.write_text("hello\n")
    for key in (tmp_path / "missing", not_a_key):
        for cmd in (["run", "single-line", "--reports", reports], ["recover"]):
            out = drill([*cmd, "-i", inv, "--signing-key", key], home, tmp_path)
            assert out.returncode == 2, out.stdout + out.stderr
            lines = out.stderr.strip().splitlines()
            assert len(lines) == 1 and "--signing-key" in lines[0] and str(key) in lines[0], lines
            assert "Traceback" not in out.stderr
    assert not reports.exists(), "a refused run wrote to the archive"
    assert not (home / "lab").exists() or not any((home / "lab").iterdir()), "the lab was started"
