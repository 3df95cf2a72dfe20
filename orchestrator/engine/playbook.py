"""The playbook step kind: predict what a fault breaks, run the playbook through Ansible,
apply its declared effect to the run state. Also the extra variables every playbook gets,
shared by `drill run` and `drill plan`."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestrator.engine.state import STOPPABLE
from orchestrator.engine.timing import effective_by_target, loss_causes, predict_affected
from orchestrator.journal import records as jr
from orchestrator.model.stamp import Stamp

if TYPE_CHECKING:
    from orchestrator.engine.kinds import StepCall
    from orchestrator.engine.runner import Engine


def extravars(step, *, run_id: str, environment: str, drill_home: Path, project: Path,
              evidence_dir: Path) -> dict[str, Any]:
    """What a playbook step is run with: its own vars plus the run's context."""
    return {**dict(step.vars), "drill_run_id": run_id, "drill_environment": environment,
            "drill_home": str(drill_home), "drill_project": str(project),
            "evidence_dir": str(evidence_dir)}


def playbook_run(eng: Engine, phase: str, index: int, step):
    """How `phase[index]` runs its playbook (before any manual acknowledgement)."""
    from orchestrator.adapters import ansible

    return ansible.PlaybookRun(
        playbook=Path(eng.opt.project_root) / "playbooks" / str(step.playbook),
        inventory=Path(eng.inv.path),
        extravars=extravars(step, run_id=eng.folder.run_id, environment=eng.inv.environment.name,
                            drill_home=eng.opt.drill_home, project=eng.opt.project_root,
                            evidence_dir=eng.folder.evidence_files),
        private_data_dir=eng.folder.ansible_dir(steps_before(eng.resolved, phase, index), step.name.en),
        timeout_s=step.timeout_s, secrets=tuple(eng.redactor.values),
        control_dir=eng.connections.control_dir(), forks=eng.connections.forks())


def steps_before(resolved, phase: str, index: int) -> int:
    """How many steps of the plan come before `phase[index]` (numbers artifact folders)."""
    from orchestrator.model.drill import PHASES

    n = 0
    for p in PHASES:
        for i, _s in enumerate(resolved.phases.get(p, ())):
            if p == phase and i == index:
                return n
            n += 1
    return n


def is_fault(effect) -> bool:
    return bool(effect.lines_down or effect.centres_down or effect.services_down
                or (effect.repoint_gateways and effect.repoint_to not in (None, "home")))


def step_effect_record(effect) -> dict[str, Any]:
    return {"lines_down": list(effect.lines_down), "lines_up": list(effect.lines_up),
            "mode": effect.mode, "centres_down": list(effect.centres_down),
            "centres_up": list(effect.centres_up),
            **({"services_down": list(effect.services_down)} if effect.services_down else {}),
            **({"services_up": list(effect.services_up)} if effect.services_up else {}),
            "repoint": {"gateways": list(effect.repoint_gateways), "to": effect.repoint_to}
            if effect.repoint_to else None}


class PlaybookKind:
    def detail(self, step) -> dict[str, Any]:
        return {"playbook": step.playbook, "vars": dict(step.vars)}

    def run(self, eng: Engine, call: StepCall) -> str | None:
        from orchestrator.adapters import ansible

        step, st = call.step, eng.state
        effect = step.effect
        if effect is not None and is_fault(effect):
            centres = eng.obs.tracker.centres()
            if st.link_lost_ns is None:
                st.centres_before = dict(centres)
            predicted = predict_affected(eng.inv, effect, centres, st.down_lines, st.down_centres)
            causes = loss_causes(eng.inv, effect, centres, st.down_lines, st.down_centres)
        else:
            predicted, causes = {}, {}
        spec = playbook_run(eng, call.phase, call.index, step)
        if call.changes:
            # After the prediction (it needs the state before the change), before the run.
            spec = replace(spec, extravars={**spec.extravars,
                                            "drill_manual_ack": self._manual_ack(eng, call)})
        cancel = eng.safety.cancel if call.phase in STOPPABLE else threading.Event()

        def on_process(pid: int, pgid: int) -> None:
            eng.emit(jr.AnsibleProcess(call.label, pid, pgid))

        def on_task(t) -> None:
            msg = "<censored>" if t.no_log else eng.redactor.redact_text(t.msg or "")
            eng.emit(jr.AnsibleTask(call.label, t.host, t.task, t.action, t.status,
                                    Stamp(t.started_ns, "engine"), Stamp(t.ended_ns, "engine"),
                                    round((t.ended_ns - t.started_ns) / 1e9, 6),
                                    t.effective_ns, msg))

        def run(private: Path):
            this = replace(spec, private_data_dir=private)
            started = eng.ahead.take(call.label, this) or ansible.start_playbook(this)
            return started.go(on_task=on_task, on_process=on_process, cancel=cancel)

        result = _run_or_fallback(eng, spec.private_data_dir, run)
        if effect is not None:
            apply_effect(eng, call, result, predicted, causes)
        if result.status == "canceled":
            eng.safety.check_stop()
            return "playbook canceled"
        if not result.ok:
            failed = result.failed_tasks
            why = "; ".join(f"{t.host}: {t.task}: {t.msg}" for t in failed[:3]) or result.status
            if result.rc < 0:  # ended by a signal nobody in drill sent (an OOM kill, an operator)
                import signal

                with contextlib.suppress(ValueError):
                    why = f"ansible-playbook killed by {signal.Signals(-result.rc).name}; {why}"
            return (f"playbook {step.playbook} {result.status} (rc {result.rc}): "
                    f"{eng.redactor.redact_text(why)}")
        return None

    def _manual_ack(self, eng: Engine, call: StepCall) -> dict[str, Any]:
        """A person makes the manual driver's change and types their name; the instant they
        confirm is the change's effective time (drill_manual_ack for drivers/manual/confirm.yml).
        Never unattended: neither the lab nor --yes makes a change nobody made."""
        from orchestrator.engine.safety import StepFailed

        lang, ask = eng.opt.lang, eng.opt.ask
        zh = lang == "zh"
        question = "\n".join([
            call.step.name.get(lang),
            "请现在手工完成以下变更：" if zh else "Make these changes by hand now:",
            *(f"  - {c}" for c in call.changes),
            "完成后输入您的姓名（留空则本步骤失败）" if zh else
            "Type your name when done (empty: the step fails)"])
        answer = (ask(question) or "").strip() if ask else ""
        at_ns = time.time_ns()
        if answer:  # journaled even if a signal came meanwhile: the change was made
            eng.emit(jr.OperatorAck(call.label, answer, Stamp(at_ns, "operator"), False, "prompt"))
        eng.safety.check_stop()  # Ctrl-C while the question was open: restore undoes it
        if not answer:
            why = "empty answer" if ask else "nobody to ask (not interactive)"
            raise StepFailed(f"{call.label}: manual change not acknowledged ({why}): "
                             + "; ".join(call.changes))
        return {"operator": answer, "at_ns": at_ns}


def _run_or_fallback(eng: Engine, pdd: Path, run):
    """Run the playbook with its artifacts in the run folder; when that folder's disk is
    full or read-only (the journal already went to its fallback, or the artifacts cannot be
    written), once more with them beside the journal's fallback (docs/journal.md, "Disk
    full"): a restore step must not fail because the run folder's disk did."""
    import errno

    from orchestrator.journal.runfolder import fallback_dir

    def elsewhere() -> Path | None:
        base = fallback_dir(eng.opt.drill_home, eng.folder.path)
        return None if base is None else base / f"{eng.folder.run_id}-ansible" / pdd.name

    if eng.journal is not None and eng.journal.fallback is not None \
            and (other := elsewhere()) is not None:
        return run(other)
    try:
        return run(pdd)
    except OSError as e:
        if e.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO) \
                or (other := elsewhere()) is None:
            raise
        eng.emit(jr.Note("playbook artifacts moved off the run folder's disk",
                         {"error": f"{type(e).__name__}: {e}", "private_data_dir": str(other)}))
        return run(other)


def apply_effect(eng: Engine, call: StepCall, result, predicted: Mapping[str, list[str]],
                 causes: Mapping[str, str]) -> None:
    """The step's declared effect, timed by the playbook's own stamps, into the run state."""
    effect, st = call.step.effect, eng.state
    eff_ns = result.effective_ns
    source, unc = "fault-task", 1.0
    if eff_ns is None:
        # No task stamped its change: the playbook's end bounds it (engine time).
        eff_ns, source, unc = time.time_ns(), "engine", 0.0
    by_target = effective_by_target(result.private_data_dir)
    # a gateway's restart is stamped on its own host: put that stamp on drill's clock
    for gid, offset_ns in eng.obs.host_clock_offsets().items():
        if gid in by_target:
            by_target[gid] -= offset_ns
    st.down_lines |= set(effect.lines_down)
    st.down_lines -= set(effect.lines_up)
    st.down_centres |= set(effect.centres_down)
    st.down_centres -= set(effect.centres_up)
    st.down_services |= set(effect.services_down)
    st.down_services -= set(effect.services_up)
    if is_fault(effect) and call.phase != "restore":
        if st.link_lost_ns is None:
            st.link_lost_ns, st.fault_source = eff_ns, source
            st.loss_watch_since = eff_ns
        for gid, services in predicted.items():
            if gid not in st.affected:
                st.affected[gid] = services
                st.lost_at[gid] = (by_target.get(causes.get(gid, ""), eff_ns), source)
        st.restarted |= set(effect.repoint_gateways)
        eng.safety.scan_blast_radius(eng.inv, eng.drill.abort.blast_radius, eng.obs.tracker)
    elif effect.repoint_to == "home" and effect.repoint_gateways:
        st.failback_ns = eff_ns
        st.failback_gateways = tuple(effect.repoint_gateways)
        st.failback_at = {gid: by_target.get(gid, eff_ns) for gid in effect.repoint_gateways}
    eng.emit(jr.FaultEffective(call.label, step_effect_record(effect), Stamp(eff_ns, source, unc),
                               predicted, {t: Stamp(ns, "fault-task", 1.0)
                                           for t, ns in sorted(by_target.items())}))


def failback_step(eng: Engine, steps, centres: Mapping[str, str | None] | None = None):
    """Failback the drill declares but does not spell out: repoint every gateway that
    is off its home centre (seen on its monitor now, or in `centres`: where the observers
    last saw each) back home, measured as failback."""
    if not eng.drill.failback or any(
            s.effect is not None and s.effect.repoint_to == "home" for s in steps):
        return None
    import asyncio

    from orchestrator.config.scenario import Effect, Step
    from orchestrator.model.text import Text
    from orchestrator.probes.monitor import fetch_many

    inv = eng.inv
    eligible = [g for g in inv.gateways if not g.satellite_only]
    if centres is not None:  # the observers' view covers host-observed gateways too
        statuses: dict = {gid: {"centre": c} for gid, c in centres.items()}
    else:  # where each gateway is now: its monitor, or for an `observe: host` one its log
        hosted = {gid: {"centre": v.centre} for gid, v in eng.obs.host_views().items()}
        statuses = asyncio.run(fetch_many({g.id: (g.monitor.address, g.monitor.port) for g in eligible
                                           if g.id not in hosted and g.monitor is not None}))
        statuses.update(hosted)
    away = tuple(g.id for g in eligible if isinstance(statuses.get(g.id), Mapping)
                 and statuses[g.id].get("centre") not in (None, inv.home_centre(g)))
    if not away:
        return None
    return Step(name=Text("回切：网关恢复至主用中心", "Failback: return gateways to their home centre"),
                kind="playbook", playbook="repoint.yml", vars={"gateways": list(away), "to": "home"},
                effect=Effect(repoint_gateways=away, repoint_to="home"), timeout_s=300.0)
