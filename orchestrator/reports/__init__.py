"""Auditor-facing drill reports, built from the run's journal alone (docs/reports.md).

The engine calls `write_run_reports` at the end of every run, whatever the outcome, then
binds the returned hashes in `run.end`.
"""

from __future__ import annotations

from pathlib import Path

from orchestrator.adapters.atomic import write_atomic
from orchestrator.reports.build import load_run
from orchestrator.reports.member_record import csv_files
from orchestrator.reports.model import RunView
from orchestrator.reports.render import FORMATS, render, render_files, to_junit

__all__ = ["FORMATS", "RunView", "load_run", "render_report", "render_report_files", "write_junit",
           "write_run_reports"]


def _write(path: Path, data: bytes) -> str:
    """Atomic, so a crash never leaves half a report."""
    return write_atomic(path, data)


def write_run_reports(run_dir: Path, *, lang: str = "en",
                      journal_digest: str | None = None) -> dict[str, str]:
    """Write report.html and report.json into the run folder (and an organised drill's
    member drill record: member-record-lines.csv, member-record-switches.csv);
    {relative path: sha256}.

    journal_digest: the hash of the last journal record written (Journal.digest); by
    default the last record in the file.
    """
    run_dir = Path(run_dir)
    run = load_run(run_dir, closing=True)
    digest = journal_digest or run.digest
    written = {name: _write(run_dir / name, render(run, fmt, lang, digest))
               for name, fmt in (("report.html", "html"), ("report.json", "json"))}
    # An organised drill's member drill record, one table per CSV (reports/member_record.py)
    written.update({name: _write(run_dir / name, data) for name, data in csv_files(run).items()})
    return written


def render_report(run_dir: Path, fmt: str, lang: str, out: Path | None = None) -> Path:
    """Render one format (html|pdf|md|json|csv) to out (default run_dir/report.<ext>); the
    main file written (render_report_files: every file)."""
    return render_report_files(run_dir, fmt, lang, out)[0]


def render_report_files(run_dir: Path, fmt: str, lang: str, out: Path | None = None) -> tuple[Path, ...]:
    """Render one format; every file written, the main one first. CSV writes one file per
    table beside `out` (`<stem>-<table>.csv`), Markdown `out` and the activity log it links
    (`<stem>-activity.csv`); see reports.render.render_files.

    The report.html and report.json the run wrote are sealed by run.end; a later render
    never overwrites them and goes to report.<lang>.<ext> instead.
    """
    run_dir = Path(run_dir)
    run = load_run(run_dir)
    target = Path(out) if out is not None else run_dir / f"report.{fmt}"
    if out is None and target.name in run.artifacts:
        target = run_dir / f"report.{lang}.{fmt}"
    stem = target.name[:-len(f".{fmt}")] if target.name.endswith(f".{fmt}") else target.name
    files = render_files(run, fmt, lang, stem)
    target.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for i, (name, data) in enumerate(files.items()):
        path = target if i == 0 and fmt != "csv" else target.parent / name
        _write(path, data)
        written.append(path)
    return tuple(written)


def write_junit(run_dir: Path, out: Path) -> Path:
    """JUnit XML for CI: one test case per check, step, measurement and objective."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    _write(out, to_junit(load_run(Path(run_dir), log=False, closing=True)))
    return out
