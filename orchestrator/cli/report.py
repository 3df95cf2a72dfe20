"""`drill report` and `drill history`: read the archive, never the live lab."""

from __future__ import annotations

from pathlib import Path

import click

from orchestrator.cli._options import (
    archive_dir,
    json_option,
    lang_option,
    project_option,
    report_lang,
    reports_option,
    resolve_lang,
)


@click.command()
@click.argument("run_id")
@click.option("--format", "fmt", type=click.Choice(["html", "pdf", "md", "json", "csv", "junit"]),
              default="html", show_default=True, help="Output format.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default=None,
              help="Report language. Default: the language the run ran in, else the locale's.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Output file. Default: report.<format> (junit.xml) in the run folder.")
@click.option("--signing-key", type=click.Path(dir_okay=False, path_type=Path),
              envvar="DRILL_SIGNING_KEY", show_envvar=True, default=None,
              help="Ed25519 key that signs the render's record in renders.jsonl. Default: the "
                   "run's inventory drill.signing.key; none: the record is unsigned.")
@reports_option
@project_option
def report(run_id: str, fmt: str, lang: str | None, out: Path | None, signing_key: Path | None,
           reports: Path | None, project: Path | None) -> None:
    """Render a run's report from its journal.

    RUN_ID is a run folder path or a run id in the archive (reports/<YYYY>/<run-id>).
    A render of a finished run is recorded in its renders.jsonl, so `drill verify` checks it.

    Example: drill report 20261125T111500Z-carrier-outage-3f9a1c --format pdf --lang zh
    """
    from orchestrator.archive.history import find_run
    from orchestrator.errors import DrillError, InputError, Problem
    from orchestrator.reports import render_report_files, write_junit

    candidate = Path(run_id)
    if (candidate / "journal.jsonl").is_file():
        run_dir = candidate
    else:
        archive = archive_dir(project, reports)
        found = find_run(archive, run_id)
        if found is None:
            raise InputError(Problem(run_id, None, "RUN_ID",
                                     f"no such run; expected a run folder or a run id under {archive}"))
        run_dir = found
    _refuse_sealed(run_dir, out)
    lang = report_lang(lang, run_dir)  # one language per run (issue 20), as `drill run` chose
    signer = None
    if signing_key is not None:
        from orchestrator.integrity.signing import load_signer

        signer = load_signer(signing_key)
    if fmt == "junit":
        written = (write_junit(run_dir, out if out is not None else run_dir / "junit.xml"),)
    else:  # CSV: one file per table; Markdown: the report and the activity log it links
        written = render_report_files(run_dir, fmt, lang, out)
    for path in written:
        click.echo(str(path))
    from orchestrator.integrity.renders import record_render

    warnings: list[str] = []
    for path in written:
        try:
            record_render(run_dir, path, fmt, lang, signer=signer)
        except DrillError as e:
            warnings.append(str(e))
    for w in warnings:
        click.echo(f"warning: {w}", err=True)


def _refuse_sealed(run_dir: Path, out: Path | None) -> None:
    """--out must not overwrite what the run sealed (journal, reports, evidence, artifacts)."""
    if out is None:
        return
    from orchestrator.errors import InputError, Problem

    try:
        rel = out.resolve().relative_to(run_dir.resolve())
    except ValueError:
        return
    sealed = ("journal.jsonl", "journal.sig", "renders.jsonl", "evidence", "ansible",
              "report.html", "report.json")
    if rel.parts and rel.parts[0] in sealed:
        raise InputError(Problem(str(out), None, "--out",
                                 "expected a new file; this one is sealed by the run's journal"))


@click.command()
@click.argument("drill_id", required=False)
@click.option("--last", type=click.IntRange(min=0), default=20, show_default=True,
              help="Show the newest N runs per drill (0: all). The trend covers the last 40.")
@json_option
@reports_option
@project_option
@click.option("--include-test", is_flag=True,
              help="Also list lab, test-bed and rehearsal runs, labelled \"test environment, not "
                   "evidence for filing\" (default: production runs only).")
@lang_option
def history(drill_id: str | None, last: int, as_json: bool, reports: Path | None,
            project: Path | None, include_test: bool, lang: str | None) -> None:
    """List past runs per drill, with the RTO trend across runs (production runs only
    unless --include-test).

    Example: drill history carrier-outage --include-test
    """
    import json
    from dataclasses import asdict

    from orchestrator.archive.history import history_table, scan
    from orchestrator.cli._console import label
    from orchestrator.config.project import drill_home

    lang = resolve_lang(lang)
    every = scan(archive_dir(project, reports, lang=lang), cache_dir=drill_home() / "cache")
    runs = [r for r in every if include_test or r.evidence]
    if len(runs) < len(every):
        click.echo(label(lang, "test_runs_hidden", n=len(every) - len(runs)), err=True)
    if drill_id:
        runs = [r for r in runs if r.drill == drill_id]
    if as_json:
        click.echo(json.dumps([asdict(r) for r in runs], ensure_ascii=False, indent=2))
        return
    click.echo(history_table(runs, last, lang))


commands = [report, history]
