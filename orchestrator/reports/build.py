"""Build a RunView (orchestrator.reports.model) from a run's journal, read through the one
journal reader (orchestrator.journal.reader) as typed records (docs/journal.md)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from orchestrator.errors import InputError, Problem
from orchestrator.journal import records as jr
from orchestrator.journal.reader import JOURNAL, Record, RunJournal, from_records, read_journal, typed
from orchestrator.journal.reviews import closures_elsewhere, read_reviews
from orchestrator.model.i18n import LABELS
from orchestrator.model.inventory import Carrier
from orchestrator.model.review import Organisation, PlanRef
from orchestrator.model.run import FAILED, NOT_TESTED, STATUSES, exit_code_of, objective_state
from orchestrator.model.spec import documents
from orchestrator.model.stamp import Stamp
from orchestrator.model.text import Text
from orchestrator.reports.model import (
    Deviation,
    DrillInfo,
    EvidenceView,
    FaultEffect,
    Interrupt,
    InventoryInfo,
    LogEntry,
    MeasureView,
    MonitorEvent,
    PredictionView,
    RunView,
    StepView,
    TaskView,
    Topology,
    TopologyCentre,
    TopologyGateway,
    TopologyLine,
)

__all__ = ["STATUSES", "build_view", "derive_status", "load_run"]

DEFAULT_TZ = "Asia/Shanghai"

# fault.effective effects that put the network back (restore / failback) rather than break it.
_RESTORE_KEYS = ("lines_up", "centres_up", "services_up")
_FAULT_PHASES = ("fault", "recovery", "hold")


def _s(value: Any) -> str:
    return "" if value is None else str(value)


def _f(value: Any) -> float | None:
    return None if value is None else float(value)


_REF = re.compile(r"^([a-z_]+)(?:\[(\d+)\]|\.(\d+))$")


def _ref(value: Any) -> str:
    """Normalise a step reference (`fault[0]`, `fault.0`, {phase, index}) to `fault[0]`."""
    if isinstance(value, Mapping):
        return jr.step_key(value.get("phase"), value.get("index"))
    m = _REF.match(_s(value))
    return jr.step_key(m.group(1), m.group(2) or m.group(3)) if m else _s(value)


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


def _topology(topo: Mapping[str, Any]) -> Topology:
    centres = tuple(TopologyCentre(_s(c.get("id")), _s(c.get("role")), Text.of(c.get("name") or c.get("id")))
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
        lines.append(TopologyLine(
            _s(ln.get("id")), _s(ln.get("carrier")), _s(ln.get("centre")), _f(ln.get("mbps")),
            _s(ln.get("medium") or "terrestrial"),
            None if ln.get("port_layer") is None else int(ln["port_layer"]),
            None if ln.get("preference") is None else int(ln["preference"]),
            _s(ln.get("local_address")), _s(ln.get("remote_address")), role))
    gateways = tuple(TopologyGateway(_s(g.get("id")), _s(g.get("kind")), _s(g.get("home_centre")),
                                     bool(g.get("satellite_only", False)))
                     for g in topo.get("gateways") or [])
    multicast = topo.get("multicast") or {}
    return Topology(centres, carriers, tuple(lines), gateways, _s(multicast.get("line")))


def _summary(rec: Record) -> str:
    """One line of the activity log (the report's appendix)."""
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
        state = objective_state(d.get("state"), d.get("passed"))
        return f"{d.get('name')} target={d.get('target')} measured={d.get('measured')} {state}"
    if k == "steady_state":
        return f"{d.get('when')} ok={d.get('ok')}"
    if k in ("signal", "abort"):
        return f"{d.get('signal') or d.get('reason')} phase={d.get('phase')} step={d.get('step')}"
    if k == "evidence.file":
        return f"{d.get('path')} {str(d.get('sha256', ''))[:12]}…"
    if k == "run.end":
        return f"{d.get('status')} exit={d.get('exit_code')}"
    return ", ".join(f"{key}={d[key]}" for key in list(d)[:4] if not isinstance(d[key], Mapping | list))


def derive_status(*, aborted: bool, refused: bool, failures: bool, end_status: str | None,
                  untested: bool = False) -> str:
    """run.end wins; before it is written (reports are rendered first) derive it: refused,
    aborted, failed, then inconclusive (an objective not tested), else passed."""
    if end_status in STATUSES:
        return end_status
    if refused:
        return "refused"
    if aborted:
        return "aborted"
    if failures:
        return "failed"
    return "inconclusive" if untested else "passed"


def load_run(run_dir: Path, *, log: bool = True, closing: bool = False) -> RunView:
    """Read run_dir/journal.jsonl into a RunView. Raises InputError if it is no run.

    closing: the engine renders the reports just before it writes run.end, so a missing
    run.end is expected then (the report describes the run as finished, with the exit
    code of its status); rendered later, it means the run never finished.
    """
    path = Path(run_dir) / JOURNAL
    if not path.is_file():
        raise InputError(Problem(str(run_dir), None, "RUN", "no journal.jsonl; expected a run folder"))
    journal = read_journal(path)
    if not journal.records or journal.records[0].kind != "run.start":
        raise InputError(Problem(str(path), 1, "kind", "expected a run.start record first"))
    return _build(Path(run_dir), journal, log=log, closing=closing)


def build_view(run_dir: Path, records: Sequence[Record], *, log: bool = True,
               closing: bool = False) -> RunView:
    return _build(Path(run_dir), from_records(Path(run_dir) / JOURNAL, records), log=log,
                  closing=closing)


class _Collect:
    """The records of one journal, sorted into what a RunView shows."""

    def __init__(self) -> None:
        self.phases: list[jr.PhaseEnd] = []
        self.step_starts: dict[str, Mapping[str, Any]] = {}
        self.step_ends: dict[str, Mapping[str, Any]] = {}
        self.step_order: list[str] = []
        self.tasks: dict[str, list[TaskView]] = {}
        self.acks: dict[str, list[jr.OperatorAck]] = {}
        self.faults: list[FaultEffect] = []
        self.measures: list[jr.Measure] = []
        self.objectives: list[jr.Objective] = []
        self.steady: list[jr.SteadyState] = []
        self.transitions: list[jr.ProbeTransition] = []
        self.gw_events: list[MonitorEvent] = []
        self.probes: list[jr.ProbeSummary] = []
        self.evidence: list[EvidenceView] = []
        self.interrupts: list[Interrupt] = []
        self.predictions: list[PredictionView] = []
        self.recovered = False

    def add(self, rec: Record) -> None:
        t = typed(rec)
        if isinstance(t, jr.PhaseEnd):
            self.phases.append(t)
        elif isinstance(t, jr.StepStart | jr.StepEnd):
            key = jr.step_key(rec.data.get("phase"), rec.data.get("index"))
            if key not in self.step_order:
                self.step_order.append(key)
            (self.step_starts if rec.kind == "step.start" else self.step_ends)[key] = rec.data
        elif isinstance(t, jr.AnsibleTask):
            ref = _ref(t.step)
            self.tasks.setdefault(ref, []).append(TaskView(
                ref, t.host, t.task, t.action, t.status, t.started, t.duration_s, _s(t.msg)))
        elif isinstance(t, jr.OperatorAck):
            self.acks.setdefault(_ref(t.step), []).append(replace(t, step=_ref(t.step)))
        elif isinstance(t, jr.FaultEffective):
            ref = _ref(t.step)
            self.faults.append(FaultEffect(ref, _effect_text(t.effect), t.at, t.affected,
                                           _is_restore(t.effect, ref.partition("[")[0])))
        elif isinstance(t, jr.Measure):
            self.measures.append(t)
        elif isinstance(t, jr.Objective):
            self.objectives.append(t)
        elif isinstance(t, jr.SteadyState):
            self.steady.append(t)
        elif isinstance(t, jr.ProbeTransition):
            self.transitions.append(t)
        elif isinstance(t, jr.GatewayEvent):
            if t.ns:
                self.gw_events.append(MonitorEvent(t.gateway, t.type, t.ns, t.data))
        elif isinstance(t, jr.ProbeSummary):
            self.probes.append(t)
        elif isinstance(t, jr.EvidenceFile):
            self.evidence.append(EvidenceView(_s(t.path), _s(t.sha256), t.source_text, t.redacted,
                                              _s(t.original_sha256)))
        elif isinstance(t, jr.Signal | jr.Abort):
            what = t.signal if isinstance(t, jr.Signal) else t.reason
            self.interrupts.append(Interrupt(rec.kind, what, t.phase, _ref(t.step),
                                             Stamp(rec.ts_ns, "engine", 0.0)))
        elif isinstance(t, jr.Recover):
            self.recovered = True
        elif isinstance(t, jr.FailoverPrediction):
            self.predictions.append(PredictionView(t.gateway, t.service, t.low_s, t.high_s, t.basis))

    def steps(self) -> list[StepView]:
        out = []
        for key in self.step_order:
            end = self.step_ends.get(key, {})
            # step.end repeats and overrides step.start; a step cut short has only its start.
            m = jr.StepEnd.from_record({**self.step_starts.get(key, {}), **end})
            out.append(StepView(
                m.phase, int(m.index or 0), key, m.name, m.step_kind, m.automated,
                m.status or "unfinished", m.started, m.ended, m.duration_s, _s(m.error),
                tuple(self.tasks.get(key, []) + self.tasks.get(m.name.en, [])),
                tuple(self.acks.get(key, []) + self.acks.get(m.name.en, []))))
        return out

    def measure_views(self) -> list[MeasureView]:
        restores = sorted((f for f in self.faults if f.restores and f.at is not None),
                          key=lambda f: f.at.ns)
        out = []
        for m in self.measures:
            # The link came back at the first restore effect after the loss.
            back = next((f.at for f in restores
                         if m.link_lost is not None and f.at.ns >= m.link_lost.ns), None)
            out.append(MeasureView(
                m.gateway, m.service, m.phase, m.affected, _s(m.centre_before), _s(m.centre_after),
                m.link_lost, m.detected, m.observed, m.restored, m.interruption_s, m.target_s,
                m.passed, back if m.affected else None, m.note))
        return out


def _build(run_dir: Path, journal: RunJournal, *, log: bool, closing: bool) -> RunView:
    records = journal.records
    first = records[0]
    start = jr.RunStart.from_record(first.data)
    sd = start.data
    drill, inv, git = start.drill, start.inventory, start.git
    retention = inv.get("retention_days", start.topology.get("retention_days"))
    report = inv.get("report")  # the inventory's `report` section (engine/record.py)
    report = report if isinstance(report, Mapping) else {}
    c = _Collect()
    entries: list[LogEntry] = []
    for rec in records:
        if log:
            entries.append(LogEntry(rec.seq, rec.ts_ns, rec.kind, _summary(rec)))
        c.add(rec)
    end_rec = next((r for r in reversed(records) if r.kind == "run.end"), None)
    end = jr.RunEnd.from_record(end_rec.data) if end_rec is not None else None
    steps = c.steps()
    measures = c.measure_views()
    deviations = _deviations(steps, measures, c.objectives, c.steady, c.interrupts,
                             end is None and not closing)
    failures = any(dv.what in ("objective", "measure", "step", "steady_state") for dv in deviations)
    gate = [st for st in c.steady if st.when == "gate"]
    refused = bool(gate) and not gate[-1].ok and not any(s.phase in _FAULT_PHASES for s in steps)
    # `drill recover` ends a dead run as aborted; its reports are rendered before run.end.
    status = derive_status(aborted=bool(c.interrupts) or c.recovered, refused=refused,
                           failures=failures, end_status=end.status if end else None,
                           untested=any(o.verdict == NOT_TESTED for o in c.objectives))
    last = records[-1]
    reviews = read_reviews(run_dir, last.hash) if end is not None else ()
    ended = Stamp((end_rec or last).ts_ns, "engine", 0.0)
    if end is not None:
        exit_code = None if end.exit_code is None else int(end.exit_code)
    else:
        # Closing: run.end follows this report with the status derived here.
        exit_code = exit_code_of(status) if closing else None
    return RunView(
        run_id=first.run, run_dir=run_dir,
        drill=DrillInfo(_s(drill.get("id")), Text.of(drill.get("title") or drill.get("id")),
                        _s(drill.get("sha256")), tuple(str(x) for x in drill.get("spec") or ()),
                        _s(drill.get("cadence")),
                        _s((drill.get("organised") or {}).get("organiser"))),
        params=dict(sd.get("params") or {}),
        inventory=InventoryInfo(_s(inv.get("path")), _s(inv.get("environment")), _s(inv.get("kind")),
                                _s(inv.get("timezone") or DEFAULT_TZ), _s(inv.get("sha256")),
                                int(retention) if retention is not None else 366),
        playbooks=dict(sd.get("playbooks") or {}),
        git_commit=_s(git.get("commit")), git_dirty=git.get("dirty"),
        operator=_s(sd.get("operator")), os_user=_s(sd.get("os_user")), host=_s(sd.get("host")),
        ticket=_s(sd.get("ticket")), approver=_s(sd.get("approver")),
        unattended=bool(sd.get("unattended")), rehearsal=bool(sd.get("rehearsal")),
        versions={str(k): _s(v) for k, v in (sd.get("versions") or {}).items()},
        targets=dict(sd.get("targets") or {}),
        topology=_topology(start.topology),
        started=Stamp(first.ts_ns, "engine", 0.0), ended=ended, status=status,
        exit_code=exit_code,
        summary=end.summary if end is not None and isinstance(end.summary, str) else "",
        finished=end is not None or closing, phases=tuple(c.phases), steps=tuple(steps),
        faults=tuple(c.faults), measures=tuple(measures), objectives=tuple(c.objectives),
        steady=tuple(c.steady), transitions=tuple(c.transitions),
        gateway_events=tuple(c.gw_events), probe_summaries=tuple(c.probes),
        evidence=tuple(c.evidence), interrupts=tuple(c.interrupts),
        deviations=tuple(deviations), artifacts=dict(end.artifacts) if end else {},
        records=len(records), digest=last.hash, log=tuple(entries),
        purpose=Text.of(drill.get("description") or ""),
        plan=PlanRef.of(report.get("plan")), organisation=Organisation.of(report.get("organisation")),
        documents=documents(report.get("documents")),
        reviews=reviews, closures=closures_elsewhere(run_dir, reviews),
        predictions=tuple(c.predictions))


def _deviations(steps: Sequence[StepView], measures: Sequence[MeasureView],
                objectives: Sequence[jr.Objective], steady: Sequence[jr.SteadyState],
                interrupts: Sequence[Interrupt], unfinished: bool) -> list[Deviation]:
    out: list[Deviation] = []
    names = {s.key: s.name.zh for s in steps}
    for i in interrupts:
        phase_zh = LABELS.get(f"phase_{i.phase}", ("—",))[0] if i.phase else "—"
        out.append(Deviation(i.kind, i.what, Text(f"阶段：{phase_zh}；步骤：{names.get(i.step) or '—'}",
                                                  f"phase {i.phase or '-'}, step {i.step or '-'}")))
    for s in steps:
        if s.status not in ("ok", "skipped"):
            out.append(Deviation("step", s.name.zh, Text.of(s.error or s.status)))
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
        if o.verdict == FAILED:
            out.append(Deviation("objective", o.name, Text(
                f"目标值 {o.target}，实测值 {o.measured}。{o.detail}",
                f"target {o.target}, measured {o.measured}. {o.detail}")))
        elif o.verdict == NOT_TESTED:
            out.append(Deviation("not_tested", o.name, Text(f"未测：{o.detail}",
                                                             f"not tested: {o.detail}")))
    for st in steady:
        if not st.ok:
            bad = "; ".join(f"{c.gateway} {c.check}: {c.detail}" for c in st.checks if not c.ok)
            out.append(Deviation("steady_state", st.when, Text.of(bad or "not ok")))
    if unfinished:
        out.append(Deviation("unfinished", "run.end", Text("操作日志中没有结束记录，演练未正常结束",
                                                           "the journal has no run.end record")))
    return out
