"""`drill schedule`: systemd timer/service units or cron lines that run due drills unattended.

Each drill gets its own weekly slot inside the inventory's change windows (checked with
`windows.in_change_window` over the whole run budget). At the slot the unit first asks
`drill due ID --pending`, which exits 0 only while the drill has no pass in its current
period, then runs `drill run ID --operator scheduler`. A quarterly drill so runs on the
first slot of its quarter and, if it fails, again the next week until it passes.

The safeguards stay (docs/compliance.md, "Unattended runs"): no unit carries `--yes` or
`--confirm-environment`. A production drill is scheduled only under a standing approval
recorded in the inventory (`--standing-approval CHANGE`, checked again when the unit runs
and journaled); a drill with a manual step that needs a live confirmation is never
scheduled. Runs rotate their line, carrier and centre parameters across the drill's periods
(CT one quarter, CU the next), one unit per value restricted to its months, so a year
covers each. `plan_schedule` says which drills it left out and why.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from orchestrator.compliance.cadence import MONTHS, DrillCadence
from orchestrator.errors import InputError, Problem
from orchestrator.model.approvals import ManualStep, StandingApproval, approval_problem, live_confirmations
from orchestrator.model.hours import CALENDAR_AHEAD, uncovered_years
from orchestrator.model.i18n_terminal import step_key
from orchestrator.model.inventory import TERRESTRIAL, Inventory
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


@dataclass(frozen=True)
class Scheduled:
    """One unit (or cron line): a drill with its rotated parameters, in its months."""

    drill: DrillCadence
    sets: tuple[tuple[str, str], ...] = ()  # (parameter, value) given with --set
    months: tuple[int, ...] = tuple(range(1, 13))
    approval: StandingApproval | None = None  # production: the approval it runs under

    @property
    def suffix(self) -> str:
        return "".join(f"-{v.lower()}" for _, v in self.sets)

    def describe(self, lang: str = "en") -> str:
        what = ", ".join(f"{k}={v}" for k, v in self.sets) or _label(lang, "sched_defaults")
        return _label(lang, "sched_item", drill=self.drill.id, what=what,
                      months=",".join(map(str, self.months)))


def _label(lang: str, key: str, **kw: str) -> str:
    from orchestrator.model.i18n import LABELS

    return LABELS[key][0 if lang == "zh" else 1].format(**kw)


@dataclass(frozen=True)
class Said:
    """A message in both languages: its key (model/i18n_admin.py) and its arguments, each
    argument's value in zh and en; `en` is the English text (the cron file's comment)."""

    key: str
    args: tuple[tuple[str, str, str], ...] = ()  # (name, zh value, en value)

    @classmethod
    def of(cls, key: str, **kw: str | tuple[str, str]) -> Said:
        return cls(key, tuple((k, *(v if isinstance(v, tuple) else (v, v))) for k, v in kw.items()))

    def text(self, lang: str) -> str:
        zh = lang == "zh"
        return _label(lang, self.key, **{k: z if zh else e for k, z, e in self.args})

    @property
    def en(self) -> str:
        return self.text("en")


def _raw(text: str) -> tuple[str, str]:
    """drill's own English from a check schedule reuses: quoted as the original in zh."""
    return _label("zh", "sched_raw", text=text), text


@dataclass(frozen=True)
class LeftOut:
    drill: str
    said: Said

    @property
    def reason(self) -> str:
        return self.said.en


@dataclass(frozen=True)
class SchedulePlan:
    scheduled: tuple[Scheduled, ...]
    left_out: tuple[LeftOut, ...]
    notes: tuple[Said, ...] = ()  # e.g. a rotation longer than a year


def rotation_values(inv: Inventory, ptype: str, default: object) -> list[str]:
    """What a `line`, `carrier` or `centre` parameter rotates over: terrestrial access lines,
    carriers of terrestrial lines, production centres (the satellite line and the DR centre
    have drills of their own), the default first."""
    terrestrial = [ln for ln in inv.lines if ln.medium in TERRESTRIAL]
    values = {"line": [ln.id for ln in terrestrial],
              "carrier": list(dict.fromkeys(ln.carrier for ln in terrestrial)),
              "centre": [c.id for c in inv.centres if c.role == "production"]}.get(ptype, [])
    if str(default) in values:
        values.remove(str(default))
        values.insert(0, str(default))
    return values


def rotation(drill, inv: Inventory) -> tuple[list[tuple[tuple[tuple[str, str], ...], tuple[int, ...]]], Said | None]:
    """[(sets, months)] of a drill: period k of the year (a quarter for a quarterly drill)
    takes value k mod n of each rotating parameter; a note when a year cannot hold them all."""
    months_per = MONTHS.get(drill.cadence, 3)
    periods = 12 // months_per
    rotating = [(name, rotation_values(inv, p.type, p.default)) for name, p in drill.params.items()
                if p.type in ("line", "carrier", "centre")]
    rotating = [(name, vals) for name, vals in rotating if len(vals) > 1]
    if not rotating:
        return [((), tuple(range(1, 13)))], None
    out: dict[tuple[tuple[str, str], ...], list[int]] = {}
    for k in range(periods):
        sets = tuple((name, vals[k % len(vals)]) for name, vals in rotating)
        out.setdefault(sets, []).extend(range(k * months_per + 1, (k + 1) * months_per + 1))
    longest = max(len(vals) for _, vals in rotating)
    note = None
    if longest > periods:
        note = Said.of("sched_rotation", drill=drill.id, n=str(longest), periods=str(periods),
                       cadence=(_label("zh", f"cad_{drill.cadence}"), drill.cadence))
    return [(sets, tuple(months)) for sets, months in out.items()], note


def _manual_steps(drill):
    """(phase, index, step) of a drill's manual steps, in order."""
    return [(phase, i, s) for phase, ps in drill.phases.items() for i, s in enumerate(ps)
            if s.kind == "manual"]


def plan_schedule(inv: Inventory, drills, today: date) -> SchedulePlan:
    """Which drills run unattended, with which parameters in which months, and which are
    left out and why (`drills`: the project's `model.drill.Drill`s)."""
    from orchestrator.adapters.config_formats import unwritable_configs
    from orchestrator.compliance.cadence import drill_cadences
    from orchestrator.config.resolve import resolve

    scheduled, left, notes = [], [], []
    for drill, cad in zip(drills, drill_cadences(drills), strict=True):
        if drill.organiser:
            left.append(LeftOut(drill.id, Said.of("sched_organised", organiser=(
                _label("zh", f"org_{drill.organiser}"), drill.organiser))))
            continue
        manual = [ManualStep(f"{phase}[{i}] {s.name.en!r}", s.reference)
                  for phase, i, s in _manual_steps(drill)]
        live = live_confirmations(manual)
        if live:
            zh = {m.label: f"{step_key('zh', p, i)}“{s.name.zh}”"
                  for m, (p, i, s) in zip(manual, _manual_steps(drill), strict=True)}
            left.append(LeftOut(drill.id, Said.of("sched_live", step=(zh[live[0]], live[0]))))
            continue
        approval = None
        if not inv.environment.is_lab:
            approval, why = approval_problem(inv.standing_approvals, None, drill.id, manual, today)
            if why is not None:
                left.append(LeftOut(drill.id, Said.of("sched_no_approval", why=_raw(why))))
                continue
        variants, note = rotation(drill, inv)
        if note:
            notes.append(note)
        for sets, months in variants:
            try:
                resolved = resolve(drill, inv, dict(sets))
            except InputError as e:
                left.append(LeftOut(drill.id, Said.of("sched_bad_params", sets=str(dict(sets)),
                                                      problem=_raw(str(e.problems[0])))))
                continue
            if bad := unwritable_configs(resolved, inv):  # drill run would refuse it (exit 4)
                left.append(LeftOut(drill.id, Said.of("sched_unwritable", bad=_raw("; ".join(bad)))))
                break
            scheduled.append(Scheduled(cad, sets, months, approval))
    if scheduled:  # the units' next runs need their year's closures known
        notes += [Said.of("sched_calendar", year=str(y))
                  for y in uncovered_years(inv, today, today + CALENDAR_AHEAD)]
    return SchedulePlan(tuple(scheduled), tuple(left), tuple(notes))


def run_command(spec: ScheduleSpec, item: Scheduled | DrillCadence) -> tuple[list[str], list[str]]:
    """(condition, run) argument lists: never --yes, never --confirm-environment."""
    item = item if isinstance(item, Scheduled) else Scheduled(item)
    exe = str(spec.drill_exe)
    inv = ["--inventory", spec.inventory_arg]
    condition = [exe, "due", item.drill.id, "--pending", *inv]
    run = [exe, "run", item.drill.id, "--operator", "scheduler", *inv]
    for name, value in item.sets:
        run += ["--set", f"{name}={value}"]
    if item.approval is not None:
        run += ["--standing-approval", item.approval.change]
    return condition, run


def unit_stem(inv: Inventory, item: Scheduled | DrillCadence) -> str:
    if isinstance(item, Scheduled):
        return f"drill-{inv.environment.name}-{item.drill.id}{item.suffix}"
    return f"drill-{inv.environment.name}-{item.id}"


def _slots_by_drill(inv: Inventory, items: Sequence[Scheduled], budget: timedelta) -> list[Slot]:
    """One weekly slot per drill; a drill's rotated units share it (their months differ)."""
    ids = list(dict.fromkeys(i.drill.id for i in items))
    slots = dict(zip(ids, find_slots(inv, len(ids), budget), strict=True)) if ids else {}
    return [slots[i.drill.id] for i in items]


def _months(item: Scheduled, sep: str, fmt: str) -> str:
    return "*" if len(item.months) == 12 else sep.join(fmt.format(m) for m in item.months)


def systemd_units(spec: ScheduleSpec, items: Sequence[Scheduled]) -> list[UnitFile]:
    inv = spec.inventory
    slots = _slots_by_drill(inv, items, spec.budget)
    out = []
    for item, slot in zip(items, slots, strict=True):
        d = item.drill
        stem = unit_stem(inv, item)
        condition, run = run_command(spec, item)
        timeout = int(spec.budget.total_seconds()) + 1800
        out.append(UnitFile(f"{stem}.service", "\n".join([
            "[Unit]",
            f"Description=drill: {d.title_en} ({d.cadence}) on {inv.environment.name}"
            + "".join(f", {k}={v}" for k, v in item.sets),
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
            f"OnCalendar={_SYSTEMD_DAY[slot.day]} *-{_months(item, ',', '{:02d}')}-* "
            f"{slot.at:%H:%M}:00 {inv.environment.timezone}",
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


def cron_lines(spec: ScheduleSpec, items: Sequence[Scheduled],
               left_out: Sequence[LeftOut] = ()) -> str:
    inv = spec.inventory
    slots = _slots_by_drill(inv, items, spec.budget)
    lines = [
        f"# drill: unattended drills for {inv.environment.name}; times in {inv.environment.timezone}",
        "# CRON_TZ needs cronie or systemd-cron; with Debian's cron set the host zone to match.",
        *(f"# left out: {lo.drill}: {lo.reason}" for lo in left_out),
        f"CRON_TZ={inv.environment.timezone}",
    ]
    for item, slot in zip(items, slots, strict=True):
        condition, run = run_command(spec, item)
        cmd = (f"cd {shlex.quote(str(spec.project))} && {shlex.join(condition)} && "
               f"{shlex.join(run)}")
        lines.append(f"{slot.at.minute} {slot.at.hour} * {_months(item, ',', '{}')} "
                     f"{_CRON_DAY[slot.day]} {cmd.replace('%', chr(92) + '%')}")
    return "\n".join(lines) + "\n"


def _systemd_quote(args: list[str]) -> str:
    out = []
    for a in args:
        if a and all(c.isalnum() or c in "/._-=:@+," for c in a):
            out.append(a)
        else:
            out.append('"' + a.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return " ".join(out).replace("%", "%%")


def schedule_files(emit: str, spec: ScheduleSpec, plan: SchedulePlan) -> list[UnitFile]:
    """The files `drill schedule --emit` writes: systemd units, or one crontab file."""
    if emit == "cron":
        return [UnitFile(f"drill-{spec.inventory.environment.name}",
                         cron_lines(spec, plan.scheduled, plan.left_out))]
    return systemd_units(spec, plan.scheduled)


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
