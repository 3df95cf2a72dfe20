"""`drill verify RUN` and `drill verify --all`: tamper evidence (docs/integrity.md)."""

from __future__ import annotations

from pathlib import Path

import click

from orchestrator.cli._options import archive_dir, project_option, reports_option


@click.command("verify")
@click.argument("run", required=False)
@click.option("--all", "check_all", is_flag=True,
              help="Walk the archive index: every run, deleted runs, runs missing from it.")
@click.option("--key", "keys", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Trusted public key (.pub, or the private key). Repeatable. Without it, a "
                   "signature is checked against the keys kept in the archive's keys/ folder.")
@click.option("--require-signature", is_flag=True, help="Fail a run that has no journal.sig.")
@click.option("--head", default=None, metavar="HASH",
              help="With --all: an archive index head kept from an earlier verify; it must "
                   "still be in the index.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON line per run.")
@reports_option
@project_option
@click.option("--lang", type=click.Choice(["zh", "en"]), default=None,
              help="Language of the OK/note lines. Default: a run's own language (its journal), "
                   "with --all the locale's. Findings (FAIL) stay as the verifier words them.")
def verify(run: str | None, check_all: bool, keys: tuple[Path, ...], require_signature: bool,
           head: str | None, as_json: bool, reports: Path | None, project: Path | None,
           lang: str | None) -> None:
    """Check a run's journal chain, report and evidence hashes, signature and archive index.

    RUN is a run id (looked up in the archive) or a run folder. Exit 0 when everything
    verifies, 1 naming the first bad record or file.
    """
    from orchestrator.cli._options import report_lang, resolve_lang
    from orchestrator.errors import InputError, ObjectiveFailed, Problem
    from orchestrator.integrity import signing
    from orchestrator.integrity import verify as integrity

    if check_all == bool(run):
        raise InputError(Problem("", None, "RUN", "expected a run id or folder, or --all"))
    trust = integrity.Trust(keys=frozenset(signing.load_public_key(k).fingerprint for k in keys),
                            require_signature=require_signature)
    if check_all:
        reports_dir = archive_dir(project, reports)
        if not reports_dir.is_dir():
            raise InputError(Problem(str(reports_dir), None, "--reports", "no such archive folder"))
        verdict = integrity.verify_archive(reports_dir, trust, head)
        for f in verdict.findings:
            click.echo(f"FAIL {f}")
        for rv in verdict.runs:
            _show(rv, as_json, resolve_lang(lang))
        if verdict.head:
            click.echo(f"archive index head: {verdict.head}  (keep it outside the archive)")
        if not verdict.ok:
            first = verdict.findings[0] if verdict.findings else next(
                r.findings[0] for r in verdict.runs if not r.ok)
            raise ObjectiveFailed(f"archive does not verify: {first}")
        click.echo(f"OK: {len(verdict.runs)} runs verify")
        return
    run_dir, reports_dir = _locate(run, reports, project)
    verdict = integrity.verify_run(run_dir, reports_dir, trust)
    _show(verdict, as_json, report_lang(lang, run_dir))
    if not verdict.ok:
        raise ObjectiveFailed(f"{verdict.run} does not verify: {verdict.findings[0]}")


def _show(verdict, as_json: bool, lang: str = "en") -> None:
    from orchestrator.cli._console import label
    from orchestrator.integrity import verify as integrity
    from orchestrator.model.i18n_terminal import reason_text

    if as_json:
        click.echo(integrity.summary_json(verdict))
        return
    for f in verdict.findings:
        click.echo(f"FAIL {f}")
    for note in verdict.notes:
        click.echo(label(lang, "verify_note", run=verdict.run, note=reason_text(lang, note)))
    if verdict.ok:
        signed = label(lang, "verify_signed", fingerprint=verdict.signed_by[:16]) if verdict.signed_by else ""
        click.echo(label(lang, "verify_ok", run=verdict.run, digest=verdict.final_digest) + signed)


def _locate(run: str, reports: Path | None, project: Path | None) -> tuple[Path, Path]:
    from orchestrator.errors import InputError, Problem

    given = Path(run)
    if (given / "journal.jsonl").is_file() or (given.is_dir() and given.parent.name.isdigit()):
        # A run folder sits at <archive>/<year>/<run id>/.
        return given, reports if reports is not None else given.resolve().parent.parent
    reports_dir = archive_dir(project, reports)
    matches = sorted(reports_dir.glob(f"*/{run}")) if "/" not in run else []
    if len(matches) == 1:
        return matches[0], reports_dir
    raise InputError(Problem(run, None, "RUN",
                             f"no such run folder, and no run with this id in {reports_dir}"))


commands = [verify]
