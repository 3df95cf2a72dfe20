"""Compliance commands: check, due, schedule, prune, summary, coverage (docs/compliance.md)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click

from orchestrator.cli._options import (
    archive_dir,
    inventory_option,
    inventory_path,
    json_option,
    lang_option,
    project_option,
    reports_option,
    resolve_lang,
)


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)


def _load_inventory(path: Path):
    from orchestrator.config.inventory import load_inventory

    return load_inventory(path)


include_test_option = click.option(
    "--include-test", is_flag=True,
    help="Also count lab, test-bed and rehearsal runs, each labelled \"test environment, not "
         "evidence for filing\" (default: production runs only).")


def _hidden_note(hidden: int, lang: str = "en") -> None:
    """On stderr: how many runs were left out as not evidence (docs/compliance.md)."""
    if hidden:
        from orchestrator.cli._console import label

        click.echo(label(lang, "test_runs_hidden", n=hidden), err=True)


@click.command("check")
@inventory_option
@project_option
@json_option
@click.option("--live/--static", "live", default=None,
              help="Also probe the running environment (default: on while the lab runs).")
@lang_option
def check(inventory: str, project: Path | None, as_json: bool, live: bool | None, lang: str) -> None:
    """Readiness check against the SSCC spec: one row per clause (R-…) with evidence.

    Exits 1 when a clause fails. Example:  drill check --inventory lab --static
    """
    from tabulate import tabulate

    from orchestrator.compliance.check import run_check
    from orchestrator.config.project import drill_home
    from orchestrator.errors import ObjectiveFailed

    inv_path = inventory_path(project, inventory)
    report = run_check(inv_path, drill_home(), live=live)
    lang = resolve_lang(lang or report.language)  # as run_check read the inventory: one load
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        rows = [(r.clause, _part(r.part, lang), r.status_in(lang), r.title(lang),
                 _wrap_zh(r.evidence_in(lang), 70) if lang == "zh" else r.evidence) for r in report.rows]
        from orchestrator.cli._console import label

        headers = [label(lang, f"check_col_{c}") for c in ("clause", "part", "status", "requirement",
                                                           "evidence")]
        widths = [None, None, None, 28, None if lang == "zh" else 70]  # zh: wrapped at its separators
        click.echo(tabulate(rows, headers=headers, maxcolwidths=widths))
    from orchestrator.cli._console import plan_warning

    for w in report.warnings:
        click.echo(plan_warning(w, lang), err=True)
    if not report.ok:
        from orchestrator.cli._console import label

        clauses = ", ".join(report.failed())
        if not as_json:
            click.echo("\n" + label(lang, "cc_failed", clauses=clauses), err=True)
        raise ObjectiveFailed(label(lang, "cc_readiness_failed", clauses=clauses))


def _wrap_zh(text: str, width: int) -> str:
    """Chinese evidence in lines of at most `width` columns, broken after a separator
    (、；，：or a space) so an id is never cut in two (textwrap breaks only at spaces)."""
    import unicodedata

    def cols(s: str) -> int:
        return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)

    lines, line = [], ""
    for token in re.findall(r"[^、；，： ]*[、；，： ]?", text):
        if line and cols(line + token) > width:
            lines.append(line.rstrip())
            line = ""
        line += token
    return "\n".join([*lines, line.rstrip()])


def _part(part: str, lang: str) -> str:
    """static | live, in zh 静态 | 实时 (the table's part column)."""
    from orchestrator.cli._console import label

    return label(lang, f"check_part_{part}")


@click.command("due")
@click.argument("drill_id", required=False)
@click.option("--pending", is_flag=True,
              help="Exit 0 only while the drill(s) have no pass in the current period "
              "(used by scheduled units), else 1. Outside production the environment's own "
              "lab or test runs count.")
@inventory_option
@project_option
@reports_option
@json_option
@include_test_option
@lang_option
def due(drill_id: str | None, pending: bool, inventory: str, project: Path | None,
        reports: Path | None, as_json: bool, include_test: bool, lang: str | None) -> None:
    """Each drill's last passing run, next due date, and whether it is overdue; per target
    (each carrier, centre or line a drill takes as parameter), whether it is done this
    period or DUE. Only production runs count unless --include-test.

    Exits 1 when any drill is overdue, so monitoring can alert. Example:  drill due --json
    """
    from tabulate import tabulate

    from orchestrator.archive.runs import counted, scan_runs
    from orchestrator.cli._console import label
    from orchestrator.compliance import cadence
    from orchestrator.compliance.coverage import target_values
    from orchestrator.config.project import drill_home, find_project
    from orchestrator.errors import InputError, ObjectiveFailed, Problem

    inv_path = inventory_path(project, inventory)
    inv = _load_inventory(inv_path)
    lang = resolve_lang(lang, inv_path)
    proj = find_project(project)
    drills = cadence.load_drill_cadences(proj.drills_dir)
    if drill_id is not None:
        drills = [d for d in drills if d.id == drill_id]
        if not drills:
            raise InputError(Problem(drill_id, None, "DRILL_ID", "no such drill in the project"))
    archive = archive_dir(project, reports, lang=lang)
    every = scan_runs(archive, environment=inv.environment.name, cache_dir=drill_home() / "cache")
    # A scheduled unit of a lab or test environment (--pending) is satisfied by that
    # environment's own runs; a production one only by evidence.
    runs = counted(every, include_test or (pending and inv.environment.kind != "production"))
    verdicts = cadence.due(drills, runs, timezone=inv.environment.timezone, now=_now(),
                           target_values=target_values(inv))
    _hidden_note(len(every) - len(runs), lang)
    if as_json:
        click.echo(json.dumps([v.to_json() for v in verdicts], ensure_ascii=False, indent=2))
    elif not pending:
        rows = [(v.drill.id, _cadence(v.drill.cadence, lang),
                 _run_ref(v.last_pass, lang) if v.last_pass else label(lang, "due_never"),
                 f"{v.last_pass_at:%Y-%m-%d %H:%M}" if v.last_pass_at else "-",
                 f"{v.due_by:%Y-%m-%d}", label(lang, f"due_status_{v.status}")) for v in verdicts]
        headers = [label(lang, f"due_col_{c}", tz=inv.environment.timezone)
                   for c in ("drill", "cadence", "last", "at", "due_by", "status")]
        click.echo(tabulate(rows, headers=headers))
        _print_targets(verdicts, lang)
    if pending:
        if not any(cadence.pending(v) for v in verdicts):
            raise ObjectiveFailed(label(lang, "due_nothing_pending", drills=("；" if lang == "zh" else ", ").join(
                label(lang, "due_passed_period", drill=v.drill.id,
                      run=v.last_pass.run_id if v.last_pass else "-") for v in verdicts)))
        return
    late = [v.drill.id for v in verdicts if v.overdue]
    late += _overdue_followups(archive, inv.environment.timezone, as_json, lang)
    if late:
        raise ObjectiveFailed(label(lang, "due_overdue", ids=("、" if lang == "zh" else ", ").join(late)))


def _cadence(cadence: str, lang: str) -> str:
    from orchestrator.model.i18n import LABELS

    texts = LABELS.get(f"cad_{cadence}")
    return texts[0] if texts and lang == "zh" else cadence


def _run_ref(run, lang: str = "en") -> str:
    from orchestrator.cli._console import label

    return run.run_id if run.evidence else f"{run.run_id} {label(lang, 'due_test_note')}"


def _print_targets(verdicts, lang: str = "en") -> None:
    """Per target: `DUE carrier-outage carrier=CU`, or DONE with the run that did it."""
    from orchestrator.cli._console import label

    lines = []
    for v in verdicts:
        for t in v.targets:
            kw = {"status": label(lang, f"due_status_{t.status}"), "drill": v.drill.id, "target": t.label}
            if t.last_pass is None:
                lines.append(label(lang, "due_target_none", **kw))
            else:
                lines.append(label(lang, "due_target_done" if t.status == "done" else "due_target_due", **kw,
                                   run=_run_ref(t.last_pass, lang), date=f"{t.last_pass_at:%Y-%m-%d}"))
    if lines:
        click.echo("\n" + label(lang, "due_targets") + "\n" + "\n".join(lines))


def _overdue_followups(archive: Path, timezone: str, as_json: bool, lang: str = "en") -> list[str]:
    """Open follow-ups (`drill review`) past their due date, printed as a table; their ids."""
    from zoneinfo import ZoneInfo

    from tabulate import tabulate

    from orchestrator.journal.reviews import archive_reviews
    from orchestrator.model.review import follow_ups, overdue

    today = _now().astimezone(ZoneInfo(timezone)).date().isoformat()
    late = overdue(follow_ups(archive_reviews(archive)), today)
    if late and not as_json:
        from orchestrator.cli._console import label

        click.echo("\n" + label(lang, "due_followups"))
        click.echo(tabulate([(f.item.id, f.item.action, f.item.owner, f.item.due) for f in late],
                            headers=[label(lang, f"due_col_{c}")
                                     for c in ("followup", "action", "owner", "fu_due")]))
    return [f.item.id for f in late]


@click.command("schedule")
@click.option("--emit", type=click.Choice(["systemd", "cron"]), required=True)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write the units here (default: print them).")
@inventory_option
@project_option
@lang_option
def schedule(emit: str, out: Path | None, inventory: str, project: Path | None, lang: str | None) -> None:
    """Timer units or cron lines that run due drills unattended, inside change windows.

    No unit acknowledges a manual step with --yes or confirms production by name: a
    production drill runs only under a standing approval recorded in the inventory, a drill
    with a step that needs a live confirmation is left out, and line, carrier and centre
    parameters rotate across the drill's periods. What is left out, and why, goes to stderr.

    Example:  drill schedule --emit systemd --out /etc/systemd/system
    """
    from orchestrator.compliance.schedule import (
        ScheduleSpec,
        drill_executable,
        plan_schedule,
        schedule_files,
        write_files,
    )
    from orchestrator.config.project import find_project
    from orchestrator.config.scenario import load_drills

    inv_path = inventory_path(project, inventory).resolve()
    inv = _load_inventory(inv_path)
    lang = resolve_lang(lang, inv_path)
    proj = find_project(project)
    today = _now().astimezone(_zone(inv.environment.timezone)).date()
    plan = plan_schedule(inv, load_drills(proj.drills_dir), today)
    spec = ScheduleSpec(inventory=inv, inventory_arg=str(inv_path), project=proj.root,
                        drill_exe=drill_executable())
    files = schedule_files(emit, spec, plan) if plan.scheduled else []
    from orchestrator.cli._console import label

    for item in plan.scheduled:
        how = label(lang, "sched_under_approval", change=item.approval.change) if item.approval else ""
        click.echo(label(lang, "sched_scheduled", item=item.describe(lang), how=how), err=True)
    for lo in plan.left_out:
        click.echo(label(lang, "sched_left_out", drill=lo.drill, reason=lo.said.text(lang)), err=True)
    for note in plan.notes:
        click.echo(label(lang, "sched_note", note=note.text(lang)), err=True)
    if out is not None:
        for path in write_files(files, out):
            click.echo(str(path))
    elif emit == "cron" and files:
        click.echo(files[0].text, nl=False)
    else:
        for u in files:
            click.echo(f"# {u.name}\n{u.text}")


def _zone(name: str):
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(d|w|y)\s*$")
_UNIT_DAYS = {"d": 1, "w": 7, "y": 365}


def _duration(value: str):
    from datetime import timedelta

    from orchestrator.errors import InputError, Problem

    m = _DURATION.match(value)
    if not m:
        raise InputError(Problem(value, None, "--older-than",
                                 "expected a duration in days, weeks or years, e.g. 400d, 60w, 2y"))
    return timedelta(days=float(m.group(1)) * _UNIT_DAYS[m.group(2)])


@click.command("prune")
@click.option("--older-than", "older_than", required=True,
              help="Delete finished runs older than this (e.g. 400d, 2y); never under one year.")
@click.option("--dry-run", is_flag=True, help="List what would go; delete nothing.")
@inventory_option
@project_option
@reports_option
@json_option
@lang_option
def prune(older_than: str, dry_run: bool, inventory: str, project: Path | None,
          reports: Path | None, as_json: bool, lang: str | None) -> None:
    """Delete archived runs past retention; anything under one year is always kept.

    This is drill's own archive; R-SEC-2 (the hosts' logs) is `drill check --live`.

    Ages come from each run's journal. Deletions are logged in reports/prune.log.
    Example:  drill prune --older-than 2y --dry-run
    """
    from datetime import UTC

    from orchestrator.cli._console import label
    from orchestrator.compliance.retention import prune as do_prune
    from orchestrator.journal.chain import iso_ns

    inv_path = inventory_path(project, inventory)
    inv = _load_inventory(inv_path)
    lang = resolve_lang(lang, inv_path)
    result = do_prune(archive_dir(project, reports, lang=lang), _duration(older_than),
                      inv.retention_days, now=_now(), dry_run=dry_run)
    if as_json:
        click.echo(json.dumps({"cutoff": result.cutoff.isoformat(), "dry_run": dry_run,
                               "runs": [{"run": d.run.run_id, "delete": d.delete, "reason": d.reason}
                                        for d in result.decisions]}, indent=2))
        return
    verb = label(lang, "prune_would_delete" if dry_run else "prune_deleted")
    cut = f"{result.cutoff.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"
    for d in result.deleted:  # the decision's reason, said in `lang`
        click.echo(label(lang, "prune_line", verb=verb, run=d.run.run_id,
                         started=iso_ns(d.run.started_ns), cutoff=cut))
    kept = len(result.decisions) - len(result.deleted)
    click.echo(label(lang, "prune_total", n=len(result.deleted), verb=verb, kept=kept,
                     cutoff=f"{result.cutoff:%Y-%m-%d}"))


@click.command("summary")
@click.option("--year", type=int, required=True, help="Calendar year in the inventory's time zone.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="The filing to the local CSRC office is Chinese (zh); en for reading.")
@click.option("--format", "fmt", type=click.Choice(["md", "html", "pdf"]), default="md",
              show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write here (default: md/html to stdout, pdf to reports/<year>/).")
@inventory_option
@project_option
@reports_option
@include_test_option
def summary(year: int, lang: str, fmt: str, out: Path | None, inventory: str,
            project: Path | None, reports: Path | None, include_test: bool) -> None:
    """The year's drills for the yearly filing with the local CSRC office (年度演练情况报告).

    Date, result, RTO against target and follow-ups per run, coverage per quarter. Only
    production runs are filed; --include-test lists the others, each labelled.
    Example:  drill summary --year 2026 --lang zh --format pdf --inventory prod
    """
    import sys

    from orchestrator.compliance import cadence
    from orchestrator.compliance import summary as yearly
    from orchestrator.config.project import find_project
    from orchestrator.errors import InputError

    inv = _load_inventory(inventory_path(project, inventory))
    try:
        drills = cadence.load_drill_cadences(find_project(project).drills_dir)
    except InputError:
        drills = []  # a broken drill file must not block the filing; runs still list
    archive = archive_dir(project, reports, lang=lang)
    data = yearly.build(archive, year, environment=inv.environment.name,
                        timezone=inv.environment.timezone, lang=lang, drills=drills, now=_now(),
                        include_test=include_test)
    _hidden_note(data.hidden_test, lang)
    body = yearly.render(data, fmt)
    if out is None and fmt == "pdf":
        out = archive / f"{year:04d}" / f"summary-{year:04d}-{inv.environment.name}-{lang}.pdf"
    if out is None:
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(body)
    click.echo(str(out))


@click.command("coverage")
@click.option("--year", type=int, required=True, help="Calendar year in the inventory's time zone.")
@inventory_option
@project_option
@reports_option
@json_option
@lang_option
@include_test_option
def coverage(year: int, inventory: str, project: Path | None, reports: Path | None,
             as_json: bool, lang: str, include_test: bool) -> None:
    """Per quarter, which lines, carriers, centres and gateways each drill measured; gaps marked.

    A target is covered when a run measured it (passed or failed); only a pass counts as
    the quarter's drill, so a begun quarter without one is a gap. Only production runs
    count unless --include-test (then labelled). Exits 0; `drill due` is the alerting one.
    Example:  drill coverage --year 2026 --lang zh
    """
    from orchestrator.compliance import coverage as cov
    from orchestrator.config.project import drill_home

    inv_path = inventory_path(project, inventory)
    lang = resolve_lang(lang, inv_path)
    inv = _load_inventory(inv_path)
    report = cov.build(archive_dir(project, reports, lang=lang), year, targets=cov.inventory_targets(inv),
                       environment=inv.environment.name, timezone=inv.environment.timezone,
                       now=_now(), include_test=include_test, cache_dir=drill_home() / "cache")
    _hidden_note(report.hidden_test, lang)
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(cov.render_text(report, lang))


commands = [check, due, schedule, prune, summary, coverage]
