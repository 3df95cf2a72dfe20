"""Real lab runs on inventories laid out as firms lay out Ansible inventories, the `drill`
variable (signing key included) in group_vars/all/drill.yml:

- `production`: inventories/production.example's layout (hosts.yml without `drill`).
  Before the one reader, `drill validate` and `drill plan` passed on it, then `drill run`
  died with a KeyError in the lab's own reader; the signing key set there was ignored.
- `ini`: an INI hosts file, the control host's connection only in host_vars/lab.yml."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from config_support import ini_layout, lab_drill, production_layout

from orchestrator.config.inventory import load_inventory
from orchestrator.lab.control import lab_down, lab_state_dir

REPO = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_S = 600


def _write_key(path: Path) -> Path:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = ed25519.Ed25519PrivateKey.generate()
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.OpenSSH,
                                       serialization.NoEncryption()))
    path.chmod(0o600)
    return path


def _drill(args: list, home: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DRILL_HOME": str(home)}
    for var in ("DRILL_SIGNING_KEY", "DRILL_DEBUG_PAUSE_AT", "ANSIBLE_VAULT_PASSWORD_FILE"):
        env.pop(var, None)
    return subprocess.run([sys.executable, "-c", "from orchestrator.cli import _entry; _entry()",
                           *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, env=env, timeout=RUN_TIMEOUT_S)


# One layout per CI run (a seeded sample, ~28 s each); both under -m slow.
@pytest.mark.parametrize("layout", [
    pytest.param(production_layout, id="production", marks=pytest.mark.slow(group="inventory-layout")),
    pytest.param(ini_layout, id="ini", marks=pytest.mark.slow(group="inventory-layout")),
])
def test_drill_run_signed_with_drill_in_group_vars(tmp_path, layout):
    project = tmp_path / "project"
    for part in ("drills", "playbooks"):
        shutil.copytree(REPO / part, project / part)
    (project / "inventories").mkdir()
    key = _write_key(project / "inventories" / "firm_ed25519")
    inv = layout(project / "inventories" / "site",
                     {**lab_drill(tmp_path, gateways=2), "signing": {"key": f"../{key.name}"}})
    home, reports = tmp_path / "home", tmp_path / "reports"
    name = load_inventory(inv).environment.name
    try:
        for args in (["validate", "-i", "site"], ["plan", "single-line", "-i", "site"]):
            out = _drill(args, home, project)
            assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
        out = _drill(["run", "single-line", "-i", "site", "--reports", reports, "--yes",
                      "--operator", "t"], home, project)
        assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
        assert "Traceback" not in out.stderr
    finally:
        lab_down(lab_state_dir(name, home))
    [journal] = sorted(reports.glob("*/*/journal.jsonl"))
    run = journal.parent
    assert (run / "journal.sig").is_file(), "the key in group_vars/all/drill.yml was ignored"
    pub = tmp_path / "firm.pub"
    pub.write_text(_public(key), encoding="utf-8")
    ok = _drill(["verify", run, "--key", pub, "--require-signature"], home, project)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "signed by key" in ok.stdout


def _public(key: Path) -> str:
    from cryptography.hazmat.primitives import serialization

    private = serialization.load_ssh_private_key(key.read_bytes(), password=None)
    return private.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                             serialization.PublicFormat.OpenSSH).decode() + "\n"
