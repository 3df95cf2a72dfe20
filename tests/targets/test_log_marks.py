"""Where each gateway log stood as a run started (targets/log_marks.py), for a gateway host
drill reaches without SSH (a local connection): the inode and size of every log the host's
`drill_gateway_log` names, and why for one it cannot read. Over SSH: tests/hostbed/test_e2e.py."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from orchestrator.config.inventory import load_inventory
from orchestrator.targets.log_marks import record_log_marks

ROOT = Path(__file__).resolve().parents[2]


def test_a_local_gateway_hosts_logs_are_marked_and_an_unreadable_one_says_why(tmp_path):
    inv_dir = tmp_path / "inv"
    shutil.copytree(ROOT / "inventories" / "production.example", inv_dir)
    doc = yaml.safe_load((inv_dir / "hosts.yml").read_text(encoding="utf-8"))
    logs = tmp_path / "logs"
    logs.mkdir()
    doc["all"]["children"]["gateway_hosts"]["hosts"]["gw-trade-01"] = {
        "ansible_connection": "local", "drill_gateway_log": str(logs / "{id}.log")}
    (inv_dir / "hosts.yml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    inv = load_inventory(inv_dir)
    on_host = sorted(g.id for g in inv.gateways if g.host == "gw-trade-01")
    (logs / f"{on_host[0]}.log").write_bytes(b"2026-12-05 09:00:00 logged in\n" * 10)
    dest = tmp_path / "evidence" / "log-marks.json"
    record_log_marks(inv, dest)
    marks = json.loads(dest.read_text())["log_marks"]
    assert sorted(marks) == on_host  # gw-md-01 names no log: not marked
    st = (logs / f"{on_host[0]}.log").stat()
    assert marks[on_host[0]] == {"host": "gw-trade-01", "path": str(logs / f"{on_host[0]}.log"),
                                 "inode": st.st_ino, "size": 300}
    assert "No such file" in marks[on_host[1]]["error"]
