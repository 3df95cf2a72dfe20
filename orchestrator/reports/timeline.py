"""The per-gateway timeline picture: inline SVG, one lane per gateway and service.

Lane states come from `probe.transition` records (up / down / degraded); where a lane has
none, from its `measure` (down from link lost to restored). Fault and restore effects are
drawn as marks across every lane.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from orchestrator.model.i18n import Locale
from orchestrator.reports.model import RunView

COLOURS = {"up": "#2e7d32", "down": "#c62828", "degraded": "#f9a825"}

LABEL_W = 190
PLOT_W = 620
LANE_H = 22
TOP = 34
BOTTOM = 40


@dataclass(frozen=True)
class Segment:
    start_ns: int
    end_ns: int
    state: str  # up | down | degraded


def lanes(run: RunView) -> list[tuple[str, str]]:
    """(gateway, service) pairs in a stable order: measured ones first, then the rest."""
    seen: dict[tuple[str, str], None] = {}
    for m in run.measures:
        seen.setdefault((m.gateway, m.service), None)
    for t in run.transitions:
        seen.setdefault((t.gateway, t.service), None)
    return list(seen)


def window(run: RunView) -> tuple[int, int]:
    """The part of the run worth drawing: from just before the fault to just after recovery."""
    points = [f.at.ns for f in run.faults if f.at]
    points += [t.at.ns for t in run.transitions if t.at]
    for m in run.measures:
        points += [s.ns for s in (m.link_lost, m.detected, m.restored, m.link_restored) if s]
    if not points:
        end = run.ended.ns if run.ended else run.started.ns
        return run.started.ns, max(end, run.started.ns + 1_000_000_000)
    lo, hi = min(points), max(points)
    # Gateway events shortly after the last point show the return (e.g. md back on TCP).
    later = [e.ns for e in run.gateway_events if hi < e.ns <= hi + 30_000_000_000]
    hi = max([hi, *later])
    pad = max((hi - lo) // 10, 500_000_000)
    return max(lo - pad, run.started.ns), hi + pad


def _changes(run: RunView, gateway: str, service: str) -> list[tuple[int, str, str]]:
    """(ns, what, value) state changes for one lane, from every source the journal has.

    what: `state` (up/down) or `source` (tcp/multicast). The measure gives the truth of the
    interruption (link lost → restored); gateway events and explicit probe transitions add
    what happened around it (market data on multicast, a later loss).
    """
    out: list[tuple[int, str, str]] = []
    for m in run.measures:
        if (m.gateway, m.service) != (gateway, service) or not m.affected or m.link_lost is None:
            continue
        if m.interruption_s is None or m.interruption_s > 0:
            out.append((m.link_lost.ns, "state", "down"))
            if m.restored is not None:
                out.append((m.restored.ns, "state", "up"))
    for t in run.transitions:
        if (t.gateway, t.service) != (gateway, service) or t.at is None:
            continue
        to = t.to_state.lower()
        # ok/fail transitions are drill's own first observations (already in the measure).
        if to in ("up", "down"):
            out.append((t.at.ns, "state", to))
        elif to == "degraded":
            out += [(t.at.ns, "state", "up"), (t.at.ns, "source", "multicast")]
    kind = service
    for e in run.gateway_events:
        if e.gateway != gateway:
            continue
        if kind == "market_data":
            if e.type == "md_source" and e.data.get("to") in ("tcp", "multicast"):
                out.append((e.ns, "source", str(e.data["to"])))
            elif e.type == "md_flow" and e.data.get("state") == "stalled":
                out.append((e.ns, "state", "down"))
            elif e.type == "md_flow" and e.data.get("state") == "flowing":
                out.append((e.ns, "state", "up"))
                if e.data.get("source") in ("tcp", "multicast"):
                    out.append((e.ns, "source", str(e.data["source"])))
        elif e.type == "link_down":
            out.append((e.ns, "state", "down"))
        elif (kind == "trading" and e.type == "login") or \
                (kind.startswith("settlement") and e.type == "transfer" and e.data.get("ok")):
            out.append((e.ns, "state", "up"))
    return sorted(out, key=lambda c: c[0])


def segments(run: RunView, gateway: str, service: str, lo: int, hi: int) -> list[Segment]:
    state, source, cursor = "up", "tcp", lo
    out: list[Segment] = []

    def shown() -> str:
        return "down" if state == "down" else ("degraded" if source == "multicast" else "up")

    for ns, what, value in _changes(run, gateway, service):
        at = min(max(ns, lo), hi)
        before = shown()
        if what == "state":
            state = value
        else:
            source = value
        if shown() != before:
            if at > cursor:
                out.append(Segment(cursor, at, before))
            cursor = max(cursor, at)
    if hi > cursor:
        out.append(Segment(cursor, hi, shown()))
    return out


LANES_PER_PICTURE = 36  # one A4 page; a 200-gateway lab gets several pictures on one time axis


def render_svgs(run: RunView, loc: Locale, per: int = LANES_PER_PICTURE) -> list[str]:
    """The timeline as pictures of at most `per` lanes each, all on the same time window."""
    rows = lanes(run)
    chunks = [rows[i:i + per] for i in range(0, len(rows), per)] or [[]]
    return [render_svg(run, loc, chunk) for chunk in chunks]


def render_svg(run: RunView, loc: Locale, rows: list[tuple[str, str]] | None = None) -> str:
    lo, hi = window(run)
    span = max(hi - lo, 1)
    rows = lanes(run) if rows is None else rows
    height = TOP + LANE_H * max(len(rows), 1) + BOTTOM
    width = LABEL_W + PLOT_W + 20

    def x(ns: int) -> float:
        return LABEL_W + (ns - lo) * PLOT_W / span

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-label="{escape(loc("sec_picture"))}">',
        f'<title>{escape(loc("sec_picture"))}</title>',
    ]
    for i, (gw, svc) in enumerate(rows):
        y = TOP + i * LANE_H
        label = f"{gw} · {loc.opt('svc', svc)}"
        parts.append(f'<g class="lane" data-gateway="{escape(gw)}" data-service="{escape(svc)}">')
        parts.append(f'<text x="{LABEL_W - 6}" y="{y + 15}" text-anchor="end" font-size="11">'
                     f'{escape(label)}</text>')
        for seg in segments(run, gw, svc, lo, hi):
            parts.append(
                f'<rect class="seg {seg.state}" x="{x(seg.start_ns):.1f}" y="{y + 4}" '
                f'width="{max(x(seg.end_ns) - x(seg.start_ns), 0.5):.1f}" height="{LANE_H - 8}" '
                f'fill="{COLOURS[seg.state]}"><title>{escape(loc(f"lane_{seg.state}"))} '
                f'{loc.clock(seg.start_ns)}–{loc.clock(seg.end_ns)}</title></rect>')
        parts.append("</g>")
    bottom = TOP + LANE_H * max(len(rows), 1)
    # Marks: fault (red) and restore (blue), dashed across all lanes.
    for f in run.faults:
        if f.at is None or not lo <= f.at.ns <= hi:
            continue
        colour, key = ("#1565c0", "mark_restore") if f.restores else ("#b71c1c", "mark_fault")
        xf = x(f.at.ns)
        parts.append(
            f'<g class="mark {"restore" if f.restores else "fault"}">'
            f'<line x1="{xf:.1f}" y1="{TOP - 6}" x2="{xf:.1f}" y2="{bottom}" stroke="{colour}" '
            f'stroke-width="1.5" stroke-dasharray="4 3"/>'
            f'<text x="{xf:.1f}" y="{TOP - 10}" text-anchor="middle" font-size="10" fill="{colour}">'
            f'{escape(loc(key))} {loc.clock(f.at.ns)}</text></g>')
    # Axis: seconds from the window start, with the local clock at both ends.
    parts.append(f'<line x1="{LABEL_W}" y1="{bottom + 2}" x2="{LABEL_W + PLOT_W}" y2="{bottom + 2}" '
                 f'stroke="#555"/>')
    ticks = 6
    for k in range(ticks + 1):
        ns = lo + span * k // ticks
        xt = x(ns)
        parts.append(f'<line x1="{xt:.1f}" y1="{bottom + 2}" x2="{xt:.1f}" y2="{bottom + 6}" stroke="#555"/>')
        anchor = "start" if k == 0 else ("end" if k == ticks else "middle")
        parts.append(f'<text x="{xt:.1f}" y="{bottom + 17}" text-anchor="{anchor}" font-size="9">'
                     f'{escape(loc.clock(ns)[:-4] if k not in (0, ticks) else loc.clock(ns))}</text>')
    # Legend.
    lx = LABEL_W
    for state in ("up", "down", "degraded"):
        parts.append(f'<rect x="{lx}" y="{bottom + 24}" width="10" height="10" fill="{COLOURS[state]}"/>')
        text = loc(f"lane_{state}")
        parts.append(f'<text x="{lx + 14}" y="{bottom + 33}" font-size="10">{escape(text)}</text>')
        lx += 40 + 11 * len(text) if loc.lang == "zh" else 30 + 6 * len(text)
    parts.append("</svg>")
    return "\n".join(parts)
