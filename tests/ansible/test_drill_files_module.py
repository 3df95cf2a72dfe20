"""Issue 19 (P11): drill_files, the module the linux driver writes a host's lab-xml server
lists with, one call per host, through real ansible-runner on the local host: every file
whose bytes differ is written whole with its mode, an identical one is left alone, the
sha256 before and after come back, --check writes nothing, and the content (it may hold a
gateway's password) never reaches Ansible's events."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ansible_helpers import LOCAL_INVENTORY

from orchestrator.adapters.ansible import PlaybookRun, run_playbook

ROOT = Path(__file__).resolve().parents[2]
SECRET = "Files-Pa55-3e9a"


def _run(tmp_path: Path, files: list[dict], check: bool = False):
    pb = tmp_path / "pb.yml"
    pb.write_text(
        "- name: Test play\n  hosts: all\n  gather_facts: false\n  tasks:\n"
        "    - name: Write\n      drill_files:\n"
        f"        files: {json.dumps(files)}\n      register: w\n"
        "    - name: Keep the result\n      ansible.builtin.copy:\n"
        "        content: \"{{ w.files | to_json }}\"\n"
        f"        dest: {tmp_path / 'out.json'}\n        mode: '0600'\n      check_mode: false\n",
        encoding="utf-8")
    inv = tmp_path / "inv.yml"
    inv.write_text(LOCAL_INVENTORY)
    pdd = tmp_path / ("pdd-check" if check else "pdd")
    result = run_playbook(PlaybookRun(
        playbook=pb, inventory=inv, extravars={}, private_data_dir=pdd, timeout_s=120, check=check,
        envvars={"ANSIBLE_LIBRARY": str(ROOT / "playbooks" / "library"),
                 "ANSIBLE_MODULE_UTILS": str(ROOT / "playbooks" / "module_utils")}))
    assert result.ok, [(t.task, t.msg) for t in result.tasks]
    events = "".join(p.read_text(errors="replace") for p in pdd.rglob("job_events/*.json"))
    return json.loads((tmp_path / "out.json").read_text()), events


def test_writes_only_what_differs_with_its_mode_and_reports_the_sha256(tmp_path):
    same, old, new = tmp_path / "same.xml", tmp_path / "old.xml", tmp_path / "gw" / "new.xml"
    new.parent.mkdir()
    same.write_text("<a/>\n")
    old.write_text("<b/>\n")
    files = [{"path": str(same), "content": "<a/>\n"},
             {"path": str(old), "content": f'<b password="{SECRET}"/>\n', "mode": "0600"},
             {"path": str(new), "content": "<c/>\n"}]
    out, events = _run(tmp_path, files)
    assert [(r["path"], r["changed"]) for r in out] == [(str(same), False), (str(old), True), (str(new), True)]
    assert out[1]["sha256_before"] == hashlib.sha256(b"<b/>\n").hexdigest()
    assert out[1]["sha256_after"] == hashlib.sha256(old.read_bytes()).hexdigest()
    assert out[2]["sha256_before"] is None and new.read_text() == "<c/>\n"
    assert old.stat().st_mode & 0o777 == 0o600 and new.stat().st_mode & 0o777 == 0o640
    assert SECRET not in events
    assert not list(tmp_path.rglob(".drill-*"))  # no temporary file left beside them


def test_check_mode_writes_nothing_and_says_what_would_change(tmp_path):
    old = tmp_path / "old.xml"
    old.write_text("<b/>\n")
    out, _ = _run(tmp_path, [{"path": str(old), "content": "<b2/>\n"},
                             {"path": str(tmp_path / "absent.xml"), "content": "<c/>\n"}], check=True)
    assert [r["changed"] for r in out] == [True, True]
    assert old.read_text() == "<b/>\n" and not (tmp_path / "absent.xml").exists()
