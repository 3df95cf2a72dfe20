"""`drill review`: record a finished run's evaluation, root cause, follow-ups and sign-offs
(docs/reports.md, "Review")."""

from __future__ import annotations

import re
from pathlib import Path

import click

from orchestrator.cli._options import archive_dir, lang_option, project_option, report_lang, reports_option

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CONCLUSIONS = {"met": "met", "达标": "met", "not-met": "not_met", "not_met": "not_met",
                "未达标": "not_met", "partly-untested": "partly_untested",
                "partly_untested": "partly_untested", "部分未测": "partly_untested"}


@click.command()
@click.argument("run_id")
@click.option("--conclusion", type=click.Choice(sorted(_CONCLUSIONS)), default=None,
              help="Evaluation conclusion (达标/未达标/部分未测). Default: mapped from the run's "
                   "verdict (passed → met, inconclusive → partly-untested, else not-met).")
@click.option("--reason", "reasons", multiple=True, help="A reason for the conclusion (repeatable).")
@click.option("--root-cause", default="", help="What went wrong and why (原因分析).")
@click.option("--followup", "followups", multiple=True, metavar="ACTION|OWNER|YYYY-MM-DD",
              help="A follow-up action with its owner and due date (repeatable).")
@click.option("--close", "closes", multiple=True, metavar="ID=HOW",
              help="Close an open follow-up of this or an earlier run, saying how (repeatable).")
@click.option("--signoff", "signoffs", multiple=True, metavar="ROLE=NAME",
              help="Sign off as lead, tech or compliance (repeatable); the time is now.")
@click.option("--commander", default="", help="演练总指挥 (default: the inventory's).")
@click.option("--network", multiple=True, help="网络组 member (repeatable).")
@click.option("--operations", multiple=True, help="运维组 member (repeatable).")
@click.option("--observer", "observers", multiple=True, help="观察员 (repeatable).")
@click.option("--by", "by", default=None, help="Who records the review. Default: the OS user.")
@click.option("--signing-key", type=click.Path(dir_okay=False, path_type=Path),
              envvar="DRILL_SIGNING_KEY", show_envvar=True, default=None,
              help="Ed25519 key that signs the review's record. Default: the run's inventory key.")
@reports_option
@project_option
@lang_option
def review(run_id: str, conclusion: str | None, reasons: tuple[str, ...], root_cause: str,
           followups: tuple[str, ...], closes: tuple[str, ...], signoffs: tuple[str, ...],
           commander: str, network: tuple[str, ...], operations: tuple[str, ...],
           observers: tuple[str, ...], by: str | None, signing_key: Path | None,
           reports: Path | None, project: Path | None, lang: str | None) -> None:
    """Record a finished run's review: evaluation conclusion, root cause, follow-up actions
    (owner, due date), closures of earlier follow-ups and sign-offs.

    The review is a file in the run folder bound to the run's signed renders chain; the
    journal never changes, `drill verify` checks the review's bytes, and every later render
    of the report shows it. Open follow-ups stay open across runs until a review closes
    them; `drill due` lists the overdue ones.

    Example: drill review 20261125T111500Z-carrier-outage-3f9a1c --root-cause "路由跟踪间隔过长"
    --followup "缩短路由跟踪探测间隔|李娜|2026-12-31" --signoff lead=张伟
    """
    import getpass
    import time

    from orchestrator.cli._console import label
    from orchestrator.errors import DrillError, InputError, Problem
    from orchestrator.integrity.renders import record_review
    from orchestrator.journal.chain import iso_ns
    from orchestrator.journal.reviews import archive_reviews
    from orchestrator.model.review import (
        CONCLUSION_OF_STATUS,
        SIGNOFF_ROLES,
        FollowUp,
        Organisation,
        Review,
        follow_ups,
    )
    from orchestrator.reports import load_run

    run_dir = _run_dir(run_id, project, reports)
    lang = report_lang(lang, run_dir)  # the run's language, as its report's
    view = load_run(run_dir, log=False)
    if not view.finished:
        raise InputError(Problem(str(run_dir), None, "RUN_ID", "expected a finished run (no run.end)"))
    problems: list[Problem] = []
    items: list[FollowUp] = []
    taken = sum(len(r.followups) for r in view.reviews)
    for text in followups:
        parts = [p.strip() for p in text.split("|")]
        if len(parts) != 3 or not all(parts) or not _DATE.match(parts[2]):
            problems.append(Problem("--followup", None, "followup",
                                    f"expected ACTION|OWNER|YYYY-MM-DD, got {text!r}"))
            continue
        items.append(FollowUp(f"{view.run_id}#{taken + len(items) + 1}", *parts))
    signs: list[tuple[str, str]] = []
    for text in signoffs:
        role, _, name = text.partition("=")
        if role not in SIGNOFF_ROLES or not name.strip():
            problems.append(Problem("--signoff", None, "signoff",
                                    f"expected ROLE=NAME with ROLE one of {', '.join(SIGNOFF_ROLES)}, got {text!r}"))
            continue
        signs.append((role, name.strip()))
    given_folder = (Path(run_id) / "journal.jsonl").is_file() and reports is None and project is None
    archive = run_dir.parent.parent if given_folder else archive_dir(project, reports, lang=lang)
    known = {f.item.id: f for f in follow_ups([*archive_reviews(archive), *view.reviews])}
    closing: list[tuple[str, str]] = []
    for text in closes:
        fid, _, how = text.partition("=")
        if not how.strip():
            problems.append(Problem("--close", None, "close", f"expected ID=HOW, got {text!r}"))
        elif fid not in known or not known[fid].open:
            what = "already closed" if fid in known else "no such follow-up in the archive"
            problems.append(Problem("--close", None, "close", f"expected an open follow-up id; {fid!r}: {what}"))
        else:
            closing.append((fid, how.strip()))
    if problems:
        raise InputError(problems)
    at = iso_ns(time.time_ns())
    raw = {"schema": "drill-review/1", "run": view.run_id, "at": at, "by": by or getpass.getuser(),
           "evaluation": {"conclusion": _CONCLUSIONS[conclusion] if conclusion
                          else CONCLUSION_OF_STATUS.get(view.status, "not_met"),
                          "reasons": list(reasons)},
           "root_cause": root_cause,
           "followups": [{"id": f.id, "action": f.action, "owner": f.owner, "due": f.due} for f in items],
           "closes": [{"id": i, "how": h} for i, h in closing],
           "signoffs": [{"role": r, "name": n, "at": at} for r, n in signs],
           "organisation": Organisation(commander, network, operations, observers).to_record()}
    entry = Review.from_record(raw)
    signer = None
    if signing_key is not None:
        from orchestrator.integrity.signing import load_signer

        signer = load_signer(signing_key)
    try:
        click.echo(str(run_dir / record_review(run_dir, entry, signer=signer).path))
    except DrillError as e:
        if "UNSIGNED" not in str(e):
            raise
        click.echo(label(lang, "review_warning", message=_unsigned(lang, str(e))), err=True)
    for f in items:
        click.echo(label(lang, "review_followup", id=f.id, action=f.action, owner=f.owner, due=f.due))


def _unsigned(lang: str, text: str) -> str:
    """renders.record_review's UNSIGNED warning in `lang` (its English as it is in en)."""
    from orchestrator.cli._console import label

    m = re.fullmatch(r"render (?P<path>\S+) recorded UNSIGNED: (?P<problem>.*)", text, re.S)
    return label(lang, "review_unsigned", **m.groupdict()) if m and lang == "zh" else text


def _run_dir(run_id: str, project: Path | None, reports: Path | None) -> Path:
    from orchestrator.archive.history import find_run
    from orchestrator.errors import InputError, Problem

    candidate = Path(run_id)
    if (candidate / "journal.jsonl").is_file():
        return candidate
    archive = archive_dir(project, reports, name_it=False)  # named by the command, in its language
    found = find_run(archive, run_id)
    if found is None:
        raise InputError(Problem(run_id, None, "RUN_ID",
                                 f"no such run; expected a run folder or a run id under {archive}"))
    return found


commands = [review]
