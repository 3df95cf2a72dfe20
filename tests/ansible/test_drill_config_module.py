"""Issue 15: the drill_config module through real ansible-runner on the local host: a
repoint edits only the server entries of a vendor INI (gb18030, CRLF) and keeps the exact
bytes as a backup; the restore puts them back byte for byte; sha256 before and after and the
diff come back in the task result."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

from ansible_helpers import LOCAL_INVENTORY

from orchestrator.adapters.ansible import PlaybookRun, run_playbook

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ("; 深证通 vendor gateway\r\n[General]\r\nId=W000011T\r\n\r\n[Exchange]\r\nServerCount=2\r\n"
          "Server1=198.18.1.10:7043 ; 南方\r\nServer2=198.18.2.10:7043\r\nTimeout=30\r\n").encode("gb18030")


def _playbook(tmp_path: Path, config: Path) -> Path:
    """Repoint, read the file back on the host (slurp), restore: one Ansible run."""
    repoint = {"path": str(config), "state": "repoint", "format": "ini",
               "locator": {"section": "Exchange", "key": "Server{n}", "count_key": "ServerCount",
                           "encoding": "gb18030"},
               "servers": [{"centre": "BJ", "address": "127.70.101.30", "port": 7043}]}
    restore = {"path": str(config), "state": "restore"}
    pb = tmp_path / "pb.yml"
    pb.write_text(
        "- name: Test play\n  hosts: all\n  gather_facts: false\n  tasks:\n"
        f"    - name: Repoint\n      drill_config: {json.dumps(repoint)}\n      register: a\n"
        f"    - name: Read it back\n      ansible.builtin.slurp: {{src: {config}}}\n      register: mid\n"
        f"    - name: Read the backup\n      ansible.builtin.slurp: {{src: {config}.drill-backup}}\n"
        "      register: kept\n"
        f"    - name: Restore\n      drill_config: {json.dumps(restore)}\n      register: b\n"
        "    - name: Keep the results\n      ansible.builtin.copy:\n"
        "        content: \"{{ {'repoint': a, 'mid': mid.content, 'kept': kept.content, 'restore': b} | to_json }}\"\n"
        f"        dest: {tmp_path / 'out.json'}\n        mode: '0600'\n")
    return pb


def _run(tmp_path: Path, config: Path) -> dict:
    inv = tmp_path / "inv.yml"
    inv.write_text(LOCAL_INVENTORY)
    result = run_playbook(PlaybookRun(
        playbook=_playbook(tmp_path, config), inventory=inv, extravars={},
        private_data_dir=tmp_path / "pdd", timeout_s=120,
        envvars={"ANSIBLE_LIBRARY": str(ROOT / "playbooks" / "library"),
                 "ANSIBLE_MODULE_UTILS": str(ROOT / "playbooks" / "module_utils")}))
    assert result.ok, [(t.task, t.msg) for t in result.tasks]
    return json.loads((tmp_path / "out.json").read_text())


def test_repoint_then_restore_is_byte_identical(tmp_path):
    config = tmp_path / "gw" / "gateway.ini"
    config.parent.mkdir()
    config.write_bytes(VENDOR)
    config.chmod(0o640)
    sha = hashlib.sha256(VENDOR).hexdigest()

    out = _run(tmp_path, config)
    r, edited = out["repoint"], base64.b64decode(out["mid"])
    assert r["changed"] and r["sha256_before"] == sha == r["backup_sha256"]
    assert r["sha256_after"] == hashlib.sha256(edited).hexdigest() != sha
    assert edited.decode("gb18030") == ("; 深证通 vendor gateway\r\n[General]\r\nId=W000011T\r\n\r\n"
                                        "[Exchange]\r\nServerCount=1\r\nServer1=127.70.101.30:7043 ; 南方\r\n"
                                        "Timeout=30\r\n")
    assert "-Server2=198.18.2.10:7043" in r["unified_diff"]
    assert base64.b64decode(out["kept"]) == VENDOR  # the exact bytes, kept on the host

    r = out["restore"]
    assert config.read_bytes() == VENDOR
    assert r["changed"] and r["restored"] and r["sha256_before"] == hashlib.sha256(edited).hexdigest()
    assert r["sha256_after"] == sha == r["backup_sha256"]
    assert not Path(r["backup"]).exists()
    assert oct(config.stat().st_mode & 0o777) == "0o640"
