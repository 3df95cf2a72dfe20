"""Batch changes: several lines, centres or gateways in one `drill lab` command and one
lab request (what the lab driver's playbooks run), each target stamped with its own instant."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from lab_helpers import by_gateway, monitor_status, truth_of, truth_when, wait_for

from orchestrator.errors import InputError
from orchestrator.lab.testing import make_lab_inventory, running_lab

TEMPLATE = Path(__file__).resolve().parents[2] / "playbooks" / "templates" / "server_list.xml.j2"


@pytest.fixture(scope="module")
def blab(tmp_path_factory):
    """One four-gateway lab for this module: (inventory path, DRILL_HOME, handle)."""
    tmp = tmp_path_factory.mktemp("batch")
    home = tmp / "home"
    inv = make_lab_inventory(tmp / "inv", gateways=4)
    with running_lab(inv, home) as handle:
        yield inv, home, handle


def drill(blab, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    inv, home, _ = blab
    code = "import sys; from orchestrator.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, *args, "-i", str(inv)], input=stdin,
                          env={**os.environ, "DRILL_HOME": str(home)}, capture_output=True,
                          text=True, timeout=120)


def json_lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_line_down_of_several_lines_prints_one_stamped_object_per_line(blab):
    handle = blab[2]
    down = drill(blab, "lab", "line", "down", "ct-ft", "ct-nf", "--mode", "shutdown", "--json")
    try:
        assert down.returncode == 0, down.stderr
        docs = json_lines(down.stdout)
        assert [d["target"] for d in docs] == ["ct-ft", "ct-nf"]
        lines = {ln["id"]: ln for ln in handle.status()["lines"]}
        assert lines["ct-ft"]["mode"] == "shutdown" and lines["ct-nf"]["mode"] == "shutdown"
        for d in docs:  # each line's stamp is the lab's own instant for that line
            fault = truth_when(handle, "fault", op="line_down", target=d["target"])[-1]
            assert fault["ts_ns"] == d["effective_ns"]
    finally:
        up = drill(blab, "lab", "line", "up", "ct-ft", "ct-nf", "--json")
    assert up.returncode == 0, up.stderr
    assert [d["target"] for d in json_lines(up.stdout)] == ["ct-ft", "ct-nf"]
    assert all(ln["state"] == "up" for ln in handle.status()["lines"])
    wait_for(lambda: all(g["state"] == "logged_in" for g in handle.status()["gateways"]),
             30, "every gateway logged in again")


def test_a_batch_with_one_unknown_target_changes_nothing(blab):
    handle = blab[2]
    bad = drill(blab, "lab", "line", "down", "ct-ft", "nope", "--json")
    assert bad.returncode == 2 and "unknown line 'nope'" in bad.stderr
    assert all(ln["state"] == "up" for ln in handle.status()["lines"])
    with pytest.raises(InputError, match="repeated: ct-ft"):
        handle.client.batch([{"op": "line_up", "line": "ct-ft"}, {"op": "line_down", "line": "ct-ft"}])
    assert not truth_of(handle, "fault", target="nope")


def test_centre_down_and_up_of_two_centres_in_one_command(blab):
    handle = blab[2]
    down = drill(blab, "lab", "centre", "down", "NF", "BJ", "--json")
    try:
        assert down.returncode == 0, down.stderr
        assert [d["target"] for d in json_lines(down.stdout)] == ["NF", "BJ"]
        assert {c["id"]: c["state"] for c in handle.status()["centres"]} == {
            "FT": "up", "NF": "down", "BJ": "down"}
    finally:
        up = drill(blab, "lab", "centre", "up", "NF", "BJ")
    assert up.returncode == 0 and "centre BJ up at " in up.stdout
    assert all(c["state"] == "up" for c in handle.status()["centres"])


def test_gateway_restart_of_several_gateways_restarts_each_once(blab):
    handle = blab[2]
    ids = [g.id for g in handle.inventory().gateways[:3]]
    before = by_gateway(handle.status())
    out = drill(blab, "lab", "gateway", "restart", *ids, "--json")
    assert out.returncode == 0, out.stderr
    docs = {d["target"]: d for d in json_lines(out.stdout)}
    assert sorted(docs) == sorted(ids)
    for gid in ids:
        assert docs[gid]["pid"] != before[gid]["pid"]
        assert truth_when(handle, "fault", op="gateway_restart", target=gid)[-1]["ts_ns"] \
            == docs[gid]["effective_ns"]
    wait_for(lambda: all(g["state"] == "logged_in" for g in handle.status()["gateways"]),
             30, "the restarted gateways logged in")


def test_repoint_renders_each_plan_entry_and_restarts_those_gateways(blab):
    handle = blab[2]
    inv = handle.inventory()
    gw = inv.gateways[0]  # even: FT first at home
    config = handle.state_dir / gw.config
    home_xml = config.read_text()
    bj = inv.centre("BJ").services[gw.service_name]
    plan = [{"gateway": {"id": gw.id}, "servers": [{"centre": "BJ", "address": bj.address,
                                                    "port": bj.port}]}]
    out = drill(blab, "lab", "gateway", "repoint", "--plan", "-", "--template", str(TEMPLATE),
                "--json", stdin=json.dumps(plan))
    try:
        assert out.returncode == 0, out.stderr
        (doc,) = json_lines(out.stdout)
        assert doc["target"] == gw.id and doc["op"] == "gateway_restart"
        assert f'address="{bj.address}" port="{bj.port}"' in config.read_text()
        st = wait_for(lambda: (s := monitor_status(handle, gw.id))["state"] == "logged_in"
                      and s["pid"] == doc["pid"] and s, 20, "the repointed gateway on BJ")
        assert st["centre"] == "BJ"
    finally:
        home = [{"gateway": {"id": gw.id},
                 "servers": [{"centre": c, "address": ep.address, "port": ep.port}
                             for c, ep in inv.server_order(gw)]}]
        back = drill(blab, "lab", "gateway", "repoint", "--plan", "-", "--template",
                     str(TEMPLATE), stdin=json.dumps(home))
    assert back.returncode == 0, back.stderr
    assert config.read_text() == home_xml  # what `drill lab up` rendered, byte for byte
    wait_for(lambda: by_gateway(handle.status())[gw.id]["centre"] == "FT", 20, "home again")


def test_repoint_refuses_an_unknown_gateway_before_writing_anything(blab):
    handle = blab[2]
    gw = handle.inventory().gateways[1]
    before = (handle.state_dir / gw.config).read_text()
    plan = [{"gateway": {"id": gw.id}, "servers": [{"centre": "FT", "address": "127.0.0.9",
                                                    "port": 1}]},
            {"gateway": {"id": "W999999T"}, "servers": [{"centre": "FT", "address": "127.0.0.9",
                                                         "port": 1}]}]
    out = drill(blab, "lab", "gateway", "repoint", "--plan", "-", stdin=json.dumps(plan))
    assert out.returncode == 2 and "W999999T" in out.stderr
    assert (handle.state_dir / gw.config).read_text() == before


def test_evidence_copies_configs_logs_truth_and_status_in_one_go(blab, tmp_path):
    handle = blab[2]
    ids = [g.id for g in handle.inventory().gateways[:2]]
    out = drill(blab, "lab", "evidence", "--dest", str(tmp_path / "ev"), *ids, "--json")
    assert out.returncode == 0, out.stderr
    files = set(json.loads(out.stdout)["files"])
    expected = {f"configs/{g}/server_list.xml" for g in ids} | {f"logs/{g}/gateway.log.gz" for g in ids} \
        | {"logs/lab/truth.jsonl.gz", "logs/lab/supervisor.log.gz", "routes/lab-status.json"}
    assert files == expected
    for rel in expected - {"routes/lab-status.json"}:
        assert (tmp_path / "ev" / rel).stat().st_mode & 0o777 == 0o640
    assert (tmp_path / "ev" / f"configs/{ids[0]}/server_list.xml").read_bytes() == \
        (handle.state_dir / handle.inventory().gateway(ids[0]).config).read_bytes()
    # logs are gzipped whole: the copy opens to the lab's log as it was when copied
    copied = gzip.decompress((tmp_path / "ev" / "logs/lab/truth.jsonl.gz").read_bytes())
    assert copied and (handle.state_dir / "truth.jsonl").read_bytes().startswith(copied)
    status = json.loads((tmp_path / "ev" / "routes" / "lab-status.json").read_text())
    assert status["running"] is True and {ln["id"] for ln in status["lines"]} >= {"ct-ft", "cu-nf"}


def test_evidence_reads_the_gateway_index_not_the_inventory_and_falls_back_without_it(blab, tmp_path):
    handle = blab[2]
    ids = [g.id for g in handle.inventory().gateways[:2]]
    env = handle.inventory().environment.name
    state_inv, index = handle.state_dir / "inventory.yml", handle.state_dir / "gateways.json"
    outs = []
    for hidden in (state_inv, index):  # the index alone, then the inventory alone
        hidden.rename(hidden.with_suffix(".aside"))
        try:
            outs.append(drill(blab, "lab", "evidence", "--dest", str(tmp_path / hidden.name), *ids,
                              "--environment", env, "--json"))
        finally:
            hidden.with_suffix(".aside").rename(hidden)
    assert [o.returncode for o in outs] == [0, 0], [o.stderr for o in outs]
    assert json.loads(outs[0].stdout)["files"] == json.loads(outs[1].stdout)["files"]
    for rel in (f"configs/{ids[0]}/server_list.xml", f"logs/{ids[1]}/gateway.log.gz"):
        assert (tmp_path / "inventory.yml" / rel).is_file()
