"""`drill schedule`: systemd timer/service units or cron lines that run due drills unattended.

Each drill gets its own weekly slot inside the inventory's change windows (checked with
`windows.in_change_window` over the whole run budget). At the slot the unit first asks
`drill due ID --pending`, which exits 0 only while the drill has no pass in its current
period, then runs `drill run ID --yes --operator scheduler`. A quarterly drill so runs on
the first slot of its quarter and, if it fails, again the next week until it passes. For
a production inventory the command carries `--confirm-environment NAME`.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from orchestrator.compliance.cadence import DrillCadence
from orchestrator.errors import InputError, Problem
from orchestrator.model.inventory import Inventory
from orchestrator.model.windows import DAYS, in_change_window

# Weekend first (exchange-organised drills run on weekends), daytime preferred.
_DAY_ORDER = ("sat", "sun", "mon", "tue", "wed", "thu", "fri")
_PREFERRED_TIMES = ("10:00", "12:00", "14:00", "16:00", "18:00", "20:00")
_SYSTEMD_DAY = {"mon": "Mon", "tue": "Tue", "wed": "Wed", "thu": "Thu", "fri": "Fri",
                "sat": "Sat", "sun": "Sun"}
_CRON_DAY = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
DEFAULT_BUDGET = timedelta(hours=2)


@dataclass(frozen=True)
class Slot:
    day: str        # mon..sun
    at: time        # local time in the environment's zone


@dataclass(frozen=True)
class UnitFile:
    name: str
    text: str


@dataclass(frozen=True)
class ScheduleSpec:
    inventory: Inventory
    inventory_arg: str          # as given to --inventory (a path keeps units independent of cwd)
    project: Path               # WorkingDirectory: where `drill` finds the project
    drill_exe: Path             # absolute path of the `drill` executable
    budget: timedelta = DEFAULT_BUDGET


def find_slot(inv: Inventory, budget: timedelta = DEFAULT_BUDGET) -> Slot:
    """A weekly slot whose whole run budget sits inside one change window."""
    return find_slots(inv, 1, budget)[0]


def find_slots(inv: Inventory, count: int, budget: timedelta = DEFAULT_BUDGET) -> list[Slot]:
    """`count` weekly slots inside the change windows that do not overlap each other.

    One drill per environment runs at a time (the environment lock), so drills get their
    own slots. When the windows hold fewer, slots are shared in turn: a drill refused by
    the lock stays pending and runs at a later week's slot.
    """
    tz = ZoneInfo(inv.environment.timezone)
    monday = date(2026, 6, 1)  # a reference week, clear of DST edges in zones that have them
    hours = [int(h[:2]) for h in _PREFERRED_TIMES] + list(range(24))
    chosen: list[tuple[datetime, Slot]] = []
    for day in _DAY_ORDER:
        d = monday + timedelta(days=DAYS.index(day))
        for hour in dict.fromkeys(hours):
            start = datetime.combine(d, time(hour), tz)
            if any(abs(start - other) < budget for other, _ in chosen):
                continue
            if _inside(inv, start, budget):
                chosen.append((start, Slot(day, time(hour))))
                if len(chosen) == count:
                    return [slot for _, slot in chosen]
    if not chosen:
        raise InputError(Problem(str(inv.path), None, "drill.change_windows",
                                 f"no change window holds a {budget} drill run; widen a window"))
    return [chosen[i % len(chosen)][1] for i in range(count)]


def _inside(inv: Inventory, start: datetime, budget: timedelta) -> bool:
    step = timedelta(minutes=5)
    t = start
    while t <= start + budget:
        if not in_change_window(inv, t):
            return False
        t += step
    return True


def run_command(spec: ScheduleSpec, drill: DrillCadence) -> tuple[list[str], list[str]]:
    """(condition, run) argument lists."""
    exe = str(spec.drill_exe)
    inv = ["--inventory", spec.inventory_arg]
    condition = [exe, "due", drill.id, "--pending", *inv]
    run = [exe, "run", drill.id, "--yes", "--operator", "scheduler", *inv]
    if not spec.inventory.environment.is_lab:
        run += ["--confirm-environment", spec.inventory.environment.name]
    return condition, run


def unit_stem(inv: Inventory, drill: DrillCadence) -> str:
    return f"drill-{inv.environment.name}-{drill.id}"


def systemd_units(spec: ScheduleSpec, drills: Sequence[DrillCadence]) -> list[UnitFile]:
    inv = spec.inventory
    slots = find_slots(inv, len(drills), spec.budget)
    out = []
    for d, slot in zip(drills, slots, strict=True):
        stem = unit_stem(inv, d)
        condition, run = run_command(spec, d)
        timeout = int(spec.budget.total_seconds()) + 1800
        out.append(UnitFile(f"{stem}.service", "\n".join([
            "[Unit]",
            f"Description=drill: {d.title_en} ({d.cadence}) on {inv.environment.name}",
            "Documentation=https://github.com/drill-orchestrator/drill/blob/main/docs/compliance.md",
            "After=network-online.target",
            "Wants=network-online.target",
            "",
            "[Service]",
            "Type=oneshot",
            f"WorkingDirectory={spec.project}",
            # Exit 1 (done this period) skips the run without marking the unit failed.
            f"ExecCondition={_systemd_quote(condition)}",
            f"ExecStart={_systemd_quote(run)}",
            # SIGTERM makes drill run its restore phase; give it time before SIGKILL.
            "KillMode=mixed",
            "KillSignal=SIGTERM",
            "TimeoutStopSec=900",
            f"TimeoutStartSec={timeout}",
            "",
        ])))
        out.append(UnitFile(f"{stem}.timer", "\n".join([
            "[Unit]",
            f"Description=drill: weekly slot for {d.id} on {inv.environment.name} "
            "(runs only while due, inside the change window)",
            "",
            "[Timer]",
            f"OnCalendar={_SYSTEMD_DAY[slot.day]} *-*-* {slot.at:%H:%M}:00 {inv.environment.timezone}",
            # No catch-up after downtime: a late start could fall outside the change window.
            "Persistent=false",
            "AccuracySec=1min",
            f"Unit={stem}.service",
            "",
            "[Install]",
            "WantedBy=timers.target",
            "",
        ])))
    return out


def cron_lines(spec: ScheduleSpec, drills: Sequence[DrillCadence]) -> str:
    inv = spec.inventory
    slots = find_slots(inv, len(drills), spec.budget)
    lines = [
        f"# drill: unattended drills for {inv.environment.name}; times in {inv.environment.timezone}",
        "# CRON_TZ needs cronie or systemd-cron; with Debian's cron set the host zone to match.",
        f"CRON_TZ={inv.environment.timezone}",
    ]
    for d, slot in zip(drills, slots, strict=True):
        condition, run = run_command(spec, d)
        cmd = (f"cd {shlex.quote(str(spec.project))} && {shlex.join(condition)} && "
               f"{shlex.join(run)}")
        lines.append(f"{slot.at.minute} {slot.at.hour} * * {_CRON_DAY[slot.day]} {cmd.replace('%', chr(92) + '%')}")
    return "\n".join(lines) + "\n"


def _systemd_quote(args: list[str]) -> str:
    out = []
    for a in args:
        if a and all(c.isalnum() or c in "/._-=:@+," for c in a):
            out.append(a)
        else:
            out.append('"' + a.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return " ".join(out).replace("%", "%%")


def schedule_files(emit: str, spec: ScheduleSpec, drills: Sequence[DrillCadence]) -> list[UnitFile]:
    """The files `drill schedule --emit` writes: systemd units, or one crontab file."""
    if emit == "cron":
        return [UnitFile(f"drill-{spec.inventory.environment.name}", cron_lines(spec, drills))]
    return systemd_units(spec, drills)


def write_files(files: Sequence[UnitFile], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for f in files:
        (out / f.name).write_text(f.text, encoding="utf-8")
        written.append(out / f.name)
    return written


def drill_executable() -> Path:
    """The `drill` beside this interpreter (the venv the units must run), else on PATH."""
    import shutil
    import sys

    exe = Path(sys.executable).parent / "drill"
    return exe if exe.exists() else Path(shutil.which("drill") or "drill")
