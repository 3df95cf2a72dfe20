"""No secret reaches the run folder: journal, evidence, reports, ansible-runner artifacts.

The lab inventory gets a plain password var and two Vault-encrypted values (`ansible-vault
encrypt_string`, vault password file): a group var and the control host's become password.
A drill in a copy of the project uses them the way a careless playbook would: prints
them in a task message, in a `no_log` task, and in registered command output. Then every
byte of every file of the run folder (gzip members decompressed) is searched.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from drill_proc import REPO, every_file_text, journal_records, run_drill, run_folders

from orchestrator.lab.testing import make_lab_inventory, running_lab

PLAIN_PASSWORD = "Pl41n-Gw-Passw0rd-5150"
VAULT_TOKEN = "V4ult-Api-T0ken-8964"
VAULT_BECOME = "V4ult-B3come-S3cret-2046"
VAULT_PASSWORD = "vault-file-passphrase-3141"

LEAK_PLAYBOOK = """\
- name: Use the secrets the way a careless playbook might
  hosts: drill_control
  gather_facts: false
  tasks:
    - name: Log in to the gateway admin API
      ansible.builtin.debug:
        msg: "token={{ drill_api_token }} password={{ gateway_admin_password }}"
    - name: Push the password (no_log)
      ansible.builtin.command:
        argv: [echo, "{{ gateway_admin_password }}"]
      no_log: true
      changed_when: false
    - name: Registered output holding the token and the become password
      ansible.builtin.command:
        argv: [printf, "%s %s", "{{ drill_api_token }}", "{{ ansible_become_password }}"]
      changed_when: false
"""


def _encrypt(value: str, name: str, vault_file: Path) -> str:
    exe = Path(sys.executable).parent / "ansible-vault"
    out = subprocess.run([str(exe), "encrypt_string", "--vault-password-file", str(vault_file),
                          "--name", name, value], capture_output=True, text=True, check=True,
                         timeout=120)
    return out.stdout


def _secret_inventory(tmp_path: Path, vault_file: Path | None) -> Path:
    """A test lab inventory holding a plain password, and a token and the control host's
    become password: Vault-encrypted when `vault_file` is given, else plain too."""
    inv = make_lab_inventory(tmp_path, gateways=3)
    hosts = inv / "hosts.yml"
    doc = yaml.safe_load(hosts.read_text(encoding="utf-8"))
    doc["all"]["vars"]["gateway_admin_password"] = PLAIN_PASSWORD
    doc["all"]["vars"]["drill_api_token"] = "@@VAULT@@"
    doc["all"]["children"]["drill_control"]["hosts"]["lab"]["ansible_become_password"] = "@@VAULT@@"
    vaulted = {"drill_api_token": VAULT_TOKEN, "ansible_become_password": VAULT_BECOME}
    out = []
    for line in yaml.safe_dump(doc, sort_keys=False, allow_unicode=True).splitlines():
        if "@@VAULT@@" not in line:
            out.append(line)
            continue
        pad = len(line) - len(line.lstrip())
        name = line.strip().split(":", 1)[0]
        if vault_file is None:
            out.append(" " * pad + f"{name}: {vaulted[name]}")
            continue
        block = _encrypt(vaulted[name], name, vault_file).strip().splitlines()
        out.append(" " * pad + block[0].strip())
        out += [" " * (pad + 2) + b.strip() for b in block[1:]]
    hosts.write_text("\n".join(out) + "\n", encoding="utf-8")
    return inv


def _project_copy(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    shutil.copytree(REPO / "drills", project / "drills")
    shutil.copytree(REPO / "playbooks", project / "playbooks")
    (project / "inventories").mkdir()
    (project / "playbooks" / "leak.yml").write_text(LEAK_PLAYBOOK, encoding="utf-8")
    drill = yaml.safe_load((project / "drills" / "single-line.yaml").read_text(encoding="utf-8"))
    drill["id"] = "secret-use"
    drill["phases"]["precheck"].append({"name": {"zh": "使用凭据", "en": "Use the credentials"},
                                        "playbook": "leak.yml"})
    (project / "drills" / "secret-use.yaml").write_text(
        yaml.safe_dump(drill, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return project


# One of the two per CI run (a seeded sample, ~21 s each); both under -m slow.
@pytest.mark.parametrize("vault", [
    pytest.param(False, id="plain", marks=pytest.mark.slow(group="secrets")),
    pytest.param(True, id="vault", marks=pytest.mark.slow(group="secrets")),
])
def test_no_secret_in_any_file_of_the_run_folder(tmp_path, vault):
    home, reports = tmp_path / "home", tmp_path / "reports"
    vault_file = None
    env = {}
    if vault:
        vault_file = tmp_path / "vault-pass"
        vault_file.write_text(VAULT_PASSWORD + "\n")
        vault_file.chmod(0o600)
        env["ANSIBLE_VAULT_PASSWORD_FILE"] = str(vault_file)
    inv = _secret_inventory(tmp_path, vault_file)
    ciphertexts = [line.strip() for line in (inv / "hosts.yml").read_text().splitlines()
                   if len(line.strip()) == 80 and all(c in "0123456789abcdef" for c in line.strip())]
    assert len(ciphertexts) >= (4 if vault else 0)
    project = _project_copy(tmp_path)
    with running_lab(inv, home):
        done = run_drill(["run", "secret-use", "--project", str(project), "-i", str(inv),
                          "--reports", str(reports)], home=home, extra_env=env)
    folders = run_folders(reports)
    assert len(folders) == 1, done.stdout + done.stderr
    folder = folders[0]

    # The secrets were really used: the tasks ran (else the grep proves nothing).
    tasks = {r["data"].get("task"): r["data"] for r in journal_records(folder)
             if r["kind"] == "ansible.task"}
    assert tasks.get("Log in to the gateway admin API", {}).get("status") == "ok", tasks
    assert "Push the password (no_log)" in tasks
    job_events = list(folder.glob("ansible/*/artifacts/*/job_events/*.json"))
    assert job_events, "the runner's artifacts were not kept; nothing to search"
    assert not list(folder.glob("ansible/*/env/extravars"))
    assert not list(folder.glob("ansible/*/env/passwords"))

    secrets = {"inventory password": PLAIN_PASSWORD, "token": VAULT_TOKEN,
               "become password": VAULT_BECOME, "vault password": VAULT_PASSWORD}
    secrets.update({f"vault ciphertext {i}": c for i, c in enumerate(ciphertexts)})
    found = []
    searched = 0
    for path, data in every_file_text(folder):
        searched += 1
        for what, value in secrets.items():
            if value.encode() in data:
                found.append(f"{path.relative_to(folder)}: {what}")
    assert searched > len(job_events)
    assert not found, "secrets in the run folder:\n" + "\n".join(found)
    # The stdout of the command, too: what the operator's terminal (and CI logs) show.
    for what, value in secrets.items():
        assert value not in done.stdout + done.stderr, f"{what} printed by drill run"
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    assert report["status"] == "passed"
