"""`drill recover`: close the runs of an environment that died without finishing (SIGKILL,
power loss): end their process groups, run their restore phase, check steady state, close
and seal them as aborted (docs/run-folder.md, "Unfinished runs")."""

from __future__ import annotations

import getpass
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator.archive.runs import run_language
from orchestrator.engine import sealing
from orchestrator.engine.lock import break_stale
from orchestrator.engine.options import RunOptions
from orchestrator.engine.runner import Engine
from orchestrator.engine.steps import step_from_record
from orchestrator.errors import RefusedError
from orchestrator.journal import records as jr
from orchestrator.journal.chain import Journal, read_records
from orchestrator.journal.runfolder import RunFolder, unfinished_runs, unregister_active
from orchestrator.model.inventory import SHENZHEN, Inventory
from orchestrator.model.stamp import Stamp
from orchestrator.targets import Target, open_target, target_for_run
from orchestrator.targets.host_read import HostRead


@dataclass(frozen=True)
class Recovered:
    run_id: str
    run_dir: Path
    actions: tuple[str, ...]
    steady_ok: bool | None


def recover(drill_home: Path, environment: str, *, reports_dirs: tuple[Path, ...] = (),
            inventory: Inventory | None = None, target: Target | None = None,
            say: Callable[[str], None] = lambda _m: None, signer: Any = None,
            ask: Callable[[str], str] | None = None) -> list[Recovered]:
    """Close every unfinished run of `environment`: end its process groups, run its restore
    phase (failback to Shenzhen only when Shenzhen is healthy), check steady state, append
    `recover` and `run.end` (aborted), then release a stale lock. `signer`: the key to
    seal with (--signing-key); None looks it up like `drill run`. `target`: what the
    environment runs on now; None: the one each run journaled (run.start).

    `ask`: the person at the terminal, asked (as by `drill run`) to make each restore change
    on a manual-driver line, centre or gateway. Without one, a run that needs such a change
    is refused up front (RefusedError): nothing is restored and every run stays unfinished,
    for a later `drill recover` at a terminal."""
    from orchestrator.adapters import procgroup
    from orchestrator.engine.lock import is_stale, lock_path

    path = lock_path(drill_home, environment)
    if path.exists() and not is_stale(path):
        from orchestrator.engine.lock import read_holder

        holder = read_holder(path)
        raise RefusedError(f"environment {environment!r} is locked by a live run "
                           f"({holder.describe() if holder else 'unknown holder'}); "
                           f"stop it (Ctrl-C) instead of recovering")
    runs = unfinished_runs(drill_home, environment, reports_dirs)
    if ask is None:
        _refuse_manual(runs, inventory)
    done: list[Recovered] = []
    for run_dir in runs:
        completed = _complete_from_fallback(drill_home, run_dir, signer, say)
        if completed is not None:
            unregister_active(drill_home, environment, run_dir.name)
            done.append(completed)
            continue
        records = list(read_records(run_dir / "journal.jsonl"))
        start = next((r for r in records if r.kind == "run.start"), None)
        actions: list[str] = []
        for r in records:
            if r.kind == "ansible.process":
                pgid = int(r.data.get("pgid") or 0)
                if pgid > 1 and procgroup.group_alive(pgid):
                    procgroup.kill_process_group(pgid)
                    actions.append(f"killed process group {pgid} ({r.data.get('step')})")
            elif r.kind == "ssh.control":
                actions.extend(_end_ssh_masters(str(r.data.get("path") or "")))
        journal = Journal(run_dir / "journal.jsonl", run_dir.name)
        steady_ok = None
        try:
            eng = None
            if start is None:
                actions.append("no run.start: nothing to restore")
            else:
                eng, steady_ok = _recover_run(start.data, records, journal, inventory,
                                              target, drill_home, run_dir, actions, say,
                                              signer, ask)
            summary = ("aborted: the run did not finish; closed by `drill recover`: "
                       + "; ".join(actions))
            closing = jr.Recover(getpass.getuser(), Stamp(time.time_ns(), "engine"), tuple(actions))
            journal.append(closing.kind, closing.to_record())
            if eng is None:
                end = jr.RunEnd("aborted", 3, summary, {})  # no rto_s: nothing was measured
                journal.append(end.kind, end.to_record())
            else:
                # Close it like any run: bind the evidence, write the reports, seal, index.
                sealing.collect_evidence(eng)
                artifacts = sealing.write_reports(eng)
                eng.emit(jr.RunEnd("aborted", 3, summary, artifacts, rto_s={}))
        finally:
            journal.close()
        if eng is not None:
            sealing.index(eng)
        unregister_active(drill_home, environment, run_dir.name)
        done.append(Recovered(run_dir.name, run_dir, tuple(actions), steady_ok))
    holder = break_stale(drill_home, environment)
    if holder is not None:
        done.append(Recovered(holder.run_id, Path(), (f"released stale lock of {holder.describe()}",), None))
    return done


def _complete_from_fallback(drill_home: Path, run_dir: Path, signer: Any,
                            say: Callable[[str], None]) -> Recovered | None:
    """A run whose journal went on in its fallback (the run folder's disk was full or
    read-only): append the continuation to the run folder's journal. A run that had ended
    is then whole: its reports are rendered (recorded in renders.jsonl) and it is sealed;
    returned. A run that died while in fallback carries on like any unfinished run: None."""
    from orchestrator.adapters.atomic import write_atomic
    from orchestrator.journal.chain import complete_from, disk_of
    from orchestrator.journal.runfolder import ANSIBLE_MANIFEST, fallback_journal, fallback_manifest

    cont = fallback_journal(drill_home, run_dir.name)
    if cont is None:
        return None
    journal = run_dir / "journal.jsonl"
    manifest = fallback_manifest(cont)
    try:
        if manifest.is_file():  # the Ansible manifest run.end binds, written while in fallback
            write_atomic(run_dir / ANSIBLE_MANIFEST, manifest.read_bytes())
        n = complete_from(journal, cont)
        manifest.unlink(missing_ok=True)
    except OSError as e:
        raise RefusedError(f"{run_dir.name}: {e} ({disk_of(run_dir)}); free space there and "
                           f"run `drill recover` again") from None
    say(f"{run_dir.name}: journal completed with {n} record(s) from {cont}")
    records = list(read_records(journal))
    if not any(r.kind == "run.end" for r in records):
        return None
    actions = [f"journal completed with {n} record(s) from {cont}"]
    start = next((r for r in records if r.kind == "run.start"), None)
    lang = run_language(run_dir) or "en"  # the language the run printed in
    try:
        from orchestrator.integrity.renders import record_render
        from orchestrator.reports import render_report

        for fmt in ("html", "json"):
            record_render(run_dir, render_report(run_dir, fmt, lang), fmt, lang, signer=signer)
        actions.append("reports rendered (renders.jsonl)")
    except Exception as e:  # the record is whole; a report can be rendered later
        actions.append(f"reports not rendered: {type(e).__name__}: {e}")
    try:
        from orchestrator.integrity.index import append_run

        reports = Path((start.data.get("reports_dir") if start else None) or run_dir.parent.parent)
        append_run(reports, run_dir, signer=signer)
        actions.append("sealed in the archive index")
    except Exception as e:
        actions.append(f"archive index not updated: {e}")
    for a in actions[1:]:
        say(f"{run_dir.name}: {a}")
    return Recovered(run_dir.name, run_dir, tuple(actions), None)


@dataclass(frozen=True)
class _RestorePlan:
    inv: Inventory
    drill: Any  # orchestrator.scenario.Drill
    steps: tuple[Any, ...]  # orchestrator.scenario.Step, as journaled in run.start's plan
    fault_started: bool


def _restore_plan(start: Mapping[str, Any], records, inventory: Inventory | None) -> _RestorePlan:
    from orchestrator.config.inventory import load_inventory
    from orchestrator.config.scenario import find_drill

    inv = inventory or load_inventory(start["inventory"]["path"])
    plan = [p for p in start.get("plan") or [] if p.get("phase") == "restore"]
    fault_started = any(r.kind == "step.start" and r.data.get("phase") in ("fault", "recovery", "hold",
                                                                             "restore")
                        for r in records)
    project = Path(start.get("project") or ".")
    drill = find_drill(project / "drills", start["drill"]["id"])
    return _RestorePlan(inv, drill, tuple(step_from_record(p) for p in plan), fault_started)


def _manual_restores(rp: _RestorePlan) -> list[str]:
    """The restore changes a person must make (manual driver), as the engine would ask them;
    the failback the engine adds (drill.failback, no repoint-home step) counts per gateway."""
    from orchestrator.engine.steps import MANUAL, manual_changes

    if not rp.fault_started:
        return []
    out = [c for s in rp.steps for c in manual_changes(rp.inv, s)]
    if rp.drill.failback and not any(s.effect is not None and s.effect.repoint_to == "home"
                                     for s in rp.steps):
        out += [f"gateway {g.id}: repoint home if it is away from it, and restart it"
                for g in rp.inv.gateways
                if not g.satellite_only and (g.driver or rp.inv.driver) == MANUAL]
    return out


def _gate_reads(records) -> dict[str, HostRead] | None:
    """Each gateway's config as its host reported it at the gate, read back from the
    journal's gate `steady_state` record, so the after-check compares with it; None when
    the run died before the gate (nothing to compare: the check then only reads)."""
    gate = next((r for r in records if r.kind == "steady_state" and r.data.get("when") == "gate"), None)
    if gate is None:
        return None
    out = {}
    for c in gate.data.get("checks") or ():
        m = re.match(r"(.+?) sha256 ([0-9a-f]{64})", str(c.get("detail") or ""))
        if c.get("check") == "config_on_host" and m:
            out[c["gateway"]] = HostRead(c["gateway"], m.group(1), m.group(2), None)
    return out


def _refuse_manual(runs: list[Path], inventory: Inventory | None) -> None:
    """Nobody to ask: refuse before anything is killed, restored or journaled, naming what
    is left to do by hand, so that no run is half-restored and closed as if it were whole."""
    pending: list[str] = []
    for run_dir in runs:
        records = list(read_records(run_dir / "journal.jsonl"))
        start = next((r for r in records if r.kind == "run.start"), None)
        if start is None:
            continue
        changes = _manual_restores(_restore_plan(start.data, records, inventory))
        if changes:
            pending.append(f"{run_dir.name}: " + "; ".join(changes))
    if pending:
        raise RefusedError("recover needs a person to make manual-driver restore changes and "
                           "nobody can confirm them here (not a terminal; --yes never confirms "
                           "a manual change); nothing restored, the run stays unfinished; run "
                           "`drill recover` at a terminal. To do by hand: " + " | ".join(pending))


def _recover_run(start: Mapping[str, Any], records, journal: Journal, inventory: Inventory | None,
                 target: Target | None, drill_home: Path, run_dir: Path,
                 actions: list[str], say, signer: Any = None,
                 ask: Callable[[str], str] | None = None) -> tuple[Engine, bool]:
    """Run a dead run's restore steps with an engine that carries on its journal."""
    from orchestrator.model.drill import ResolvedDrill

    rp = _restore_plan(start, records, inventory)
    inv, drill, steps, fault_started = rp.inv, rp.drill, rp.steps, rp.fault_started
    target = target if target is not None else target_for_run(start.get("lab_state_dir"))
    manual = _manual_restores(rp)
    resolved = ResolvedDrill(drill=drill, params=start.get("params") or {},
                             phases={"restore": steps if fault_started else ()})
    opts = RunOptions(reports_dir=Path(start.get("reports_dir") or run_dir.parent.parent),
                      drill_home=drill_home, project_root=Path(start.get("project") or "."),
                      operator=getpass.getuser(), yes=True, signer=signer, ask=ask,
                      lang=run_language(run_dir) or "en")  # its reports in the run's language
    eng = Engine.continuing(resolved, inv, opts, target, RunFolder.open(run_dir), journal)
    last_phase = next((r.data.get("phase") for r in reversed(records) if r.kind == "phase.start"), "")
    last_step = next((f"{r.data.get('phase')}[{r.data.get('index')}]" for r in reversed(records)
                      if r.kind == "step.start"), None)
    eng.emit(jr.Abort("the run died without finishing (killed or power lost); "
                       "closed by `drill recover`", last_phase or "", last_step))
    try:
        return _restore_and_check(eng, rp, target, run_dir, actions, say, manual, _gate_reads(records))
    finally:
        eng.connections.close()  # the run's SSH connections: restore's and the after-check's


def _restore_and_check(eng: Engine, rp, target: Target, run_dir: Path, actions: list[str],
                       say, manual: list[str], gate: Mapping[str, HostRead]) -> tuple[Engine, bool]:
    """The restore phase (asking before a repoint home whether Shenzhen is healthy), then
    the after-check against the run's gate reads."""
    inv, drill, steps, fault_started = rp.inv, rp.drill, rp.steps, rp.fault_started
    if not fault_started:
        actions.append("no fault step had started: nothing to restore")
    else:
        def guard(step) -> str | None:
            # Checked when the repoint comes up, after the restore steps before it ran.
            if step.effect is not None and step.effect.repoint_to == "home" \
                    and not target.centres_healthy(inv, SHENZHEN, eng.connections.pool):
                msg = ("Shenzhen (FT/NF) is not healthy: gateways left on BJ; run "
                       "`drill recover` again once FT and NF answer")
                actions.append(msg)
                say(msg)
                return msg
            return None

        say(f"{run_dir.name}: running {len(steps)} restore step(s)")
        if manual:
            # The engine asks for each change as its step comes up (operator.ack journaled).
            say(f"{run_dir.name}: you will be asked to make these changes by hand: "
                + "; ".join(manual))
        failed = eng.restore(before_step=guard)
        actions.append(f"ran the restore phase ({len(steps)} step(s))"
                       + (f"; failed: {', '.join(failed)}" if failed else ""))
    res = eng.after_check(require_home=bool(drill.failback), host_gate=gate)
    actions.append("steady state " + ("restored" if res.ok else "NOT restored: " + res.describe_failures()))
    return eng, res.ok


def recover_environment(inventory_path: Path, drill_home: Path, *,
                        reports_dirs: tuple[Path, ...] = (), say: Callable[[str], None] = lambda _m: None,
                        signer: Any = None, ask: Callable[[str], str] | None = None
                        ) -> tuple[str, list[Recovered]]:
    """`drill recover` for the environment an inventory names, on the target it runs now
    (a running lab's effective inventory). Returns the environment's name and what was done."""
    opened = open_target(Path(inventory_path), drill_home, start=False)
    env = opened.inventory.environment.name
    # A lab that is not running: each run's own journaled target (as before the split).
    target = opened.target if opened.target.state_dir is not None else None
    return env, recover(drill_home, env, reports_dirs=reports_dirs, inventory=opened.inventory,
                        target=target, say=say, signer=signer, ask=ask)


def _end_ssh_masters(path: str) -> list[str]:
    """The ssh control masters a killed run kept (`ssh.control`), ended; its folder removed.
    Only a folder drill makes (`drill-ssh-…`, absolute) is acted on."""
    from orchestrator.adapters.run_ssh import CONTROL_PREFIX, end_control

    folder = Path(path)
    if not folder.is_absolute() or not folder.name.startswith(CONTROL_PREFIX) or ".." in folder.parts:
        return [f"ssh control folder {path!r} not touched: not one drill makes"]
    ended = end_control(folder)
    return [f"ended {len(ended)} ssh control master process(es) of {folder}"] if ended else []
