"""RunView: a typed, read-only picture of one run, built from its journal alone.

Every number a report shows comes from here, so HTML, PDF, Markdown, JSON, CSV and JUnit
cannot disagree with each other or with the journal (docs/journal.md).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestrator.errors import InputError, Problem
from orchestrator.journal.chain import Record, parse_iso_ns, read_records

DEFAULT_TZ = "Asia/Shanghai"
MIN_RETENTION_DAYS = 365

# fault.effective effects that put the network back (restore / failback) rather than break it.
_RESTORE_KEYS = ("lines_up", "centres_up")
_FAULT_PHASES = ("fault", "recovery", "hold")


@dataclass(frozen=True)
class Text:
    """A bilingual string; drills carry zh/en titles and step names."""

    zh: str
    en: str

    def get(self, lang: str) -> str:
        return (self.zh if lang == "zh" else self.en) or self.en or self.zh

    @classmethod
    def of(cls, value: Any) -> Text:
        if isinstance(value, Mapping):
            zh, en = str(value.get("zh") or ""), str(value.get("en") or "")
            return cls(zh or en, en or zh)
        text = "" if value is None else str(value)
        return cls(text, text)


@dataclass(frozen=True)
class Stamp:
    """A time that names its source and uncertainty (journal timestamp object)."""

    ns: int
    source: str
    uncertainty_ms: float

    @classmethod
    def of(cls, value: Any, default_source: str = "engine") -> Stamp | None:
        if value is None or value == "":
            return None
        if isinstance(value, Mapping):
            ns = value.get("ns")
            if ns is None and value.get("t"):
                ns = parse_iso_ns(str(value["t"]))
            if ns is None:
                return None
            return cls(int(ns), str(value.get("source") or default_source),
                       float(value.get("uncertainty_ms") or 0.0))
        if isinstance(value, int | float):
            return cls(int(value), default_source, 0.0)
        return cls(parse_iso_ns(str(value)), default_source, 0.0)


@dataclass(frozen=True)
class DrillInfo:
    id: str
    title: Text
    sha256: str
    spec: tuple[str, ...]
    cadence: str


@dataclass(frozen=True)
class InventoryInfo:
    path: str
    environment: str
    kind: str
    timezone: str
    sha256: str
    retention_days: int


@dataclass(frozen=True)
class Centre:
    id: str
    role: str
    name: Text


@dataclass(frozen=True)
class Carrier:
    id: str
    name: Text


@dataclass(frozen=True)
class Line:
    id: str
    carrier: str
    centre: str
    mbps: float | None
    medium: str
    port_layer: int | None
    preference: int | None
    local_address: str
    remote_address: str
    role: str  # primary | backup


@dataclass(frozen=True)
class Gateway:
    id: str
    kind: str
    home_centre: str
    satellite_only: bool


@dataclass(frozen=True)
class Topology:
    centres: tuple[Centre, ...] = ()
    carriers: tuple[Carrier, ...] = ()
    lines: tuple[Line, ...] = ()
    gateways: tuple[Gateway, ...] = ()
    multicast_line: str = ""

    def centre_name(self, cid: str, lang: str) -> str:
        for c in self.centres:
            if c.id == cid:
                return c.name.get(lang) or cid
        return cid

    def carrier_name(self, cid: str, lang: str) -> str:
        for c in self.carriers:
            if c.id == cid:
                return c.name.get(lang) or cid
        return cid


@dataclass(frozen=True)
class Phase:
    phase: str
    status: str
    started: Stamp | None
    ended: Stamp | None
    duration_s: float | None


@dataclass(frozen=True)
class AnsibleTask:
    step: str
    host: str
    task: str
    action: str
    status: str
    started: Stamp | None
    duration_s: float | None
    msg: str


@dataclass(frozen=True)
class Ack:
    step: str
    operator: str
    at: Stamp | None
    unattended: bool
    how: str


@dataclass(frozen=True)
class Step:
    phase: str
    index: int
    key: str  # how other records name this step: "<phase>[<index>]"
    name: Text
    step_kind: str
    automated: bool
    status: str
    started: Stamp | None
    ended: Stamp | None
    duration_s: float | None
    error: str
    tasks: tuple[AnsibleTask, ...] = ()
    acks: tuple[Ack, ...] = ()

    @property
    def task_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for t in self.tasks:
            counts[t.status] = counts.get(t.status, 0) + 1
        return counts


@dataclass(frozen=True)
class FaultEffect:
    step: str
    effect: str
    at: Stamp | None
    affected: Mapping[str, Sequence[str]]
    restores: bool  # True: this effect put the network back (restore / failback)


@dataclass(frozen=True)
class Measure:
    gateway: str
    service: str
    phase: str  # failover | failback
    affected: bool
    centre_before: str
    centre_after: str
    link_lost: Stamp | None
    detected: Stamp | None
    observed: Stamp | None
    restored: Stamp | None
    interruption_s: float | None
    target_s: float | None
    passed: bool | None
    link_restored: Stamp | None  # the restore effect that brought the failed line back
    note: str = ""


@dataclass(frozen=True)
class Objective:
    name: str
    target: Any  # as journaled: a number (seconds for rto.*, cutover.*), a count, or text
    measured: Any
    passed: bool
    detail: str


@dataclass(frozen=True)
class SteadyCheck:
    gateway: str
    check: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class SteadyState:
    when: str  # gate | after
    ok: bool
    checks: tuple[SteadyCheck, ...]


@dataclass(frozen=True)
class Transition:
    gateway: str
    service: str
    from_state: str
    to_state: str
    at: Stamp | None
    probe: str = ""


@dataclass(frozen=True)
class GatewayEvent:
    """A monitor stream event as received (monitor-api.md), stamped with the gateway's time."""

    gateway: str
    type: str
    ns: int
    data: Mapping[str, Any]


@dataclass(frozen=True)
class ProbeSummary:
    gateway: str
    service: str
    probe: str
    samples: int
    failures: int
    period_ms: float | None


@dataclass(frozen=True)
class EvidenceFile:
    path: str
    sha256: str
    source: str
    redacted: bool
    original_sha256: str


@dataclass(frozen=True)
class Interrupt:
    kind: str  # signal | abort
    what: str  # signal name or reason
    phase: str
    step: str
    at: Stamp


@dataclass(frozen=True)
class Deviation:
    what: str  # objective | measure | step | task | steady_state | abort | signal | unfinished
    subject: str
    detail: Text


@dataclass(frozen=True)
class LogEntry:
    seq: int
    at_ns: int
    kind: str
    summary: str


@dataclass(frozen=True)
class RunView:
    run_id: str
    run_dir: Path
    drill: DrillInfo
    params: Mapping[str, Any]
    inventory: InventoryInfo
    playbooks: Mapping[str, str]
    git_commit: str
    git_dirty: bool | None
    operator: str
    os_user: str
    host: str
    ticket: str
    approver: str
    unattended: bool
    versions: Mapping[str, str]
    targets: Mapping[str, Any]
    topology: Topology
    started: Stamp
    ended: Stamp | None
    status: str  # passed | failed | aborted | refused
    exit_code: int | None
    summary: str  # run.end summary line, if any
    finished: bool  # the journal holds run.end
    phases: tuple[Phase, ...]
    steps: tuple[Step, ...]
    faults: tuple[FaultEffect, ...]
    measures: tuple[Measure, ...]
    objectives: tuple[Objective, ...]
    steady: tuple[SteadyState, ...]
    transitions: tuple[Transition, ...]
    gateway_events: tuple[GatewayEvent, ...]
    probe_summaries: tuple[ProbeSummary, ...]
    evidence: tuple[EvidenceFile, ...]
    interrupts: tuple[Interrupt, ...]
    deviations: tuple[Deviation, ...]
    artifacts: Mapping[str, str]
    records: int
    digest: str  # hash of the last record read
    log: tuple[LogEntry, ...] = field(default=())

    @property
    def timezone(self) -> str:
        return self.inventory.timezone

    @property
    def participants(self) -> list[tuple[str, str]]:
        """(name, role key) pairs, each person once, in order of first appearance."""
        seen: dict[str, str] = {}
        for name, role in ((self.operator, "operator"), (self.approver, "approver")):
            if name and name not in seen:
                seen[name] = role
        for step in self.steps:
            for ack in step.acks:
                if ack.operator and ack.operator not in seen:
                    seen[ack.operator] = "acknowledger"
        return list(seen.items())

    @property
    def acks(self) -> list[tuple[Step, Ack]]:
        return [(s, a) for s in self.steps for a in s.acks]

    def steady_of(self, when: str) -> SteadyState | None:
        found = [s for s in self.steady if s.when == when]
        return found[-1] if found else None

    @property
    def restore_phase(self) -> Phase | None:
        found = [p for p in self.phases if p.phase == "restore"]
        return found[-1] if found else None

    @property
    def fault_started(self) -> bool:
        return any(s.phase == "fault" for s in self.steps) or any(not f.restores for f in self.faults)

    @property
    def restore_ok(self) -> bool:
        phase = self.restore_phase
        return phase is not None and phase.status == "ok"

    @property
    def after_ok(self) -> bool:
        after = self.steady_of("after")
        return after is not None and after.ok

    def rto_by_service(self) -> dict[str, float]:
        """Worst interruption per service across affected gateways, failover phase."""
        worst: dict[str, float] = {}
        for m in self.measures:
            if m.phase == "failover" and m.interruption_s is not None:
                worst[m.service] = max(worst.get(m.service, 0.0), m.interruption_s)
        return worst


# -- building -----------------------------------------------------------------------------


def _s(value: Any) -> str:
    return "" if value is None else str(value)


def _f(value: Any) -> float | None:
    return None if value is None else float(value)


def _step_key(phase: Any, index: Any) -> str:
    """How the engine labels a step in other records: `fault[0]`."""
    return f"{phase}[{index}]"


_REF = re.compile(r"^([a-z_]+)(?:\[(\d+)\]|\.(\d+))$")


def _ref(value: Any) -> str:
    """Normalise a step reference (`fault[0]`, `fault.0`, {phase, index}) to `fault[0]`."""
    if isinstance(value, Mapping):
        return _step_key(value.get("phase"), value.get("index"))
    m = _REF.match(_s(value))
    return _step_key(m.group(1), m.group(2) or m.group(3)) if m else _s(value)


def _effect_text(effect: Any) -> str:
    if isinstance(effect, Mapping):
        return ", ".join(
            f"{k}={','.join(map(str, v)) if isinstance(v, list | tuple) else v}" for k, v in effect.items()
        )
    return _s(effect)


def _is_restore(effect: Any, step_phase: str) -> bool:
    if step_phase == "restore":
        return True
    if isinstance(effect, Mapping):
        if any(effect.get(k) for k in _RESTORE_KEYS):
            return True
        repoint = effect.get("repoint")
        return isinstance(repoint, Mapping) and repoint.get("to") == "home"
    return any(k in _s(effect) for k in _RESTORE_KEYS)


def _topology(data: Mapping[str, Any]) -> Topology:
    topo = data.get("topology") or {}
    centres = tuple(Centre(_s(c.get("id")), _s(c.get("role")), Text.of(c.get("name") or c.get("id")))
                    for c in topo.get("centres") or [])
    carriers = tuple(Carrier(_s(c.get("id")), Text.of(c.get("name") or c.get("id")))
                     for c in topo.get("carriers") or [])
    raw_lines = list(topo.get("lines") or [])
    # Primary = the best-preference terrestrial line into each centre (routing rule).
    best: dict[str, tuple[Any, str]] = {}
    for ln in raw_lines:
        if str(ln.get("medium", "terrestrial")).startswith("terrestrial"):
            key = (ln.get("preference") if ln.get("preference") is not None else 1 << 30, _s(ln.get("id")))
            cur = best.get(_s(ln.get("centre")))
            if cur is None or key < cur:
                best[_s(ln.get("centre"))] = key
    lines = []
    for ln in raw_lines:
        role = ln.get("role")
        if role not in ("primary", "backup"):
            b = best.get(_s(ln.get("centre")))
            role = "primary" if b is not None and b[1] == _s(ln.get("id")) else "backup"
        lines.append(Line(
            _s(ln.get("id")), _s(ln.get("carrier")), _s(ln.get("centre")), _f(ln.get("mbps")),
            _s(ln.get("medium") or "terrestrial"),
            None if ln.get("port_layer") is None else int(ln["port_layer"]),
            None if ln.get("preference") is None else int(ln["preference"]),
            _s(ln.get("local_address")), _s(ln.get("remote_address")), role))
    gateways = tuple(Gateway(_s(g.get("id")), _s(g.get("kind")), _s(g.get("home_centre")),
                             bool(g.get("satellite_only", False)))
                     for g in topo.get("gateways") or [])
    multicast = topo.get("multicast") or {}
    return Topology(centres, carriers, tuple(lines), gateways, _s(multicast.get("line")))


def _summary(rec: Record) -> str:
    d = rec.data
    k = rec.kind
    if k == "run.start":
        return f"{(d.get('drill') or {}).get('id', '')} operator={d.get('operator', '')}"
    if k in ("phase.start", "phase.end"):
        return f"{d.get('phase')} {d.get('status', '')}".strip()
    if k in ("step.start", "step.end"):
        name = Text.of(d.get("name")).en
        return f"{d.get('phase')}.{d.get('index')} {name} {d.get('status', '')}".strip()
    if k == "ansible.task":
        return f"{d.get('host')} {d.get('task')} {d.get('status')}"
    if k == "operator.ack":
        return f"{d.get('step')} {d.get('operator')} ({d.get('how')})"
    if k == "fault.effective":
        return f"{d.get('step')} {_effect_text(d.get('effect'))}"
    if k == "probe.transition":
        return f"{d.get('gateway')}/{d.get('service')} {d.get('from')}→{d.get('to')}"
    if k == "measure":
        return (f"{d.get('gateway')}/{d.get('service')} {d.get('phase')} "
                f"interruption={d.get('interruption_s')} target={d.get('target_s')} passed={d.get('passed')}")
    if k == "objective":
        return f"{d.get('name')} target={d.get('target')} measured={d.get('measured')} passed={d.get('passed')}"
    if k == "steady_state":
        return f"{d.get('when')} ok={d.get('ok')}"
    if k in ("signal", "abort"):
        return f"{d.get('signal') or d.get('reason')} phase={d.get('phase')} step={d.get('step')}"
    if k == "evidence.file":
        return f"{d.get('path')} {str(d.get('sha256', ''))[:12]}…"
    if k == "run.end":
        return f"{d.get('status')} exit={d.get('exit_code')}"
    return ", ".join(f"{key}={d[key]}" for key in list(d)[:4] if not isinstance(d[key], Mapping | list))


STATUSES = ("passed", "failed", "aborted", "refused")


def derive_status(*, aborted: bool, refused: bool, failures: bool, end_status: str | None) -> str:
    """run.end wins; before it is written (reports are rendered first) derive it."""
    if end_status in STATUSES:
        return end_status
    if refused:
        return "refused"
    if aborted:
        return "aborted"
    return "failed" if failures else "passed"


def load_run(run_dir: Path, *, log: bool = True, closing: bool = False) -> RunView:
    """Read run_dir/journal.jsonl into a RunView. Raises InputError if it is no run.

    closing: the engine renders the reports just before it writes run.end, so a missing
    run.end is expected then; rendered later, it means the run never finished.
    """
    path = Path(run_dir) / "journal.jsonl"
    if not path.is_file():
        raise InputError(Problem(str(run_dir), None, "RUN", "no journal.jsonl; expected a run folder"))
    records = list(read_records(path))
    if not records or records[0].kind != "run.start":
        raise InputError(Problem(str(path), 1, "kind", "expected a run.start record first"))
    return build_view(Path(run_dir), records, log=log, closing=closing)


def build_view(run_dir: Path, records: Sequence[Record], *, log: bool = True,
               closing: bool = False) -> RunView:
    start = records[0]
    sd = start.data
    drill = sd.get("drill") or {}
    inv = sd.get("inventory") or {}
    topo_data = sd.get("topology") or {}
    retention = inv.get("retention_days", topo_data.get("retention_days"))
    git = sd.get("git") or {}

    phases: list[Phase] = []
    step_starts: dict[str, Mapping[str, Any]] = {}
    step_ends: dict[str, Mapping[str, Any]] = {}
    step_order: list[str] = []
    tasks: dict[str, list[AnsibleTask]] = {}
    acks: dict[str, list[Ack]] = {}
    faults: list[FaultEffect] = []
    measures_raw: list[Mapping[str, Any]] = []
    objectives: list[Objective] = []
    steady: list[SteadyState] = []
    transitions: list[Transition] = []
    gw_events: list[GatewayEvent] = []
    probes: list[ProbeSummary] = []
    evidence: list[EvidenceFile] = []
    interrupts: list[Interrupt] = []
    end: Record | None = None
    entries: list[LogEntry] = []

    for rec in records:
        d = rec.data
        k = rec.kind
        if log:
            entries.append(LogEntry(rec.seq, rec.ts_ns, k, _summary(rec)))
        if k == "phase.end":
            phases.append(Phase(_s(d.get("phase")), _s(d.get("status")), Stamp.of(d.get("started")),
                                Stamp.of(d.get("ended")), _f(d.get("duration_s"))))
        elif k in ("step.start", "step.end"):
            key = _step_key(d.get("phase"), d.get("index"))
            if key not in step_order:
                step_order.append(key)
            (step_starts if k == "step.start" else step_ends)[key] = d
        elif k == "ansible.task":
            tasks.setdefault(_ref(d.get("step")), []).append(AnsibleTask(
                _ref(d.get("step")), _s(d.get("host")), _s(d.get("task")), _s(d.get("action")),
                _s(d.get("status")), Stamp.of(d.get("started")), _f(d.get("duration_s")), _s(d.get("msg"))))
        elif k == "operator.ack":
            acks.setdefault(_ref(d.get("step")), []).append(Ack(
                _ref(d.get("step")), _s(d.get("operator")), Stamp.of(d.get("at"), "operator"),
                bool(d.get("unattended")), _s(d.get("how"))))
        elif k == "fault.effective":
            ref = _ref(d.get("step"))
            faults.append(FaultEffect(ref, _effect_text(d.get("effect")), Stamp.of(d.get("at"), "fault-task"),
                                      dict(d.get("affected") or {}),
                                      _is_restore(d.get("effect"), ref.partition("[")[0])))
        elif k == "measure":
            measures_raw.append(d)
        elif k == "objective":
            objectives.append(Objective(_s(d.get("name")), d.get("target"), d.get("measured"),
                                        bool(d.get("passed")), _s(d.get("detail"))))
        elif k == "steady_state":
            steady.append(SteadyState(_s(d.get("when")), bool(d.get("ok")), tuple(
                SteadyCheck(_s(c.get("gateway")), _s(c.get("check")), bool(c.get("ok")), _s(c.get("detail")))
                for c in d.get("checks") or [])))
        elif k == "probe.transition":
            transitions.append(Transition(_s(d.get("gateway")), _s(d.get("service")), _s(d.get("from")),
                                          _s(d.get("to")), Stamp.of(d.get("at"), "probe-sample"),
                                          _s(d.get("probe"))))
        elif k == "gateway.event":
            ns = d.get("ts_ns") or d.get("received_ns")
            if ns:
                gw_events.append(GatewayEvent(_s(d.get("gateway")), _s(d.get("type")), int(ns),
                                              dict(d.get("data") or {})))
        elif k == "probe.summary":
            probes.append(ProbeSummary(_s(d.get("gateway")), _s(d.get("service")), _s(d.get("probe")),
                                       int(d.get("samples") or 0), int(d.get("failures") or 0),
                                       _f(d.get("period_ms"))))
        elif k == "evidence.file":
            src = d.get("source") or {}
            source = f"{src.get('host', '')}:{src.get('path', '')}" if isinstance(src, Mapping) else _s(src)
            evidence.append(EvidenceFile(_s(d.get("path")), _s(d.get("sha256")), source.strip(":"),
                                         bool(d.get("redacted")), _s(d.get("original_sha256"))))
        elif k in ("signal", "abort"):
            interrupts.append(Interrupt(k, _s(d.get("signal") or d.get("reason")), _s(d.get("phase")),
                                        _ref(d.get("step")), Stamp(rec.ts_ns, "engine", 0.0)))
        elif k == "run.end":
            end = rec

    steps = []
    for key in step_order:
        s, e = step_starts.get(key, {}), step_ends.get(key, {})
        both = {**s, **e}
        by_name = Text.of(both.get("name"))
        steps.append(Step(
            _s(both.get("phase")), int(both.get("index") or 0), key, by_name, _s(both.get("step_kind")),
            bool(both.get("automated", True)), _s(e.get("status") or "unfinished"),
            Stamp.of(both.get("started")), Stamp.of(e.get("ended")), _f(e.get("duration_s")),
            _s(e.get("error")), tuple(tasks.get(key, []) + tasks.get(by_name.en, [])),
            tuple(acks.get(key, []) + acks.get(by_name.en, []))))

    restores = [f for f in faults if f.restores and f.at is not None]
    measures = []
    for d in measures_raw:
        lost = Stamp.of(d.get("link_lost"), "fault-task")
        # The link came back at the first restore effect after the loss.
        back = next((f.at for f in sorted(restores, key=lambda f: f.at.ns)
                     if lost is not None and f.at.ns >= lost.ns), None)
        measures.append(Measure(
            _s(d.get("gateway")), _s(d.get("service")), _s(d.get("phase") or "failover"),
            bool(d.get("affected")), _s(d.get("centre_before")), _s(d.get("centre_after")), lost,
            Stamp.of(d.get("detected"), "gateway-monitor"), Stamp.of(d.get("observed"), "probe-sample"),
            Stamp.of(d.get("restored"), "gateway-monitor"), _f(d.get("interruption_s")),
            _f(d.get("target_s")), None if d.get("passed") is None else bool(d.get("passed")),
            back if bool(d.get("affected")) else None, _s(d.get("note"))))

    deviations = _deviations(steps, measures, objectives, steady, interrupts, end is None and not closing)
    ed = end.data if end is not None else {}
    failures = any(dv.what in ("objective", "measure", "step", "steady_state") for dv in deviations)
    gate = [st for st in steady if st.when == "gate"]
    refused = bool(gate) and not gate[-1].ok and not any(s.phase in _FAULT_PHASES for s in steps)
    status = derive_status(aborted=any(i.kind in ("abort", "signal") for i in interrupts),
                           refused=refused, failures=failures, end_status=ed.get("status"))
    last = records[-1]
    ended = Stamp(end.ts_ns, "engine", 0.0) if end is not None else Stamp(last.ts_ns, "engine", 0.0)

    return RunView(
        run_id=start.run, run_dir=run_dir,
        drill=DrillInfo(_s(drill.get("id")), Text.of(drill.get("title") or drill.get("id")),
                        _s(drill.get("sha256")), tuple(str(x) for x in drill.get("spec") or ()),
                        _s(drill.get("cadence"))),
        params=dict(sd.get("params") or {}),
        inventory=InventoryInfo(_s(inv.get("path")), _s(inv.get("environment")), _s(inv.get("kind")),
                                _s(inv.get("timezone") or DEFAULT_TZ), _s(inv.get("sha256")),
                                int(retention) if retention is not None else 366),
        playbooks=dict(sd.get("playbooks") or {}),
        git_commit=_s(git.get("commit")), git_dirty=git.get("dirty"),
        operator=_s(sd.get("operator")), os_user=_s(sd.get("os_user")), host=_s(sd.get("host")),
        ticket=_s(sd.get("ticket")), approver=_s(sd.get("approver")),
        unattended=bool(sd.get("unattended")),
        versions={str(k): _s(v) for k, v in (sd.get("versions") or {}).items()},
        targets=dict(sd.get("targets") or {}),
        topology=_topology(sd),
        started=Stamp(start.ts_ns, "engine", 0.0), ended=ended, status=status,
        exit_code=None if ed.get("exit_code") is None else int(ed["exit_code"]),
        summary=ed.get("summary") if isinstance(ed.get("summary"), str) else "",
        finished=end is not None, phases=tuple(phases), steps=tuple(steps), faults=tuple(faults),
        measures=tuple(measures), objectives=tuple(objectives), steady=tuple(steady),
        transitions=tuple(transitions), gateway_events=tuple(gw_events),
        probe_summaries=tuple(probes), evidence=tuple(evidence),
        interrupts=tuple(interrupts), deviations=tuple(deviations),
        artifacts=dict(ed.get("artifacts") or {}), records=len(records), digest=last.hash,
        log=tuple(entries))


def _deviations(steps: Sequence[Step], measures: Sequence[Measure], objectives: Sequence[Objective],
                steady: Sequence[SteadyState], interrupts: Sequence[Interrupt],
                unfinished: bool) -> list[Deviation]:
    out: list[Deviation] = []
    for i in interrupts:
        out.append(Deviation(i.kind, i.what, Text(f"阶段 {i.phase or '-'}，步骤 {i.step or '-'}",
                                                  f"phase {i.phase or '-'}, step {i.step or '-'}")))
    for s in steps:
        if s.status not in ("ok", "skipped"):
            out.append(Deviation("step", f"{s.key} {s.name.zh}", Text.of(s.error or s.status)))
        for t in s.tasks:
            if t.status in ("failed", "unreachable"):
                out.append(Deviation("task", f"{t.host}: {t.task}", Text.of(t.msg or t.status)))
    for m in measures:
        if m.passed is False:
            if m.interruption_s is None:
                detail = Text("服务未恢复", "service not restored")
            else:
                tgt = "-" if m.target_s is None else m.target_s
                detail = Text(f"中断时长 {m.interruption_s} 秒，超过目标值 {tgt} 秒",
                              f"interruption {m.interruption_s} s exceeds target {tgt} s")
            out.append(Deviation("measure", f"{m.gateway}/{m.service} ({m.phase})", detail))
    for o in objectives:
        if not o.passed:
            out.append(Deviation("objective", o.name, Text(
                f"目标值 {o.target}，实测值 {o.measured}。{o.detail}",
                f"target {o.target}, measured {o.measured}. {o.detail}")))
    for st in steady:
        if not st.ok:
            bad = "; ".join(f"{c.gateway} {c.check}: {c.detail}" for c in st.checks if not c.ok)
            out.append(Deviation("steady_state", st.when, Text.of(bad or "not ok")))
    if unfinished:
        out.append(Deviation("unfinished", "run.end", Text("操作日志中没有 run.end 记录，演练未正常结束",
                                                           "the journal has no run.end record")))
    return out
