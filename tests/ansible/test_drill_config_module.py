"""Issue 15: the drill_config module through real ansible-runner on the local host: a
repoint edits only the server entries of a vendor config (a gb18030/CRLF INI with a count,
and two differently laid-out files per format: INI, key=value, XML) and keeps the exact
bytes as a backup; the restore puts them back byte for byte; sha256 before and after and the
diff come back in the task result. One Ansible run serves every test here."""

from __future__ import annotations

import base64
import hashlib
import json
import shlex
from pathlib import Path

import pytest
from ansible_helpers import LOCAL_INVENTORY
from config_layouts import CASES, SZ3, changed_lines, encoding_of, server_line

from orchestrator.adapters.ansible import PlaybookRun, run_playbook

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ("; 深证通 vendor gateway\r\n[General]\r\nId=W000011T\r\n\r\n[Exchange]\r\nServerCount=2\r\n"
          "Server1=198.18.1.10:7043 ; 南方\r\nServer2=198.18.2.10:7043\r\nTimeout=30\r\n").encode("gb18030")
VENDOR_LOC = {"section": "Exchange", "key": "Server{n}", "count_key": "ServerCount", "encoding": "gb18030"}
BJ_ONLY = [{"centre": "BJ", "address": "127.70.101.30", "port": 7043}]
LAYOUTS = sorted(CASES)  # ini-A ini-B kv-A kv-B xml-A xml-B (tests/config_layouts.py)


def _mode(i: int) -> int:
    return 0o600 + 0o40 * (i % 2)  # 0600 or 0640: each file keeps its own


def _playbook(tmp_path: Path, items: list[dict]) -> Path:
    """Repoint each file, read them all back on the host (and the first one's backup; the
    others' is known by its sha256, backup_sha256), restore each."""
    loop = f"      loop: {json.dumps(items, ensure_ascii=False)}\n"
    paths = [shlex.quote(i["path"]) for i in items] + [shlex.quote(items[0]["path"] + ".drill-backup")]
    read = f"for f in {' '.join(paths)}; do base64 -w0 $f; echo; done"
    pb = tmp_path / "pb.yml"
    pb.write_text(
        "- name: Test play\n  hosts: all\n  gather_facts: false\n  tasks:\n"
        "    - name: Repoint\n      drill_config:\n        path: '{{ item.path }}'\n        state: repoint\n"
        "        format: '{{ item.format }}'\n        locator: '{{ item.locator }}'\n"
        "        servers: '{{ item.servers }}'\n      register: a\n" + loop +
        "    - name: Read them back on the host, and the first one's backup (one task)\n"
        "      ansible.builtin.shell: {executable: /bin/sh, cmd: \"" + read + "\"}\n"
        "      register: mid\n      changed_when: false\n" +
        "    - name: Restore\n      drill_config: {path: '{{ item.path }}', state: restore}\n      register: b\n"
        + loop +
        "    - name: Keep the results\n      ansible.builtin.copy:\n"
        "        content: \"{{ {'repoint': a.results, 'mid': mid.stdout_lines, 'restore': b.results} | to_json }}\"\n"
        f"        dest: {tmp_path / 'out.json'}\n        mode: '0600'\n", encoding="utf-8")
    return pb


@pytest.fixture(scope="module")
def ran(tmp_path_factory) -> tuple[dict[str, Path], dict[str, dict]]:
    """Every file through the module in one Ansible run: {case: path}, {case: results}."""
    tmp_path = tmp_path_factory.mktemp("drill-config")
    cases = {"vendor": ("ini", VENDOR, VENDOR_LOC, BJ_ONLY),
             **{c: (*CASES[c], SZ3) for c in LAYOUTS}}
    files, items = {}, []
    for i, (case, (fmt, data, loc, servers)) in enumerate(cases.items()):
        path = tmp_path / "gw" / case / f"gateway.{fmt}"
        path.parent.mkdir(parents=True)
        path.write_bytes(data)
        path.chmod(_mode(i))
        files[case] = path
        items.append({"case": case, "path": str(path), "format": fmt, "locator": loc, "servers": servers})
    inv = tmp_path / "inv.yml"
    inv.write_text(LOCAL_INVENTORY)
    result = run_playbook(PlaybookRun(
        playbook=_playbook(tmp_path, items), inventory=inv, extravars={},
        private_data_dir=tmp_path / "pdd", timeout_s=180,
        envvars={"ANSIBLE_LIBRARY": str(ROOT / "playbooks" / "library"),
                 "ANSIBLE_MODULE_UTILS": str(ROOT / "playbooks" / "module_utils")}))
    assert result.ok, [(t.task, t.msg) for t in result.tasks]
    out = json.loads((tmp_path / "out.json").read_text())
    by_case = {}
    for i, case in enumerate(cases):
        assert out["repoint"][i]["item"]["case"] == case
        by_case[case] = {"repoint": out["repoint"][i], "mid": base64.b64decode(out["mid"][i]),
                         "restore": out["restore"][i],
                         "mode": _mode(i)}
    by_case["vendor"]["kept"] = base64.b64decode(out["mid"][len(cases)])
    return files, by_case


def test_repoint_then_restore_is_byte_identical(ran):
    files, by_case = ran
    config, res = files["vendor"], by_case["vendor"]
    sha = hashlib.sha256(VENDOR).hexdigest()

    r, edited = res["repoint"], res["mid"]
    assert r["changed"] and r["sha256_before"] == sha == r["backup_sha256"]
    assert r["sha256_after"] == hashlib.sha256(edited).hexdigest() != sha
    assert edited.decode("gb18030") == ("; 深证通 vendor gateway\r\n[General]\r\nId=W000011T\r\n\r\n"
                                        "[Exchange]\r\nServerCount=1\r\nServer1=127.70.101.30:7043 ; 南方\r\n"
                                        "Timeout=30\r\n")
    assert "-Server2=198.18.2.10:7043" in r["unified_diff"]
    assert res["kept"] == VENDOR  # the exact bytes, kept on the host

    r = res["restore"]
    assert config.read_bytes() == VENDOR
    assert r["changed"] and r["restored"] and r["sha256_before"] == hashlib.sha256(edited).hexdigest()
    assert r["sha256_after"] == sha == r["backup_sha256"]
    assert not Path(r["backup"]).exists()
    assert config.stat().st_mode & 0o777 == res["mode"]


@pytest.mark.parametrize("case", LAYOUTS)
def test_two_layouts_per_format_only_server_entries_differ_then_the_exact_bytes(ran, case):
    """Two differently laid-out files per format (tests/config_layouts.py: BOM or none, CRLF
    or LF, utf-8 or gb18030, comments, count keys, attributes or child elements), repointed
    to three servers and restored on the host: while repointed only their server entries
    differ; restored, each is its exact bytes again, with its mode, as the sha256s say."""
    files, by_case = ran
    before, enc, path, res = CASES[case][1], encoding_of(case), files[case], by_case[case]
    sha = hashlib.sha256(before).hexdigest()
    r, edited, back = res["repoint"], res["mid"], res["restore"]
    assert r["changed"] and r["sha256_before"] == sha == r["backup_sha256"] != r["sha256_after"]
    assert r["sha256_after"] == hashlib.sha256(edited).hexdigest()
    gone, new = changed_lines(before, edited)
    assert (gone or new) and all(server_line(ln, enc) for ln in gone + new), (gone, new)
    assert all(s["address"] in edited.decode(enc) for s in SZ3)
    crlf = b"\r\n" in before
    assert all(ln.endswith(b"\r\n") == crlf for ln in new if ln.endswith(b"\n")), new
    assert edited.startswith(b"\xef\xbb\xbf") == before.startswith(b"\xef\xbb\xbf")
    assert back["restored"] and back["sha256_before"] == r["sha256_after"] and back["sha256_after"] == sha
    assert path.read_bytes() == before  # byte for byte
    assert path.stat().st_mode & 0o777 == res["mode"]
    assert not Path(f"{path}.drill-backup").exists()
