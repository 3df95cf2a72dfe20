"""`drill run`, `drill plan`, `drill recover`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from orchestrator.cli._console import in_language, label, log_lines, plan_text, plan_warning, result_text, run_verdict
from orchestrator.cli._options import (
    inventory_option,
    json_option,
    lang_option,
    project_option,
    reports_option,
    resolve_lang,
)
from orchestrator.model.run import state_counts


def _overrides(sets: tuple[str, ...]) -> dict[str, str]:
    from orchestrator.errors import InputError, Problem

    out: dict[str, str] = {}
    problems = []
    for item in sets:
        name, eq, value = item.partition("=")
        if not eq or not name.strip():
            problems.append(Problem("--set", None, item, "expected NAME=VALUE"))
        else:
            out[name.strip()] = value
    if problems:
        raise InputError(problems)
    return out


def _signer(inventory_path: Path, cli_value: Path | None):
    """The sealing key, loaded before anything runs: a bad key is bad input (exit 2)."""
    from orchestrator.integrity import signing

    path = signing.key_path_for(inventory_path, cli_value)
    field = "--signing-key" if cli_value is not None else "drill.signing.key"
    return signing.load_signer(path, field) if path is not None else None


signing_key_option = click.option(
    "--signing-key", type=click.Path(dir_okay=False, path_type=Path), envvar="DRILL_SIGNING_KEY",
    default=None, show_envvar=True,
    help="Ed25519 private key (OpenSSH or PEM) that signs the run's final digest and its "
         "archive index entry. Default: the inventory's drill.signing.key; none: unsigned.")


def _say(message: str) -> None:
    click.echo(message, err=True)


def _ask():
    if not sys.stdin.isatty():
        return None
    return lambda question: click.prompt(question, default="", show_default=False, err=True)


def _outcome_json(outcome) -> dict:
    return {"run_id": outcome.run_id, "run_dir": str(outcome.run_dir), "status": outcome.status,
            "exit_code": outcome.exit_code, "summary": outcome.summary,
            "abort_reason": outcome.abort_reason, "steady_after": outcome.steady_after_ok,
            "cutover_s": outcome.cutover_s,
            "measurements": [m.to_record() for m in outcome.measurements],
            "objective_states": state_counts(o.verdict for o in outcome.objectives),
            "objectives": [{"name": o.name, "target": o.target, "measured": o.measured,
                            "passed": o.passed, "state": o.verdict, "detail": o.detail}
                           for o in outcome.objectives]}


@click.command("run")
@click.argument("drill_id", metavar="ID")
@inventory_option
@project_option
@reports_option
@json_option
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE",
              help="Set a drill parameter (repeatable), e.g. --set carrier=CU.")
@click.option("--yes", is_flag=True, help="Acknowledge manual steps unattended (needs --operator "
              "outside the lab). Never confirms a production environment.")
@click.option("--operator", help="Who runs the drill (recorded; default: the OS user).")
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), help="Also write JUnit XML here.")
@click.option("--ticket", help="Change ticket number (recorded).")
@click.option("--approver", help="Who approved the change (recorded).")
@click.option("--confirm-environment", metavar="NAME",
              help="Confirm a non-lab environment by typing its exact name.")
@click.option("--standing-approval", metavar="CHANGE",
              help="Run under the standing approval with this change reference in the "
                   "inventory (scheduled runs, docs/compliance.md): it confirms the environment "
                   "and answers manual steps that only record a reference; refused (exit 4) when "
                   "it is missing, expired, does not cover the drill, or a step needs a live "
                   "confirmation. Never with --yes.")
@click.option("--override-window", metavar="REASON",
              help="Run production outside its change windows; the reason is recorded.")
@click.option("--flow-checks", is_flag=True,
              help="Check market data and CCNET flows even outside the inventory's service "
                   "hours (an exchange-organised weekend test that sends data; "
                   "docs/steady-state.md).")
@click.option("--rehearsal", is_flag=True,
              help="Mark the run as a rehearsal (journaled in run.start): never evidence for "
                   "filing; due, history, summary and coverage show it only with --include-test.")
@lang_option
@click.option("--quiet", "-q", is_flag=True,
              help="Print only the verdict line (schedules): no live progress, no table.")
@signing_key_option
def run(drill_id, inventory, project, reports, as_json, sets, yes, operator, junit, ticket,
        approver, confirm_environment, standing_approval, override_window, flow_checks, rehearsal, lang,
        quiet, signing_key):
    """Run a drill end to end: gate, fault, measure, restore, check, report.

    While it runs, each step, each playbook task and host, and every wait (what it waits
    for, who is still missing) are printed on stderr; the last line on stdout is the
    verdict line, the report's first line.

    Example:  drill run carrier-outage --set carrier=CU
    """
    from orchestrator.config.project import drill_home, find_project
    from orchestrator.engine.options import RunOptions
    from orchestrator.engine.prepare import run_drill
    from orchestrator.engine.progress import Console

    proj = find_project(project)
    inv_path = proj.inventory_path(inventory)
    lang = resolve_lang(lang, inv_path)
    signer = _signer(inv_path, signing_key)
    live = not as_json and not quiet
    opts = RunOptions(reports_dir=reports or proj.reports_dir, drill_home=drill_home(),
                      project_root=proj.root, overrides=_overrides(sets), operator=operator,
                      yes=yes, ticket=ticket, approver=approver,
                      confirm_environment=confirm_environment, override_window=override_window,
                      standing_approval=standing_approval,
                      lang=lang, ask=_ask(), progress=live, signer=signer,
                      flow_checks=flow_checks, rehearsal=rehearsal)
    with log_lines(lang), in_language(lang):
        outcome = run_drill(drill_id, inv_path, opts, say=_say, announce=live,
                            handlers=(Console(lang),) if live else ())
    if junit:
        from orchestrator.errors import DrillError
        from orchestrator.integrity.renders import record_render
        from orchestrator.reports import write_junit

        try:
            write_junit(outcome.run_dir, junit)
        except Exception as e:  # the run is over and sealed; the JUnit file is extra
            click.echo(f"warning: JUnit not written: {e}", err=True)
        else:
            try:  # a later render: bound by the run's renders.jsonl, not the journal
                record_render(outcome.run_dir, junit, "junit", lang, signer=signer)
            except DrillError as e:
                click.echo(f"warning: {e}", err=True)
    if as_json:
        click.echo(json.dumps(_outcome_json(outcome), ensure_ascii=False, indent=2))
    elif quiet:
        click.echo(run_verdict(outcome, lang))
    else:
        click.echo(result_text(outcome, lang))
        if outcome.lab_started:
            click.echo(label(lang, "console_lab_stays_up"), err=True)
        # the verdict line is the last line on the terminal (and the first of the report)
        click.echo(run_verdict(outcome, lang))
    raise click.exceptions.Exit(outcome.exit_code)


@click.command("plan")
@click.argument("drill_id", metavar="ID")
@inventory_option
@project_option
@json_option
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help="Set a drill parameter.")
@click.option("--check/--no-check", "ansible_check", default=True, show_default=True,
              help="Run each playbook step with ansible-playbook --check.")
@lang_option
def plan(drill_id, inventory, project, as_json, sets, ansible_check, lang):
    """Show a drill's resolved steps as they would run (Ansible check mode where it means something).

    Example:  drill plan single-line --set line=cu-nf
    """
    from orchestrator.config.project import drill_home, find_project
    from orchestrator.engine.plan import plan as make_plan

    proj = find_project(project)
    inv_path = proj.inventory_path(inventory)
    # --lang, else the inventory's language as the plan reads it (one load), else the locale
    shown = make_plan(proj.root, drill_id, inv_path, _overrides(sets), drill_home(),
                      ansible_check=ansible_check, lang=lang or None, fallback_lang=resolve_lang(None))
    lang = shown.lang
    if as_json:
        click.echo(json.dumps(shown.to_record(), ensure_ascii=False, indent=2))
        return
    click.echo(plan_text(shown, lang))
    for w in shown.warnings:
        click.echo(plan_warning(w, lang), err=True)


@click.command("recover")
@inventory_option
@project_option
@click.option("--reports", "reports", multiple=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Also look for unfinished runs in this archive (repeatable).")
@signing_key_option
@lang_option
def recover(inventory, project, reports, signing_key, lang):
    """Finish runs that died (SIGKILL, power loss): restore, check, close as aborted.

    Restore changes on manual-driver lines, centres or gateways are asked at the terminal
    (as `drill run` asks them); without a terminal such a run is refused (exit 4) and left
    unfinished.

    Example:  drill recover --inventory lab
    """
    from orchestrator.config.project import drill_home, find_project
    from orchestrator.engine.recover import recover_environment

    proj = find_project(project)
    inv_path = proj.inventory_path(inventory)
    signer = _signer(inv_path, signing_key)
    from orchestrator.cli._console import label
    from orchestrator.model.i18n_admin import recover_text

    lang = resolve_lang(lang, inv_path)
    env, done = recover_environment(inv_path, drill_home(), reports_dirs=(*reports, proj.reports_dir),
                                    say=lambda m: click.echo(recover_text(lang, m), err=True),
                                    signer=signer, ask=_ask())
    if not done:
        click.echo(label(lang, "recover_nothing", env=env))
        return
    bad = False
    for r in done:
        said = [recover_text(lang, a) for a in r.actions]
        click.echo(label(lang, "recover_done", run=r.run_id, actions=("；" if lang == "zh" else "; ").join(said)))
        bad = bad or r.steady_ok is False
    if bad:
        raise click.exceptions.Exit(1)


commands = [run, plan, recover]
