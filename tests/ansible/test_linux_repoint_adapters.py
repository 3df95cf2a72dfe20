"""Issue 15: the shipped repoint.yml and the linux driver with vendor-format gateways, run by
real Ansible under --check (what `drill plan` does): each gateway's adapter is found
(a named definition in the project, an inline locator, the firm's template under the
project), drill_config works out the new file
on the gateway host (local connection here) and the journal summary carries the sha256
before and after; --check writes nothing, not even the backup. The write and the restore
themselves are tests/ansible/test_drill_config_module.py."""

from __future__ import annotations

import hashlib
from pathlib import Path

import yaml

from orchestrator.adapters.ansible import PlaybookRun, run_playbook

ROOT = Path(__file__).resolve().parents[2]
INI = ("; vendor\r\n[Exchange]\r\nServerCount=2\r\nServer1=172.60.101.30:7043\r\n"
       "Server2=172.50.101.30:7043\r\n").encode("gb18030")
KV = b"# hq\nserver.1=172.60.101.60:7044\nserver.2=172.50.101.60:7044\nretry=3\n"
XML = (b'<?xml version="1.0"?>\n<CCNET>\n  <Servers>\n    <Server ip="172.60.101.70" port="7013"/>\n'
       b'    <Server ip="172.50.101.70" port="7013"/>\n  </Servers>\n</CCNET>\n')
TEMPLATE = ("# rendered by the firm's template\n"
            "{% for s in servers %}server.{{ loop.index }}={{ s.address }}:{{ s.port }}\n{% endfor %}")


def test_repoint_to_bj_under_check_finds_each_adapter_and_changes_nothing(tmp_path):
    drill = yaml.safe_load((ROOT / "inventories" / "production.example" / "group_vars" / "all" / "drill.yml")
                           .read_text(encoding="utf-8"))["drill"]
    files = {"W000010T": (tmp_path / "W000010T.ini", INI), "W00012TF": (tmp_path / "W00012TF.conf", KV),
             "W00014JS": (tmp_path / "W00014JS.xml", XML)}
    project = tmp_path / "project"
    (project / "templates").mkdir(parents=True)
    (project / "templates" / "hq.conf.j2").write_text(TEMPLATE, encoding="utf-8")
    (project / "adapters").mkdir()
    (project / "adapters" / "sscc-ini.yaml").write_bytes((ROOT / "adapters" / "sscc-ini.yaml").read_bytes())
    gateways = []
    for gw in drill["gateways"]:
        if gw["id"] in files:
            path, data = files[gw["id"]]
            path.write_bytes(data)
            gateways.append({**gw, "host": "gwlocal", "config": str(path)})
    # the market-data gateway through the firm's own template instead
    gateways[1].update(config_format="template", config_locator={"template": "templates/hq.conf.j2"})
    drill["gateways"] = gateways
    inv = tmp_path / "hosts.yml"
    inv.write_text(yaml.safe_dump({"all": {"vars": {"drill": drill}, "children": {
        "drill_control": {"hosts": {"localhost": {"ansible_connection": "local",
                                                  "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}},
        "gateway_hosts": {"hosts": {"gwlocal": {"ansible_connection": "local", "drill_service_ctl": "true",
                                                "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}},
    }}}, allow_unicode=True, sort_keys=False), encoding="utf-8")
    result = run_playbook(PlaybookRun(
        playbook=ROOT / "playbooks" / "repoint.yml", inventory=inv, check=True, timeout_s=180,
        extravars={"to": "BJ", "drill_project": str(project), "evidence_dir": str(tmp_path / "evidence")},
        private_data_dir=tmp_path / "pdd"))
    assert result.ok, [(t.task, t.msg) for t in result.failed_tasks]
    [summary] = [t for t in result.tasks if t.task.startswith("The sha256 of each vendor config")]
    for gid, (path, data) in files.items():
        assert path.read_bytes() == data  # --check: nothing written
        assert not Path(f"{path}.drill-backup").exists()
        assert f"{gid} {path} repoint to BJ: sha256 before {hashlib.sha256(data).hexdigest()}" in summary.msg
    assert not (tmp_path / "evidence").exists()
    # what it would write: the BJ servers, through each adapter
    [edit] = [t for t in result.tasks if t.task.startswith("Edit the server entries")]
    assert edit.status == "changed", edit  # it would change them; --check wrote nothing
    after = {gid: line.split("after ")[1].split(",")[0] for gid, line in
             (part.strip().split(" ", 1) for part in summary.msg.split("; "))}
    kv_bj = "# rendered by the firm's template\nserver.1=172.70.101.60:7044\n"
    assert after["W00012TF"] == hashlib.sha256(kv_bj.encode()).hexdigest()
    xml_bj = XML.replace(b'    <Server ip="172.50.101.70" port="7013"/>\n', b"")
    xml_bj = xml_bj.replace(b"172.60.101.70", b"172.70.101.70")
    assert after["W00014JS"] == hashlib.sha256(xml_bj).hexdigest()
