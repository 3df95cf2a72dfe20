"""The report as files for other tools (docs/reports.md "Formats"): one CSV per table, UTF-8
with a BOM (spreadsheets then read CJK right), a header row and nothing else, times as
ISO-8601 with the inventory's zone (2026-12-05T15:40:30.271+08:00), numbers with a dot and
no grouping. Every row carries the run id, so tables of many runs can be joined.

    <stem>-run.csv         the run's metadata, one `field,value` row each
    <stem>-lines.csv       the line table (exchange drill-record shape)
    <stem>-switches.csv    one row per gateway, service and switch (failover, failback),
                           on the failed path or not, predicted beside measured
    <stem>-objectives.csv  one row per objective
    <stem>-activity.csv    the activity log: one row per journal record

The Markdown report links `<stem>-activity.csv` rather than inlining the records.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from orchestrator.model.i18n import Locale
from orchestrator.reports.model import PREDICTION_FACTOR, PREDICTION_MARGIN_S, RunView, Stamp
from orchestrator.reports.sections import evaluation
from orchestrator.reports.wording import objective_label

TABLES = ("run", "lines", "switches", "objectives", "activity")
ACTIVITY = "activity"


def iso(ns: int | None, tz: str) -> str:
    """ISO-8601 with milliseconds and the zone's offset; "" for no time."""
    if ns is None:
        return ""
    zone = ZoneInfo(tz)
    at = datetime.fromtimestamp(ns // 1_000_000_000, zone)
    return at.replace(microsecond=(ns % 1_000_000_000) // 1000).isoformat(timespec="milliseconds")


def _iso(st: Stamp | None, tz: str) -> str:
    return iso(st.ns, tz) if st is not None else ""


def _num(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"{value:.3f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)
    return str(value)


def _csv(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8-sig")


def _yes(loc: Locale, value: bool) -> str:
    return loc("yes") if value else loc("no")


def run_table(run: RunView, loc: Locale) -> bytes:
    tz = run.timezone
    conclusion = evaluation(run, loc).conclusion
    rows = [
        (loc("run_id"), run.run_id),
        (loc("drill_id"), run.drill.id),
        (loc("drill_title"), run.drill.title.get(loc.lang)),
        (loc("environment"), f"{loc.opt('env', run.inventory.kind)} {run.inventory.environment}".strip()),
        (loc("status"), loc(f"status_{run.status}")),
        (loc("exit_code"), _num(run.exit_code)),
        (loc("conclusion"), loc(f"conc_{conclusion}") if conclusion else ""),
        (loc("start"), _iso(run.started, tz)),
        (loc("end"), _iso(run.ended, tz)),
        (loc("timezone"), tz),
        (loc("ticket"), run.ticket),
        (loc("role_approver"), run.approver),
        (loc("role_operator"), run.operator),
        (loc("plan_id"), run.plan.id),
        (loc("plan_version"), run.plan.version),
        (loc("journal_records"), str(run.records)),
        (loc("journal_digest"), run.digest),
        (loc("much_longer"), loc("prediction_rule", factor=f"{PREDICTION_FACTOR:g}",
                                 margin=f"{PREDICTION_MARGIN_S:g}")),
    ]
    return _csv([loc("field"), loc("value")], rows)


def lines_table(run: RunView, loc: Locale) -> bytes:
    topo = run.topology
    header = [loc("site"), loc("primary_backup"), loc("line_id"), loc("carrier"),
              loc("bandwidth"), loc("medium"), loc("local_address"),
              loc("remote_address"), loc("run_id")]
    rows = [[topo.centre_name(ln.centre, loc.lang), loc(ln.role), ln.id,
             topo.carrier_name(ln.carrier, loc.lang), _num(ln.mbps), loc.opt("medium", ln.medium),
             ln.local_address, ln.remote_address, run.run_id] for ln in topo.lines]
    return _csv(header, rows)


def switches_table(run: RunView, loc: Locale) -> bytes:
    tz, topo = run.timezone, run.topology
    unit = f" ({loc('seconds_unit')})"
    header = [loc("gateway"), loc("service"), loc("switch"), loc("on_failed_path"),
              loc("centre_move"), loc("link_lost"), loc("detected"), loc("link_restored"),
              loc("login_restored"), loc("interruption") + unit, loc("predicted_low"),
              loc("predicted_high"), loc("much_longer"), loc("target") + unit, loc("result"),
              loc("predicted_basis"), loc("source"), loc("run_id")]
    rows = []
    for m in run.measures:
        p = run.prediction_of(m)
        moved = "→".join(topo.centre_name(c, loc.lang) if c else "" for c in (m.centre_before, m.centre_after))
        rows.append([
            m.gateway, loc.opt("svc", m.service), loc.opt("sw", m.phase), _yes(loc, m.affected), moved,
            _iso(m.link_lost, tz), _iso(m.detected, tz), _iso(m.link_restored, tz),
            _iso(m.restored, tz), _num(m.interruption_s),
            _num(p.low_s) if p else "", _num(p.high_s) if p else "",
            _yes(loc, run.longer_than_predicted(m)) if p is not None and p.high_s is not None else "",
            _num(m.target_s), "" if m.passed is None else loc("pass") if m.passed else loc("fail"),
            p.basis.get(loc.lang) if p else "",
            "; ".join(loc.stamp(s) for s in (m.link_lost, m.link_restored, m.restored) if s),
            run.run_id])
    return _csv(header, rows)


def objectives_table(run: RunView, loc: Locale, detail_of: Callable[[Any], str]) -> bytes:
    header = [loc("objective"), loc("objective_id"), loc("target"), loc("measured"), loc("result"), loc("detail"),
              loc("run_id")]
    rows = [[objective_label(o.name, loc), o.name, _num(o.target), _num(o.measured),
             loc(f"state_{o.verdict}"), detail_of(o), run.run_id] for o in run.objectives]
    return _csv(header, rows)


def activity_table(run: RunView, loc: Locale) -> bytes:
    header = [loc("seq"), loc("time"), loc("record"), loc("summary"), loc("run_id")]
    rows = [[e.seq, iso(e.at_ns, run.timezone), e.kind, e.summary, run.run_id] for e in run.log]
    return _csv(header, rows)


def csv_tables(run: RunView, loc: Locale, detail_of: Callable[[Any], str]) -> dict[str, bytes]:
    """{table name: file bytes}, in TABLES order."""
    return {"run": run_table(run, loc), "lines": lines_table(run, loc),
            "switches": switches_table(run, loc),
            "objectives": objectives_table(run, loc, detail_of),
            "activity": activity_table(run, loc)}
