"""`drill plan`: a drill's resolved steps as they would run, each playbook step tried in
Ansible check mode with the extra variables a run would give it."""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from orchestrator.engine.playbook import extravars
from orchestrator.engine.predict import Prediction, predicted_failover, unmet
from orchestrator.engine.prepare import prepare
from orchestrator.engine.record import plain_params


@dataclass(frozen=True)
class PlannedObjective:
    """An objective as it stands before the run: to be measured, or not applicable."""

    name: str
    state: str  # "to_measure" | not_applicable
    detail: str


@dataclass(frozen=True)
class Plan:
    drill: str
    params: Mapping[str, Any]
    steps: tuple[Mapping[str, Any], ...]  # step records, with "check" for checked playbooks
    on_path: tuple[str, ...] = ()  # gateways the fault steps put on the failed path
    objectives: tuple[PlannedObjective, ...] = ()
    warnings: tuple[str, ...] = ()
    predictions: tuple[Prediction, ...] = ()  # engine/predict.py
    lang: str = "en"  # the language its step names are in

    def to_record(self) -> dict[str, Any]:
        return {"drill": self.drill, "params": plain_params(self.params),
                "steps": [dict(s) for s in self.steps], "on_failed_path": list(self.on_path),
                "objectives": [{"name": o.name, "state": o.state, "detail": o.detail}
                               for o in self.objectives],
                "warnings": list(self.warnings),
                "predictions": [{"gateway": p.gateway, "service": p.service, "low_s": p.low_s,
                                 "high_s": p.high_s, "basis": p.basis.to_record()} for p in self.predictions]}


def predicted_path(resolved, inv, centres_now: Mapping[str, str | None] | None = None
                   ) -> dict[str, list[str]]:
    """Gateways (and services) the drill's fault steps put on the failed path, predicted
    from the centres the monitors report (`centres_now`; a gateway without one, or all
    when None, on its home centre). The run predicts again at each fault step."""
    from orchestrator.engine.playbook import is_fault
    from orchestrator.engine.state import FAULT_PHASES
    from orchestrator.engine.timing import predict_affected

    down_lines: set[str] = set()
    down_centres: set[str] = set()
    affected: dict[str, list[str]] = {}
    for phase in FAULT_PHASES:
        for step in resolved.phases.get(phase, ()):
            effect = step.effect
            if effect is None:
                continue
            if is_fault(effect):
                for gid, svcs in predict_affected(inv, effect, centres_now or {}, down_lines,
                                                   down_centres).items():
                    affected.setdefault(gid, svcs)
            down_lines = (down_lines | set(effect.lines_down)) - set(effect.lines_up)
            down_centres = (down_centres | set(effect.centres_down)) - set(effect.centres_up)
    return affected


def planned_objectives(resolved, inv) -> tuple[tuple[str, ...], tuple[PlannedObjective, ...],
                                               tuple[str, ...]]:
    """Before the run: which gateways are on the failed path, which RTO objectives are
    not applicable (no gateway of the service there), and the warnings `drill plan` shows."""
    from orchestrator.model.run import NOT_APPLICABLE

    affected = predicted_path(resolved, inv)
    services = {inv.gateway(gid).service_name for gid in affected}
    objs = []
    for service in resolved.drill.targets.rto_s:
        if service in services:
            n = sum(1 for gid in affected if inv.gateway(gid).service_name == service)
            objs.append(PlannedObjective(f"rto.{service}", "to_measure",
                                         f"{n} gateway(s) of this service on the failed path"))
        else:
            objs.append(PlannedObjective(f"rto.{service}", NOT_APPLICABLE,
                                         "no gateway of this service on the failed path"))
    for service, target in resolved.drill.targets.expected_s.items():
        state = "to_measure" if service in services else NOT_APPLICABLE
        objs.append(PlannedObjective(f"expected.{service}", state,
                                     f"interruption expected by the drill, target {target:g}s"))
    warnings = [f"the fault takes down {service}, which the drill neither names nor declares "
                f"expected: the run would fail (declare `{service}: {{expected_interruption: …}}`)"
                for service in sorted(services - set(resolved.drill.targets.rto_s)
                                      - set(resolved.drill.targets.expected_s))]
    if not affected:
        warnings.append("no gateway is on the failed path: this drill would exercise no failover; "
                        "the run would be INCONCLUSIVE (exit 5) and never count as done")
    return tuple(sorted(affected)), tuple(objs), tuple(warnings)


def calendar_gap(inv, today: date | None = None) -> tuple[str, ...]:
    """A warning when no holiday of this year (the environment's) is known to drill."""
    from orchestrator.model.hours import calendar_gaps

    if today is None:
        today = datetime.now(ZoneInfo(inv.environment.timezone)).date()
    return calendar_gaps(inv, today, today)


def plan(project_root: Path, drill_id: str, inventory_path: Path, overrides: Mapping[str, str],
         drill_home: Path, *, ansible_check: bool = True, lang: str | None = "en",
         fallback_lang: str = "en", today: date | None = None) -> Plan:
    """Never starts a lab and changes nothing (check mode). Every step the run can take,
    failback included (engine/plan_detail.py), the same list the run journals as `plan`.
    `lang` None: the inventory's language, else `fallback_lang` (read from the inventory
    this loads: a 2,000-gateway inventory costs a second to load, P10)."""
    from orchestrator.engine.plan_detail import planned_steps
    from orchestrator.engine.safety import refuse_unwritable
    from orchestrator.engine.steps import step_from_record

    prepared = prepare(project_root, drill_id, inventory_path, overrides, drill_home,
                       start_lab=False)
    refuse_unwritable(prepared.resolved, prepared.inventory)
    lang = lang or prepared.inventory.environment.language or fallback_lang
    rows, _ = planned_steps(prepared.resolved, prepared.inventory, lang)
    if ansible_check:
        playbooks = [r for r in rows if r["kind"] == "playbook"]
        checks = _checks(project_root, [step_from_record(r) for r in playbooks],
                         prepared.inventory_path, prepared.inventory.environment.name, drill_home)
        for rec, check in zip(playbooks, checks, strict=True):
            rec["check"] = check
    for rec in rows:
        cli = router_cli(prepared.inventory, step_from_record(rec)) if rec["kind"] == "playbook" else {}
        if cli:  # what a network router's CLI is sent (Huawei, H3C, Cisco)
            rec["router_cli"] = cli
    on_path, objs, warnings = planned_objectives(prepared.resolved, prepared.inventory)
    predictions = predicted_failover(prepared.resolved, prepared.inventory)
    warnings += unmet(predictions, dict(prepared.resolved.drill.targets.rto_s))
    warnings += calendar_gap(prepared.inventory, today)
    return Plan(drill_id, dict(prepared.resolved.params), tuple(rows), on_path, objs, warnings,
                predictions, lang)


def router_cli(inv, step) -> dict[str, list[str]]:
    """The exact CLI lines a line, centre or service step sends, per network router
    (`router (platform)`): line.yml's vars, else the step's declared effect. Linux routers and
    other drivers: none."""
    from orchestrator.adapters.routers import planned_centre_cli, planned_cli, planned_service_cli

    if step.kind != "playbook":
        return {}
    name = Path(str(step.playbook)).name
    if name in ("centre.yml", "service.yml") and (step.vars or {}).get("state") in ("down", "up"):
        v = step.vars or {}
        ids = [v["centres"]] if isinstance(v.get("centres"), str) else list(v.get("centres") or ())
        if name == "centre.yml":
            return planned_centre_cli(inv, ids, v["state"])
        svcs = [v["services"]] if isinstance(v.get("services"), str) else list(v.get("services") or ())
        return planned_service_cli(inv, svcs, ids, v["state"])
    linux = {ln.id for ln in inv.lines if (ln.driver or inv.driver) == "linux"}
    v = step.vars or {}
    if Path(str(step.playbook)).name == "line.yml" and v.get("state") in ("down", "up"):
        ids = [v["lines"]] if isinstance(v.get("lines"), str) else list(v.get("lines") or ())
        return planned_cli(inv, [i for i in ids if i in linux], v["state"], str(v.get("mode") or "blackhole"))
    e = step.effect
    if e is None:
        return {}
    out = planned_cli(inv, [i for i in e.lines_down if i in linux], "down", e.mode or "blackhole")
    for router, lines in planned_cli(inv, [i for i in e.lines_up if i in linux], "up", "").items():
        out.setdefault(router, []).extend(lines)
    return out


def _checks(project_root: Path, steps, inventory: Path, environment: str,
            drill_home: Path) -> list[dict[str, Any]]:
    """Each playbook step in check mode, side by side (one `ansible-playbook` each, as many
    at once as there are CPUs): check mode changes nothing, so no step's check depends on
    another's, and on a big inventory each start-up is seconds of CPU (P10). An interrupt
    cancels them all; each ends its own process group."""
    from concurrent.futures import ThreadPoolExecutor

    cancel = threading.Event()
    workers = max(1, min(len(steps), os.cpu_count() or 1))
    with _interrupted_by_stop_signals(), ThreadPoolExecutor(workers, "plan-check") as pool:
        futures = [pool.submit(_check, project_root, step, inventory, environment, drill_home,
                               cancel) for step in steps]
        try:
            return [f.result() for f in futures]
        except BaseException:
            cancel.set()
            raise


@contextlib.contextmanager
def _interrupted_by_stop_signals():
    """SIGINT, SIGTERM and SIGHUP interrupt the checks (their default would end drill and
    leave each check's `ansible-playbook`, in its own session, running; and a drill started
    where SIGINT is ignored, as a background job of a script, would not hear Ctrl-C)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, _frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)

    old = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def _check(project_root: Path, step, inventory: Path, environment: str,
           drill_home: Path, cancel: threading.Event | None = None) -> dict[str, Any]:
    from orchestrator.adapters import ansible

    with tempfile.TemporaryDirectory(prefix="drill-plan-") as tmp:
        res = ansible.run_playbook(ansible.PlaybookRun(
            playbook=Path(project_root) / "playbooks" / step.playbook, inventory=inventory,
            extravars=extravars(step, run_id="plan", environment=environment,
                                drill_home=drill_home, project=project_root,
                                evidence_dir=Path(tmp) / "evidence"),
            private_data_dir=Path(tmp) / "pdd", check=True, timeout_s=step.timeout_s),
            cancel=cancel)
    return {"status": res.status, "tasks": len(res.tasks),
            "failed": [f"{t.task}: {t.msg}" for t in res.failed_tasks]}
