"""`drill check` live part on a real lab: logins, loaded configs, Beijing DR ports."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml
from compliance_helpers import drill_home  # noqa: F401 - drill_home: autouse fixture

from orchestrator.cli import main
from orchestrator.compliance.live import MonitorView, _logged_in_once
from orchestrator.config.inventory import load_inventory
from orchestrator.lab.testing import free_ports, make_lab_inventory, running_lab


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    base = tmp_path_factory.mktemp("live")
    home = base / "home"
    home.mkdir()
    inv = make_lab_inventory(base, gateways=3)
    with running_lab(inv, home) as handle:
        yield inv, home, handle


def check(capsys, monkeypatch, home: Path, *args: str) -> tuple[int, dict]:
    monkeypatch.setenv("DRILL_HOME", str(home))
    code = main(["check", "--json", *args])
    return code, json.loads(capsys.readouterr().out)


def rows(report, part):
    return {r["clause"]: r for r in report["rows"] if r["part"] == part}


def test_running_lab_passes_static_and_live(lab, capsys, monkeypatch):
    inv, home, _ = lab
    code, report = check(capsys, monkeypatch, home, "--inventory", str(inv))
    assert code == 0, report
    live = rows(report, "live")
    assert set(live) == {"R-APP-5", "R-APP-3", "R-DR-2"}
    assert all(r["status"] == "pass" for r in live.values())
    assert "monitors + lab sessions" in live["R-APP-5"]["evidence"]
    assert "BJ trading" in live["R-DR-2"]["evidence"]


def test_stopped_gateway_fails_live_r_app_5(lab, capsys, monkeypatch):
    inv, home, handle = lab
    gid = load_inventory(inv).gateways[0].id
    handle.client.gateway_stop(gid)
    try:
        code, report = check(capsys, monkeypatch, home, "--inventory", str(inv))
        assert code == 1
        assert report["failed"] == ["R-APP-5"]
        assert gid in rows(report, "live")["R-APP-5"]["evidence"]
        assert rows(report, "static")["R-APP-5"]["status"] == "pass"
    finally:
        handle.client.gateway_start(gid)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if all(g["state"] == "logged_in" for g in handle.status()["gateways"]):
                break
            time.sleep(0.1)  # polling the lab's state with a deadline


def test_beijing_ports_not_answering_fail_live_r_dr_2(tmp_path, capsys, monkeypatch):
    # No lab: BJ points at a port nobody listens on.
    folder = make_lab_inventory(tmp_path, gateways=1)
    doc = yaml.safe_load((folder / "hosts.yml").read_text())
    [port] = free_ports(1)
    for c in doc["all"]["vars"]["drill"]["centres"]:
        if c["id"] == "BJ":
            for svc in c["services"].values():
                svc.update(address="127.0.0.1", port=port)
    (folder / "hosts.yml").write_text(yaml.safe_dump(doc, allow_unicode=True))
    code, report = check(capsys, monkeypatch, tmp_path / "nohome", "--live", "--inventory", str(folder))
    assert code == 1
    live = rows(report, "live")
    assert live["R-DR-2"]["status"] == "fail" and f"127.0.0.1:{port}" in live["R-DR-2"]["evidence"]


def test_two_sessions_for_one_id_is_a_double_login(tmp_path):
    inv = load_inventory(make_lab_inventory(tmp_path, gateways=1))
    gid = inv.gateways[0].id
    view = MonitorView(gid, True, "logged_in", "FT", ())
    row = _logged_in_once(inv, [view], Counter({gid: 2}))
    assert row.status == "fail" and "double login" in row.evidence
