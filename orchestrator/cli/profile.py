"""`drill profile check PROFILE LOGFILE`: replay a gateway log through its profile
(docs/profiles.md)."""

from __future__ import annotations

from pathlib import Path

import click

from orchestrator.cli._options import json_option, lang_option, resolve_lang


@click.group("profile")
def profile() -> None:
    """Gateway profiles: how drill reads a vendor gateway's own log (docs/profiles.md)."""


@profile.command("check")
@click.argument("profile_file", metavar="PROFILE", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("logfile", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--clock-offset-ms", type=float, default=0.0, show_default=True,
              help="The log host's clock minus the true time, subtracted from every line's time.")
@json_option
@lang_option
def check(profile_file: Path, logfile: Path, clock_offset_ms: float, as_json: bool,
          lang: str | None) -> None:
    """Replay LOGFILE through PROFILE and print the events it yields, one a line.

    A malformed profile prints every problem as file:line: field: expected (exit 2). Use it
    to write a profile from yesterday's log: every login, link loss and recovery of the
    day should appear, each with the gateway id the log declares.

    Example: drill profile check profiles/lab-gateway.yaml /var/log/gw/gateway.log
    """
    import json

    from orchestrator.config.profile import load_profile
    from orchestrator.errors import InputError, Problem
    from orchestrator.journal.chain import iso_ns
    from orchestrator.probes.gateway_log import ClockCorrection, replay

    prof = load_profile(profile_file)
    try:
        raw = logfile.read_bytes()
    except OSError as e:
        raise InputError(Problem(str(logfile), None, "LOGFILE", f"cannot read: {e.strerror}")) from None
    events = replay(prof, raw, ClockCorrection(int(clock_offset_ms * 1e6), 0))
    if as_json:
        for e in events:
            click.echo(json.dumps({"line": e.lineno, "time": iso_ns(e.ts_ns), "ts_ns": e.ts_ns,
                                   "uncertainty_ms": e.uncertainty_ms, "gateway": e.gateway,
                                   "event": e.name, "type": e.type, "data": dict(e.data)},
                                  ensure_ascii=False, separators=(",", ":")))
        return
    from orchestrator.cli._console import label

    lang = resolve_lang(lang)
    col = {k: label(lang, f"prof_col_{k}") for k in ("line", "time", "gateway", "event", "type", "data")}
    click.echo(f"{col['line']:>6}  {col['time']:<30}  {col['gateway']:<12}  {col['event']:<14}  "
               f"{col['type']:<13}  {col['data']}")
    for e in events:
        data = " ".join(f"{k}={v}" for k, v in e.data.items() if v is not None)
        click.echo(f"{e.lineno:>6}  {iso_ns(e.ts_ns):<30}  {e.gateway or '?':<12}  {e.name:<14}  "
                   f"{e.type:<13}  {data}")
    ids = sorted({e.gateway for e in events if e.gateway})
    click.echo(label(lang, "prof_total", n=len(events), file=logfile, encoding=prof.encoding,
                     zone=prof.timestamp.zone, ids=", ".join(ids) or label(lang, "prof_no_ids")))


commands = [profile]
