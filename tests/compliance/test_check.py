"""`drill check --static`: the lab passes every clause; each broken inventory fails exactly one."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from compliance_helpers import LAB_INVENTORY, drill_home, write_inventory  # noqa: F401 - drill_home: autouse fixture

from orchestrator.cli import main

CLAUSES = {"R-NET-1", "R-NET-2a", "R-NET-2b", "R-NET-2c", "R-APP-3", "R-APP-5", "R-DR-2", "R-SEC-2",
           "DRILL-ARCHIVE"}


def run_check(capsys, *args: str) -> tuple[int, dict]:
    code = main(["check", "--static", "--json", *args])
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_lab_inventory_passes_every_clause(capsys):
    code, report = run_check(capsys, "--inventory", str(LAB_INVENTORY))
    assert code == 0
    assert {r["clause"] for r in report["rows"]} == CLAUSES
    # R-SEC-2 is the hosts' logs: a lab has no host to read, so it is not tested, never passed
    assert {r["clause"]: r["status"] for r in report["rows"]} == {
        **{c: "pass" for c in CLAUSES}, "R-SEC-2": "not tested"}, report["rows"]
    assert all(r["evidence"] for r in report["rows"])


def test_table_names_each_clause(capsys):
    assert main(["check", "--static", "--inventory", str(LAB_INVENTORY)]) == 0
    out = capsys.readouterr().out
    for clause in CLAUSES:
        assert clause in out


def _one_carrier(d):
    for ln in d["lines"]:
        if ln["medium"] == "terrestrial":
            ln["carrier"] = "CT"


def _slow_line(d):
    d["lines"][2]["mbps"] = 1


def _l2_port(d):
    d["lines"][1]["port_layer"] = 2


def _satellite_gateway_in_cutover(d):
    d["gateways"].append({"id": "W00005TF", "kind": "market_data", "host": "lab",
                          "monitor": {"address": "127.0.0.1", "port": 17205},
                          "config": "gateways/W00005TF/server_list.xml",
                          "satellite_only": True, "dr_cutover": True})


def _duplicate_gateway(d):
    d["gateways"].append({**d["gateways"][0], "monitor": {"address": "127.0.0.1", "port": 17209}})


@pytest.mark.parametrize(("mutate", "clause", "words"), [
    (_one_carrier, "R-NET-1", "1 carrier"),
    (_slow_line, "R-NET-2a", "ct-nf 1 Mbps"),
    (_l2_port, "R-NET-2b", "cu-nf (L2)"),
    (_satellite_gateway_in_cutover, "R-DR-2", "W00005TF"),
    (_duplicate_gateway, "R-APP-5", "W000000T ×2"),
], ids=["one-carrier", "1mbps-line", "l2-port", "satellite-in-cutover", "duplicate-id"])
def test_broken_inventory_fails_exactly_that_clause(tmp_path, capsys, mutate, clause, words):
    inv = write_inventory(tmp_path, mutate)
    code, report = run_check(capsys, "--inventory", str(inv))
    assert code == 1
    failed = [r for r in report["rows"] if r["status"] == "fail"]
    assert [r["clause"] for r in failed] == [clause], failed
    assert words in failed[0]["evidence"]
    assert report["failed"] == [clause]


def test_gateway_listing_one_centre_fails_r_app_3(tmp_path, capsys):
    # The lab renders configs into its state folder; one of them lists FT only.
    cfg = Path(os.environ["DRILL_HOME"]) / "lab" / "lab" / "gateways" / "W000001T" / "server_list.xml"
    cfg.parent.mkdir(parents=True)
    cfg.write_text('<?xml version="1.0"?>\n<gateway id="W000001T" kind="trading">'
                   '<monitor address="127.0.0.1" port="17201"/><servers>'
                   '<server centre="FT" address="127.60.101.30" port="7043"/>'
                   '</servers></gateway>\n', encoding="utf-8")
    code, report = run_check(capsys, "--inventory", str(LAB_INVENTORY))
    assert code == 1
    assert report["failed"] == ["R-APP-3"]
    row = next(r for r in report["rows"] if r["clause"] == "R-APP-3")
    assert "W000001T" in row["evidence"] and "expected NF→FT" in row["evidence"]


def test_rendered_config_in_even_odd_order_passes(tmp_path, capsys):
    cfg = Path(os.environ["DRILL_HOME"]) / "lab" / "lab" / "gateways" / "W000001T" / "server_list.xml"
    cfg.parent.mkdir(parents=True)
    cfg.write_text('<gateway id="W000001T"><servers>'
                   '<server centre="NF" address="127.50.101.30" port="7043"/>'
                   '<server centre="FT" address="127.60.101.30" port="7043"/>'
                   '</servers></gateway>\n', encoding="utf-8")
    code, report = run_check(capsys, "--inventory", str(LAB_INVENTORY))
    assert code == 0
    row = next(r for r in report["rows"] if r["clause"] == "R-APP-3")
    assert "W000001T NF→FT (server_list.xml)" in row["evidence"]


def test_terrestrial_multicast_alone_is_a_warning(tmp_path, capsys):
    def mutate(d):
        d["lines"][3]["medium"] = "multicast-terrestrial"
    code, report = run_check(capsys, "--inventory", str(write_inventory(tmp_path, mutate)))
    assert code == 0
    row = next(r for r in report["rows"] if r["clause"] == "R-NET-2c")
    assert row["status"] == "warn"


def test_satellite_only_gateway_is_flagged_not_failed(tmp_path, capsys):
    def mutate(d):
        _satellite_gateway_in_cutover(d)
        del d["gateways"][-1]["dr_cutover"]
    code, report = run_check(capsys, "--inventory", str(write_inventory(tmp_path, mutate)))
    assert code == 0
    row = next(r for r in report["rows"] if r["clause"] == "R-DR-2")
    assert "W00005TF" in row["evidence"] and "no Beijing DR" in row["evidence"]


def test_broken_inventory_exits_2_with_clear_error(tmp_path, capsys):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "hosts.yml").write_text("all:\n  vars:\n    drill: [1, 2\n", encoding="utf-8")
    assert main(["check", "--static", "--inventory", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "hosts.yml" in err and "Traceback" not in err


def test_check_does_not_probe_a_stopped_lab(capsys):
    # No lab runs under this DRILL_HOME: default is static only.
    assert os.environ["DRILL_HOME"]
    assert main(["check", "--json", "--inventory", str(LAB_INVENTORY)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {r["part"] for r in report["rows"]} == {"static"}


def test_production_example_with_group_vars_is_checked(capsys):
    from compliance_helpers import REPO

    code, report = run_check(capsys, "--inventory", str(REPO / "inventories" / "production.example"))
    assert code == 0, report
    app5 = next(r for r in report["rows"] if r["clause"] == "R-APP-5")
    assert app5["evidence"] == "5 unique gateway ids"


def test_static_r_sec_2_is_not_tested_and_the_archive_is_its_own_row(tmp_path, capsys):
    def mutate(d):
        d["retention_days"] = 200
        d["environment"]["kind"] = "production"
    code, report = run_check(capsys, "--inventory", str(write_inventory(tmp_path, mutate)))
    assert code == 1 and report["failed"] == ["DRILL-ARCHIVE"]
    rows = {r["clause"]: r for r in report["rows"]}
    assert rows["DRILL-ARCHIVE"]["evidence"] == "retention_days 200 < 365"
    assert rows["DRILL-ARCHIVE"]["title"] == "drill's own run archive kept at least one year"
    sec = rows["R-SEC-2"]
    assert sec["status"] == "not tested" and "needs --live" in sec["evidence"]
    assert sec["title_zh"] == "互联网络设备和接入终端的日志保存不少于一年"


def test_table_output_names_the_failed_clause(tmp_path, capsys):
    assert main(["check", "--static", "--inventory", str(write_inventory(tmp_path, _l2_port))]) == 1
    out = capsys.readouterr()
    assert re.search(r"^R-NET-2b +static +FAIL ", out.out, re.M)  # columns as wide as "NOT TESTED"
    assert "failed: R-NET-2b" in out.err


def test_duplicate_id_plus_another_problem_is_still_exit_2(tmp_path, capsys):
    def mutate(d):
        _duplicate_gateway(d)
        d["lines"][0]["mbps"] = "fast"
    assert main(["check", "--static", "--inventory", str(write_inventory(tmp_path, mutate))]) == 2
    err = capsys.readouterr().err
    assert "drill.lines[0].mbps" in err and "Traceback" not in err
    assert str(tmp_path / "inv" / "hosts.yml") in err          # the file as given, not a copy
