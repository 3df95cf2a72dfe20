"""`drill schedule`: systemd units pass systemd-analyze verify; cron lines have cron's form."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from compliance_helpers import REPO, drill_home, write_inventory  # noqa: F401 - drill_home: autouse fixture
from support import require_tool

from orchestrator.cli import main
from orchestrator.compliance.schedule import find_slot
from orchestrator.config.inventory import load_inventory
from orchestrator.model.windows import in_change_window

SH = ZoneInfo("Asia/Shanghai")
DAY_NUM = {"Mon": 0, "Tue": 1, "Wed": 2, "Thu": 3, "Fri": 4, "Sat": 5, "Sun": 6}


@pytest.fixture
def project(tmp_path):
    proj = tmp_path / "proj"
    for sub in ("playbooks", "inventories"):
        (proj / sub).mkdir(parents=True)
    shutil.copytree(REPO / "drills", proj / "drills")
    return proj


def _production(d):
    d["environment"] = {"name": "prod-sz", "kind": "production", "timezone": "Asia/Shanghai"}
    d["change_windows"] = [{"days": ["sat"], "start": "20:00", "end": "23:30"}]
    d["standing_approvals"] = [{"change": "CHG-1", "approver": "Zhang Wei",
                                "valid_until": "2099-12-31"}]
    for gw in d["gateways"]:  # the lab gateways' format, now outside a lab: declared
        gw["config_format"] = "lab-xml"


def _schedulable(project) -> list[str]:
    """Every shipped drill but the Beijing cutover (a live confirmation with SSCC) and the
    organised drills (they run on their organiser's date, never on drill's schedule)."""
    return sorted(p.stem for p in (project / "drills").glob("*.yaml") if p.stem != "beijing-cutover"
                  and "\norganised:" not in p.read_text(encoding="utf-8"))


def emit(capsys, project, inventory, kind, out):
    code = main(["schedule", "--emit", kind, "--out", str(out), "--project", str(project),
                 "--inventory", str(inventory)])
    capsys.readouterr()
    assert code == 0


def test_systemd_units_pass_systemd_analyze_verify(tmp_path, capsys, project):
    tool = require_tool("systemd-analyze")
    inv = write_inventory(tmp_path, _production)
    out = tmp_path / "units"
    emit(capsys, project, inv, "systemd", out)
    units = sorted(out.iterdir())
    drills = _schedulable(project)
    assert {re.sub(r"-(ct|cu|ft|nf|ct-ft|cu-nf|ct-nf)$", "", p.stem)[len("drill-prod-sz-"):]
            for p in units} == set(drills)
    proc = subprocess.run([tool, "verify", *map(str, units)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    service = (out / "drill-prod-sz-carrier-outage-ct.service").read_text()
    # Issue 18: no baked-in confirmation, no --yes; the standing approval instead.
    assert "--confirm-environment" not in service and "--yes" not in service
    assert "--operator scheduler" in service and "--standing-approval CHG-1" in service
    assert "--set carrier=CT" in service
    assert "ExecCondition=" in service and "due carrier-outage --pending" in service


def test_systemd_timer_sits_inside_the_change_window(tmp_path, capsys, project):
    require_tool("systemd-analyze")
    inv_path = write_inventory(tmp_path, _production)
    out = tmp_path / "units"
    emit(capsys, project, inv_path, "systemd", out)
    inv = load_inventory(inv_path)
    for path in sorted(out.glob("*.timer")):
        m = re.search(r"^OnCalendar=(\w{3}) \*-[0-9,*]+-\* (\d\d):(\d\d):00 Asia/Shanghai$",
                      path.read_text(), re.M)
        assert m, path.read_text()
        # systemd itself accepts the expression; that instant and the run budget are in the window.
        proc = subprocess.run(["systemd-analyze", "calendar", m.group(0).split("=", 1)[1]],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        start = datetime(2026, 12, 5, int(m.group(2)), int(m.group(3)), tzinfo=SH)  # a Saturday
        assert start.weekday() == DAY_NUM[m.group(1)]
        for minutes in range(0, 121, 5):
            assert in_change_window(inv, start + timedelta(minutes=minutes))


def test_lab_units_carry_no_environment_confirmation(tmp_path, capsys, project):
    out = tmp_path / "units"
    emit(capsys, project, write_inventory(tmp_path), "systemd", out)
    service = (out / "drill-lab-carrier-outage-ct.service").read_text()
    assert "--confirm-environment" not in service and "--standing-approval" not in service
    assert "--yes" not in service


CRON_LINE = re.compile(r"^(\d{1,2}) (\d{1,2}) \* ([0-9,]+|\*) ([0-6]) (cd \S+ && \S+ due [a-z0-9-]+ --pending "
                       r"--inventory \S+ && \S+ run [a-z0-9-]+ --operator scheduler "
                       r"--inventory \S+((?: --set [a-z_]+=[A-Za-z0-9-]+)*)( --standing-approval \S+)?)$")


def test_cron_lines_have_cron_form(tmp_path, capsys, project):
    inv_path = write_inventory(tmp_path, _production)
    out = tmp_path / "cron"
    emit(capsys, project, inv_path, "cron", out)
    text = (out / "drill-prod-sz").read_text()
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    assert lines[0] == "CRON_TZ=Asia/Shanghai"
    jobs = lines[1:]
    assert {re.search(r" run ([a-z0-9-]+) ", j).group(1) for j in jobs} == set(_schedulable(project))
    assert "# left out: beijing-cutover: " in text
    inv = load_inventory(inv_path)
    for job in jobs:
        m = CRON_LINE.match(job)
        assert m, job
        minute, hour, dow = int(m.group(1)), int(m.group(2)), int(m.group(4))
        assert 0 <= minute < 60 and 0 <= hour < 24
        assert m.group(7) == " --standing-approval CHG-1"
        day = datetime(2026, 12, 6 + dow, hour, minute, tzinfo=SH)   # 2026-12-06 is a Sunday
        assert (day.isoweekday() % 7) == dow
        assert in_change_window(inv, day)


def test_no_window_long_enough_is_an_input_error(tmp_path, capsys, project):
    def narrow(d):
        _production(d)
        d["change_windows"] = [{"days": ["sat"], "start": "20:00", "end": "20:30"}]
    code = main(["schedule", "--emit", "cron", "--project", str(project),
                 "--inventory", str(write_inventory(tmp_path, narrow))])
    assert code == 2
    assert "change_windows" in capsys.readouterr().err


def test_default_windows_pick_a_weekend_slot(tmp_path):
    slot = find_slot(load_inventory(write_inventory(tmp_path)))
    assert slot.day == "sat"


def test_drills_get_their_own_slots_when_the_windows_allow(tmp_path, capsys, project):
    out = tmp_path / "units"
    emit(capsys, project, write_inventory(tmp_path), "systemd", out)
    calendars = [re.search(r"^OnCalendar=(.*)$", p.read_text(), re.M).group(1)
                 for p in sorted(out.glob("*.timer"))]
    assert len(calendars) == len(set(calendars))
    # one weekly slot per drill (its rotated units share it, in different months)
    slots = {re.sub(r" \*-[0-9,*]+-\* ", " ", c) for c in calendars}
    assert len(slots) == len(_schedulable(project))   # Beijing is left out in the lab too
    assert all(c.startswith("Sat ") for c in calendars)        # default windows: the weekend
