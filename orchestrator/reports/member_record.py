"""The member drill record (会员单位演练记录表) an organised drill returns to its organiser
(SSCC, NEEQ or BSE; docs/reports.md, "Member drill record").

Its shape follows docs/spec.md ("Public facts around the spec"): the line table (site,
primary/backup, line id, host address) and, for every switch, the time the link was
lost, the time it was restored and the time trading login was restored. Every time is
taken as the journal holds it, never recomputed: link lost is the trading gateway's
`measure` record's `link_lost`; link restored is the `fault.effective` of the restore step
that brought the line back (the first restore effect after the loss, as every report
shows it); trading login restored is the `measure` record's `restored`. A failback row
has no link restored of its own: the line was back before the gateway returned.

Two tables, one CSV each (UTF-8 with BOM, Chinese headers: the exchange's shape, ISO-8601
times with zone at the millisecond, truncated), and the same rows in the HTML and Markdown
report (`context`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from orchestrator.model.i18n import Locale, locale
from orchestrator.reports.model import MeasureView, RunView, Stamp

LINES_CSV = "member-record-lines.csv"
SWITCHES_CSV = "member-record-switches.csv"
TIME_COLUMNS = (5, 6, 7)  # link lost, link restored, trading login restored (ISO-8601: data)


@dataclass(frozen=True)
class LineRow:
    site: str  # centre id
    role: str  # primary | backup
    line_id: str
    carrier: str  # carrier id
    host_address: str  # the firm's end of the line
    remote_address: str  # SSCC's end


@dataclass(frozen=True)
class SwitchRow:
    no: int
    gateway: str
    phase: str  # failover | failback
    centre_before: str
    centre_after: str
    lines: tuple[str, ...]  # the lines whose loss started this switch (failover)
    link_lost: Stamp | None
    link_restored: Stamp | None
    login_restored: Stamp | None
    interruption_s: float | None


@dataclass(frozen=True)
class MemberRecord:
    organiser: str  # SSCC | NEEQ | BSE
    notice: str
    lines: tuple[LineRow, ...]
    switches: tuple[SwitchRow, ...]


def member_record(run: RunView) -> MemberRecord | None:
    """The record of an organised drill's run; None for the firm's own drills."""
    if not run.drill.organiser:
        return None
    topo = run.topology
    lines = tuple(LineRow(ln.centre, ln.role, ln.id, ln.carrier, ln.local_address, ln.remote_address)
                  for ln in topo.lines)
    trading = [m for m in run.measures if m.service == "trading" and m.affected]
    trading.sort(key=lambda m: (m.link_lost.ns if m.link_lost else 0, m.phase, m.gateway))
    switches = tuple(_switch(i, m, run) for i, m in enumerate(trading, start=1))
    return MemberRecord(run.drill.organiser, str(run.params.get("notice", "")), lines, switches)


def _switch(no: int, m: MeasureView, run: RunView) -> SwitchRow:
    failover = m.phase == "failover"
    cut = ()
    if failover and m.link_lost is not None:
        cut = tuple(ln for f in run.faults if not f.restores and f.at is not None
                    and f.at.ns == m.link_lost.ns for ln in _lines_down(f.effect))
    return SwitchRow(no, m.gateway, m.phase, m.centre_before, m.centre_after, cut, m.link_lost,
                     m.link_restored if failover else None, m.restored, m.interruption_s)


def _lines_down(effect: str) -> list[str]:
    """`lines_down=ct-ft,cu-nf, mode=blackhole` (reports.build) → the line ids."""
    for part in effect.split(", "):
        key, _, value = part.partition("=")
        if key.strip() == "lines_down":
            return [v for v in value.split(",") if v]
    return []


def iso_ms(stamp: Stamp | None, tz_name: str) -> str:
    """ISO-8601 with the zone's offset, truncated to the millisecond; "" for none."""
    if stamp is None:
        return ""
    loc = locale("en", tz_name)
    dt = datetime.fromtimestamp(stamp.ns // 1_000_000_000, loc.tz)
    offset = dt.strftime("%z")
    return (f"{dt:%Y-%m-%dT%H:%M:%S}.{(stamp.ns // 1_000_000) % 1000:03d}"
            f"{offset[:3]}:{offset[3:]}")


def line_header(loc: Locale) -> list[str]:
    return [loc("site"), loc("primary_backup"), loc("line_id"), loc("carrier"),
            loc("host_address"), loc("remote_address")]


def line_cells(row: LineRow, run: RunView, loc: Locale) -> list[str]:
    topo = run.topology
    return [topo.centre_name(row.site, loc.lang), loc(row.role), row.line_id,
            topo.carrier_name(row.carrier, loc.lang), row.host_address, row.remote_address]


def switch_header(loc: Locale) -> list[str]:
    return [loc("switch_no"), loc("trading_gateway"), loc("switch"), loc("centre_move"),
            loc("lines_cut"), loc("link_lost"), loc("link_restored"),
            loc("trading_login_restored"), f"{loc('interruption')}（{loc('seconds_unit')}）"
            if loc.lang == "zh" else f"{loc('interruption')} (s)"]


def switch_cells(row: SwitchRow, run: RunView, loc: Locale) -> list[str]:
    def centre(cid: str) -> str:
        return run.topology.centre_name(cid, loc.lang) if cid else "—"

    return [str(row.no), row.gateway, loc.opt("sw", row.phase),
            f"{centre(row.centre_before)}→{centre(row.centre_after)}",
            "、".join(row.lines) if loc.lang == "zh" else ", ".join(row.lines),
            iso_ms(row.link_lost, run.timezone), iso_ms(row.link_restored, run.timezone),
            iso_ms(row.login_restored, run.timezone),
            "" if row.interruption_s is None else f"{row.interruption_s:.3f}"]


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8-sig")  # BOM: spreadsheets then read the Chinese right


def csv_files(run: RunView) -> dict[str, bytes]:
    """{file name: bytes} of the record's two tables; {} for a drill that is not organised.
    Chinese headers whatever the report's language: the exchange's shape."""
    rec = member_record(run)
    if rec is None:
        return {}
    loc = locale("zh", run.timezone)
    return {
        LINES_CSV: _csv(line_header(loc), [line_cells(r, run, loc) for r in rec.lines]),
        SWITCHES_CSV: _csv(switch_header(loc), [switch_cells(r, run, loc) for r in rec.switches]),
    }


def context(run: RunView, loc: Locale) -> dict[str, Any]:
    """What the HTML and Markdown templates show of the record (nothing when not organised)."""
    rec = member_record(run)
    if rec is None:
        return {"member": None}
    return {"member": {
        "organiser": loc.opt("org", rec.organiser), "notice": rec.notice,
        "line_header": line_header(loc),
        "lines": [line_cells(r, run, loc) for r in rec.lines],
        "switch_header": switch_header(loc),
        "switches": [switch_cells(r, run, loc) for r in rec.switches],
        "files": [LINES_CSV, SWITCHES_CSV],
        "time_columns": TIME_COLUMNS,
    }}
