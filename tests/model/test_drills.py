"""The shipped drills load, cite their clauses and resolve against the lab."""

from __future__ import annotations

import pytest
from model_support import DRILLS, drill_home, load_lab  # noqa: F401 (fixture)

from orchestrator.config.resolve import resolve
from orchestrator.config.scenario import find_drill, load_drill, load_drills
from orchestrator.errors import InputError
from orchestrator.model.drill import PHASES, parse_duration

SHIPPED = ["beijing-cutover", "carrier-outage", "centre-outage", "md-multicast-fallback",
           "single-line", "sscc-organised-drill"]


def test_every_shipped_drill_loads():
    assert [d.id for d in load_drills(DRILLS)] == SHIPPED


@pytest.mark.parametrize("drill_id", SHIPPED)
def test_shipped_drill_resolves_against_lab(drill_id):
    lab_inventory = load_lab()
    drill = find_drill(DRILLS, drill_id)
    resolved = resolve(drill, lab_inventory, {})
    # the firm's own drills are quarterly; an organised drill runs on its organiser's dates
    assert drill.spec and drill.cadence == ("yearly" if drill.kind == "organised" else "quarterly")
    assert drill.title.zh and drill.title.en and drill.title.zh != drill.title.en
    fault = resolved.phases["fault"]
    assert fault and all(step.effect for step in fault)
    assert resolved.phases["restore"], "a drill with a fault must restore"
    # Rendering leaves no template text behind.
    for _phase, step in resolved.steps():
        assert "{{" not in repr(step.vars) + repr(step.effect) + step.name.en + step.name.zh


@pytest.mark.parametrize(("drill_id", "clauses"), [
    ("single-line", {"R-NET-1", "R-APP-3"}),
    ("carrier-outage", {"R-NET-1"}),
    ("centre-outage", {"R-APP-3", "R-APP-5"}),
    ("beijing-cutover", {"R-DR-1", "R-DR-2", "R-DR-3", "R-DR-4"}),
    ("md-multicast-fallback", {"R-APP-4", "R-NET-2c"}),
    ("sscc-organised-drill", {"R-NET-1", "R-NET-5"}),
])
def test_drills_cite_their_clauses(drill_id, clauses):
    assert set(find_drill(DRILLS, drill_id).spec) >= clauses


def test_carrier_outage_cuts_every_line_of_the_carrier():
    lab_inventory = load_lab()
    resolved = resolve(find_drill(DRILLS, "carrier-outage"), lab_inventory, {"carrier": "CU"})
    (cut,) = resolved.phases["fault"]
    assert cut.effect.lines_down == ("cu-nf",)
    assert cut.vars["lines"] == ["cu-nf"]
    assert resolved.params["carrier"] == "CU"
    (back, *_rest) = resolved.phases["restore"]
    assert back.effect.lines_up == ("cu-nf",)


def test_beijing_cutover_repoints_and_verifies_dr_ports():
    lab_inventory = load_lab()
    resolved = resolve(find_drill(DRILLS, "beijing-cutover"), lab_inventory, {})
    down, repoint = resolved.phases["fault"]
    assert set(down.effect.centres_down) == {"FT", "NF"}
    assert repoint.playbook == "repoint.yml" and repoint.effect.repoint_to == "BJ"
    reachable = {g.id for g in lab_inventory.gateways if not g.satellite_only}
    assert set(repoint.effect.repoint_gateways) == reachable
    tcp = [(x.address, x.port) for s in resolved.phases["recovery"] for x in s.verify
           if x.probe == "tcp"]
    bj = lab_inventory.centre("BJ").services
    assert sorted(p for _, p in tcp) == [7013, 7015, 7043, 7044]
    assert {a for a, _ in tcp} == {bj["trading"].address, bj["market_data"].address,
                                   bj["settlement"].address}
    assert resolved.drill.targets.cutover_limit_s == 3 * 86400
    assert resolved.drill.targets.cutover_firm_s == 30 * 60
    restore = resolved.phases["restore"]
    assert any(s.effect and s.effect.repoint_to == "home" for s in restore)
    assert any(s.effect and set(s.effect.centres_up) == {"FT", "NF"} for s in restore)


def test_phases_have_recovery_wait_and_hold():
    lab_inventory = load_lab()
    resolved = resolve(find_drill(DRILLS, "single-line"), lab_inventory, {"hold": "2m"})
    (wait,) = resolved.phases["recovery"]
    assert wait.wait.until == "all_restored" and wait.wait.timeout_s == 60
    (hold,) = resolved.phases["hold"]
    assert hold.wait.for_s == 120 and hold.wait.while_ == "no_new_loss"
    assert tuple(resolved.phases) == PHASES


def test_set_unknown_line_names_the_lines_that_exist():
    lab_inventory = load_lab()
    with pytest.raises(InputError) as e:
        resolve(find_drill(DRILLS, "single-line"), lab_inventory, {"line": "nope"})
    (problem,) = e.value.problems
    assert problem.field == "line"
    for lid in ("ct-ft", "cu-nf", "ct-nf", "sat-1"):
        assert lid in problem.message


def test_set_checks_every_value_at_once():
    lab_inventory = load_lab()
    with pytest.raises(InputError) as e:
        resolve(find_drill(DRILLS, "single-line"), lab_inventory,
                {"mode": "unplug", "hold": "soon", "colour": "red"})
    fields = sorted(p.field for p in e.value.problems)
    assert fields == ["colour", "hold", "mode"]


def test_unknown_drill_names_the_drills_that_exist():
    with pytest.raises(InputError) as e:
        find_drill(DRILLS, "moon-landing")
    assert "carrier-outage" in str(e.value) and "single-line" in str(e.value)


@pytest.mark.parametrize(("text", "seconds"), [
    ("500ms", 0.5), ("5s", 5), ("2m", 120), ("1h", 3600), ("3d", 259200), (7, 7.0), ("1.5s", 1.5),
])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["5", "5 sec", "-1s", "", None, True, "1y"])
def test_parse_duration_rejects(text):
    with pytest.raises(InputError):
        parse_duration(text)


def test_drill_keeps_its_source_hash_and_lines():
    drill = load_drill(DRILLS / "single-line.yaml")
    assert len(drill.sha256) == 64
    assert all(step.line for _, step in drill.steps())


def test_drills_pass_yamllint():
    import subprocess
    import sys
    from pathlib import Path

    from model_support import REPO, require_tool

    beside = Path(sys.executable).with_name("yamllint")  # the venv's, when PATH lacks it
    yamllint = str(beside) if beside.exists() else require_tool("yamllint")
    result = subprocess.run([yamllint, "-f", "parsable", "drills"], cwd=REPO, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout


def test_failback_to_a_centre_nobody_calls_home_is_dropped(tmp_path):
    from orchestrator.config.inventory import load_inventory
    from orchestrator.lab.testing import make_lab_inventory

    inv = load_inventory(make_lab_inventory(tmp_path, gateways=1))  # W000000T only: FT first
    drill = find_drill(DRILLS, "centre-outage")
    to_nf = resolve(drill, inv, {"centre": "NF"}).phases["restore"]
    assert not any(s.playbook == "repoint.yml" for s in to_nf)
    to_ft = resolve(drill, inv, {"centre": "FT"}).phases["restore"]
    (failback,) = [s for s in to_ft if s.playbook == "repoint.yml"]
    assert failback.effect.repoint_gateways == ("W000000T",)
