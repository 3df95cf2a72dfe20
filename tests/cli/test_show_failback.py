"""`drill show` names the failback step a `failback: true` drill gets after restore when it
spells none out (issue 20), in text and JSON."""

from __future__ import annotations

import json
from pathlib import Path

from orchestrator.cli import main

REPO = Path(__file__).resolve().parents[2]


def test_show_lists_the_failback_the_run_adds(capsys):
    assert main(["show", "single-line", "--project", str(REPO), "--lang", "en"]) == 0
    restore = capsys.readouterr().out.split("\nrestore:\n", 1)[1]
    assert "4. [playbook] failback (added after restore): repoint.yml" in restore
    assert main(["show", "single-line", "--project", str(REPO), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["adds_failback_step"] is True


def test_show_adds_nothing_when_the_drill_spells_its_failback_out(capsys):
    assert main(["show", "centre-outage", "--project", str(REPO), "--lang", "en"]) == 0
    assert "added after restore" not in capsys.readouterr().out
    assert main(["show", "centre-outage", "--project", str(REPO), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["adds_failback_step"] is False
