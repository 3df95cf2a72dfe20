"""`drill list` and `drill show` on the shipped project; `--set` errors on the command line."""

from __future__ import annotations

import json

from model_support import REPO, drill_home  # noqa: F401 (fixture)

from orchestrator.cli import main


def test_list_shows_id_title_clauses_cadence(capsys):
    assert main(["list", "--project", str(REPO)]) == 0
    out = capsys.readouterr().out
    row = next(ln for ln in out.splitlines() if ln.startswith("beijing-cutover"))
    assert "D+3 Beijing DR cutover" in row and "R-DR-1" in row and "quarterly" in row


def test_list_in_chinese(capsys):
    assert main(["list", "--lang", "zh", "--project", str(REPO)]) == 0
    out = capsys.readouterr().out
    assert "单运营商故障演练" in out and "每季度" in out and "对应规范条款" in out


def test_list_json(capsys):
    assert main(["list", "--json", "--project", str(REPO)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["id"] for r in rows} >= {"single-line", "md-multicast-fallback"}
    assert all(r["title"]["zh"] and r["title"]["en"] for r in rows)


def test_show_lists_params_targets_and_steps(capsys):
    assert main(["show", "carrier-outage", "--project", str(REPO)]) == 0
    out = capsys.readouterr().out
    assert "carrier (carrier) = CT" in out
    assert "trading RTO <= 30s" in out and "market_data RTO <= 10s" in out
    for phase in ("precheck:", "fault:", "recovery:", "hold:", "restore:"):
        assert phase in out
    assert "playbook: \"line.yml\"" in out


def test_show_unknown_drill_names_the_drills(capsys):
    assert main(["show", "nope", "--project", str(REPO)]) == 2
    assert "carrier-outage" in capsys.readouterr().err


def test_set_unknown_line_on_the_command_line(capsys):
    code = main(["plan", "single-line", "--set", "line=nope", "--project", str(REPO)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "unknown line 'nope'; expected one of: ct-ft, cu-nf, ct-nf, sat-1" in err
