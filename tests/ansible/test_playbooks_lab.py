"""The shipped playbooks against a real running lab, through the Ansible adapter."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from orchestrator.adapters.ansible import PlaybookRun, run_playbook
from orchestrator.config.inventory import load_inventory
from orchestrator.lab.control import LabClient
from orchestrator.lab.testing import make_lab_inventory, running_lab

PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """One small lab for the module (3 gateways: trading, market data, settlement)."""
    tmp = tmp_path_factory.mktemp("lab")
    home = tmp / "drill-home"
    home.mkdir()
    inv_path = make_lab_inventory(tmp, gateways=3)
    with running_lab(inv_path, home) as handle:
        yield inv_path, home, handle


def play(lab, tmp_path, name, **extravars):
    inv_path, home, _ = lab
    result = run_playbook(PlaybookRun(
        playbook=PLAYBOOKS / name, inventory=inv_path / "hosts.yml",
        extravars={"drill_home": str(home), "drill_run_id": "test", **extravars},
        private_data_dir=tmp_path / f"pdd-{uuid.uuid4().hex[:6]}", timeout_s=120))
    return result


def status(lab) -> dict:
    return LabClient(lab[2].state_dir).status()


def test_line_down_and_up_change_the_lab_and_report_the_effective_time(lab, tmp_path):
    down = play(lab, tmp_path, "line.yml", lines=["ct-ft"], state="down", mode="shutdown")
    assert down.status == "successful", [t.msg for t in down.failed_tasks]
    lines = {ln["id"]: ln for ln in status(lab)["lines"]}
    assert lines["ct-ft"]["state"] == "down" and lines["ct-ft"]["mode"] == "shutdown"
    assert lines["cu-nf"]["state"] == "up"
    change = next(t for t in down.tasks if t.task == "Change the lab lines")
    assert change.started_ns <= change.effective_ns <= change.ended_ns

    truth = [json.loads(x) for x in (lab[2].state_dir / "truth.jsonl").read_text().splitlines()]
    fault = [e for e in truth if e["type"] == "fault" and e.get("target") == "ct-ft"][-1]
    assert fault["ts_ns"] == down.effective_ns  # the lab's own instant, not ours

    up = play(lab, tmp_path, "line.yml", lines=["ct-ft"], state="up")
    assert up.status == "successful"
    assert {ln["id"]: ln["state"] for ln in status(lab)["lines"]}["ct-ft"] == "up"
    assert up.effective_ns is not None and up.effective_ns > down.effective_ns


def test_an_unknown_line_fails_the_playbook_naming_the_lines(lab, tmp_path):
    result = play(lab, tmp_path, "line.yml", lines=["no-such-line"], state="down")
    assert result.status == "failed"
    failed = result.failed_tasks[0]
    assert failed.task == "Check the request against the inventory"
    assert "ct-ft" in failed.msg and "cu-nf" in failed.msg
    assert all(ln["state"] == "up" for ln in status(lab)["lines"])


def test_centre_down_and_up(lab, tmp_path):
    down = play(lab, tmp_path, "centre.yml", centres=["NF"], state="down")
    assert down.status == "successful"
    assert {c["id"]: c["state"] for c in status(lab)["centres"]}["NF"] == "down"
    assert down.effective_ns is not None
    up = play(lab, tmp_path, "centre.yml", centres=["NF"], state="up")
    assert up.status == "successful"
    assert {c["id"]: c["state"] for c in status(lab)["centres"]}["NF"] == "up"


def test_repoint_to_beijing_and_home_renders_the_server_list_and_logs_in(lab, tmp_path):
    inv_path, _, handle = lab
    inv = load_inventory(inv_path)
    gw = inv.gateways[1]  # odd id: NF first at home
    config = handle.state_dir / gw.config
    home_xml = config.read_text()

    to_bj = play(lab, tmp_path, "repoint.yml", gateways=[gw.id], to="BJ")
    assert to_bj.status == "successful", [t.msg for t in to_bj.failed_tasks]
    bj = inv.centre("BJ").services[gw.service_name]
    xml = config.read_text()
    assert f'address="{bj.address}" port="{bj.port}"' in xml and 'centre="FT"' not in xml
    assert {g["id"]: g for g in status(lab)["gateways"]}[gw.id]["centre"] == "BJ"

    home = play(lab, tmp_path, "repoint.yml", gateways=[gw.id], to="home")
    assert home.status == "successful"
    assert config.read_text() == home_xml  # the playbook renders what the lab rendered
    state = {g["id"]: g for g in status(lab)["gateways"]}[gw.id]
    assert state["state"] == "logged_in" and state["centre"] == "NF"


def test_verify_passes_on_a_healthy_lab_and_fails_on_a_wrong_centre(lab, tmp_path):
    assert play(lab, tmp_path, "verify.yml").status == "successful"
    inv = load_inventory(lab[0])
    wrong = play(lab, tmp_path, "verify.yml", gateways=[inv.gateways[0].id], expect_centre="BJ")
    assert wrong.status == "failed"
    assert "expected logged_in" in wrong.failed_tasks[0].msg


def test_evidence_hashes_every_file_and_redacts_configs_with_passwords(lab, tmp_path):
    inv_path, _, handle = lab
    inv = load_inventory(inv_path)
    gw = inv.gateways[0]
    config = handle.state_dir / gw.config
    original = config.read_text()
    secret = "Gw-Pass-913b"
    # A config holding a credential, as a production gateway's does.
    config.write_text(original.replace("</gateway>",
                                       f'  <credential user="{gw.id}" password="{secret}"/>\n</gateway>'))
    try:
        out = tmp_path / "evidence"
        result = play(lab, tmp_path, "evidence.yml", evidence_dir=str(out))
    finally:
        config.write_text(original)
    assert result.status == "successful", [t.msg for t in result.failed_tasks]

    import hashlib

    manifest = json.loads((out / "manifest.json").read_text())
    by_path = {f["path"]: f for f in manifest["files"]}
    for rel, entry in by_path.items():
        assert hashlib.sha256((out / rel).read_bytes()).hexdigest() == entry["sha256"]
    stored = out / "configs" / gw.id / "server_list.xml"
    entry = by_path[f"configs/{gw.id}/server_list.xml"]
    assert secret not in stored.read_text() and entry["redacted"] is True
    with_pw = original.replace("</gateway>",
                               f'  <credential user="{gw.id}" password="{secret}"/>\n</gateway>')
    assert entry["sha256_original"] == hashlib.sha256(with_pw.encode()).hexdigest()
    assert f"logs/{gw.id}/gateway.log.gz" in by_path and "routes/lab-status.json" in by_path
    assert not any(secret.encode() in p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())


def test_check_mode_changes_nothing_and_verify_still_reads_the_monitors(lab, tmp_path):
    inv_path, home, _ = lab
    results = {}
    for name, extravars in (("line.yml", {"lines": ["ct-ft"], "state": "down"}),
                            ("verify.yml", {})):
        results[name] = run_playbook(PlaybookRun(
            playbook=PLAYBOOKS / name, inventory=inv_path / "hosts.yml",
            extravars={"drill_home": str(home), **extravars}, check=True,
            private_data_dir=tmp_path / f"pdd-{uuid.uuid4().hex[:6]}", timeout_s=120))
    assert results["line.yml"].status == "successful"
    assert all(ln["state"] == "up" for ln in status(lab)["lines"])
    verify = results["verify.yml"]
    assert verify.status == "successful"
    reads = next(t for t in verify.tasks if t.action.endswith("drill_monitor"))
    assert reads.status == "ok"  # not skipped: drill plan's check mode really looks


def test_cutting_two_lines_in_one_task_stamps_each_line_with_its_own_instant(lab, tmp_path):
    from orchestrator.engine.timing import effective_by_target

    down = play(lab, tmp_path, "line.yml", lines=["ct-ft", "ct-nf"], state="down")
    try:
        assert down.status == "successful", [t.msg for t in down.failed_tasks]
        changes = [t for t in down.tasks if t.task == "Change the lab lines"]
        assert len(changes) == 1  # one command for both lines
        by_target = effective_by_target(down.private_data_dir)
        truth = [json.loads(x) for x in (lab[2].state_dir / "truth.jsonl").read_text().splitlines()]
        for line in ("ct-ft", "ct-nf"):
            fault = [e for e in truth if e["type"] == "fault" and e.get("target") == line][-1]
            assert by_target[line] == fault["ts_ns"]
        assert down.effective_ns == min(by_target["ct-ft"], by_target["ct-nf"])
    finally:
        up = play(lab, tmp_path, "line.yml", lines=["ct-ft", "ct-nf"], state="up")
    assert up.status == "successful"
    assert all(ln["state"] == "up" for ln in status(lab)["lines"])


def test_verify_names_every_gateway_not_where_expected_in_one_message(lab, tmp_path):
    ids = [g.id for g in load_inventory(lab[0]).gateways]
    wrong = play(lab, tmp_path, "verify.yml", expect_centre="BJ")
    assert wrong.status == "failed"
    msg = wrong.failed_tasks[0].msg
    assert f"{len(ids)} of {len(ids)} gateway(s) not as expected" in msg
    for gid in ids:
        assert f"{gid}: state logged_in at " in msg and "expected logged_in at BJ" in msg


def test_repoint_fails_naming_the_gateway_that_never_logs_in_at_its_new_servers(lab, tmp_path):
    inv_path, _, handle = lab
    gw = load_inventory(inv_path).gateways[0]
    client = LabClient(handle.state_dir)
    client.centre_down("BJ")
    try:
        stuck = play(lab, tmp_path, "repoint.yml", gateways=[gw.id], to="BJ",
                     drill_login_retries=15)  # 1.5 s instead of 60 s
    finally:
        client.centre_up("BJ")
        home = play(lab, tmp_path, "repoint.yml", gateways=[gw.id], to="home")
    assert stuck.status == "failed"
    failed = stuck.failed_tasks[0]
    assert failed.task.startswith("Wait until each gateway is logged in")
    assert f"{gw.id}: state " in failed.msg and "expected logged_in at BJ" in failed.msg
    assert "after waiting 1.5s" in failed.msg
    assert home.status == "successful", [t.msg for t in home.failed_tasks]
    assert {g["id"]: g for g in status(lab)["gateways"]}[gw.id]["state"] == "logged_in"


def test_evidence_under_check_mode_writes_nothing(lab, tmp_path):
    inv_path, home, _ = lab
    out = tmp_path / "evidence"
    result = run_playbook(PlaybookRun(
        playbook=PLAYBOOKS / "evidence.yml", inventory=inv_path / "hosts.yml",
        extravars={"drill_home": str(home), "evidence_dir": str(out)}, check=True,
        private_data_dir=tmp_path / f"pdd-{uuid.uuid4().hex[:6]}", timeout_s=120))
    assert result.status == "successful", [t.msg for t in result.failed_tasks]
    assert not out.exists()
