"""Render a RunView as HTML, PDF, Markdown, JSON, CSV or JUnit XML."""

from __future__ import annotations

import dataclasses
import json
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from orchestrator.errors import DrillError, InputError, Problem
from orchestrator.journal.chain import iso_ns
from orchestrator.model.i18n import LABELS, Locale, locale
from orchestrator.model.run import NOT_APPLICABLE, NOT_TESTED
from orchestrator.model.spec import cite
from orchestrator.reports import member_record, sections
from orchestrator.reports.model import (
    MIN_RETENTION_DAYS,
    PREDICTION_FACTOR,
    PREDICTION_MARGIN_S,
    PredictionView,
    RunView,
    Stamp,
    Text,
)
from orchestrator.reports.tables import ACTIVITY, TABLES, activity_table, csv_tables
from orchestrator.reports.timeline import render_svgs
from orchestrator.reports.wording import objective_detail, objective_label, target_text

FORMATS = ("html", "pdf", "md", "json", "csv")
SCHEMA = "drill-report/1"
LOG_LIMIT = 5000
CSS_FILE = "report.css"


def _env() -> Any:
    import jinja2

    # Compiling the report template took 0.15-0.2 s of every run's end (issue 19, P4):
    # Jinja keeps compiled templates in its per-user cache folder (0700, owner checked),
    # keyed by each template's source checksum, so an edited template is never stale.
    try:
        cache = jinja2.FileSystemBytecodeCache()
    except (OSError, RuntimeError):  # no usable temporary folder: compile every time
        cache = None
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("orchestrator.reports", "templates"),
        autoescape=jinja2.select_autoescape(["html.j2"], default_for_string=False),
        trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined,
        bytecode_cache=cache,
    )
    return env


def _context(run: RunView, loc: Locale, digest: str) -> dict[str, Any]:
    svc_gateways = sorted({m.gateway for m in run.measures} | {g.id for g in run.topology.gateways})
    failed_lines = sorted({ln for f in run.faults if not f.restores for ln in _lines_in(f.effect)})
    return {
        "run": run, "L": loc, "digest": digest, "lang": loc.lang,
        "sep": "：" if loc.lang == "zh" else ": ",
        "status_key": f"status_{run.status}",
        "verdict_counts": loc("verdict_counts", **run.objective_counts),
        "generated_ns": time.time_ns(),
        "svgs": render_svgs(run, loc),
        "gateways_involved": svc_gateways,
        "gateways_affected": sorted({g for f in run.faults if not f.restores for g in f.affected}),
        "lines_involved": failed_lines,
        "failback_measured": any(m.phase == "failback" for m in run.measures),
        "retention_days": max(run.inventory.retention_days, MIN_RETENTION_DAYS),
        "log": run.log[:LOG_LIMIT], "log_more": max(len(run.log) - LOG_LIMIT, 0),
        "probe_rows": probe_rows(run),
        "css": (Path(__file__).parent / "templates" / CSS_FILE).read_text(encoding="utf-8"),
        "list_sep": "；" if loc.lang == "zh" else "; ", "name_sep": "、" if loc.lang == "zh" else ", ",
        "detail_of": lambda o: objective_detail(o, run, loc),
        "value_of": lambda v, name: target_text(v, name, loc),
        "centre": lambda cid: run.topology.centre_name(cid, loc.lang) if cid else "—",
        "cutover_context": _cutover_context(run, loc),
        "dev_detail": lambda d: _deviation_detail(run, loc, d),
        "dev_subject": lambda d: _deviation_subject(run, loc, d),
        "obj_label": lambda name: objective_label(name, loc),
        "labels": LABELS,
        "predicted_text": lambda p: predicted_text(p, loc),
        "prediction_rule": loc("prediction_rule", factor=f"{PREDICTION_FACTOR:g}",
                               margin=f"{PREDICTION_MARGIN_S:g}"),
        **sections.context(run, loc),
        **member_record.context(run, loc),
    }


def predicted_text(p: PredictionView | None, loc: Locale) -> str:
    """A prediction as the report shows it: `2–2.5 s`, or why the settings do not bound it."""
    if p is None:
        return "—"
    if p.low_s is None or p.high_s is None:
        return f"{loc('predicted_unbounded')}（{p.basis.get(loc.lang)}）" if loc.lang == "zh" \
            else f"{loc('predicted_unbounded')} ({p.basis.get(loc.lang)})"
    if p.low_s == p.high_s:
        return loc.seconds(p.high_s)
    return f"{loc.number(p.low_s)}–{loc.seconds(p.high_s)}"


def _deviation_detail(run: RunView, loc: Locale, d: Any) -> str:
    """A deviation's detail; an objective's in the report's language (reports.wording)."""
    if d.what in ("objective", "not_tested") and loc.lang == "zh":
        o = next((o for o in run.objectives if o.name == d.subject), None)
        if o is not None:
            if d.what == "not_tested":
                return f"未测：{objective_detail(o, run, loc)}"
            target = target_text(o.target, o.name, loc)
            return f"目标值 {target}，实测值 {target_text(o.measured, o.name, loc)}。{objective_detail(o, run, loc)}"
    return sections.named(d.detail.get(loc.lang), run.topology, loc.lang)


_MEASURE_SUBJECT = re.compile(r"^(\S+)/(\S+) \((\w+)\)$")


def _deviation_subject(run: RunView, loc: Locale, d: Any) -> str:
    """What a deviation is about, in the report's language."""
    if d.what in ("objective", "not_tested"):
        return objective_label(d.subject, loc)
    m = _MEASURE_SUBJECT.match(d.subject) if d.what == "measure" else None
    if m:
        return f"{m.group(1)} {loc.opt('svc', m.group(2))}（{loc.opt('sw', m.group(3))}）" \
            if loc.lang == "zh" else d.subject
    if d.what == "steady_state":
        return loc.opt("when", d.subject) if f"when_{d.subject}" in LABELS else loc(d.subject)
    return sections.named(d.subject, run.topology, loc.lang)


def _cutover_context(run: RunView, loc: Locale) -> str:
    """D+3 as context beside the firm's own cutover target, never a verdict (R-DR-1)."""
    targets = run.targets
    if targets.get("sscc_takeover_s") is None and targets.get("cutover_limit_s") is None:
        return ""
    return loc("cutover_context_value", cite=cite("R-DR-1", loc.lang, run.documents))


def _lines_in(effect: str) -> list[str]:
    for part in effect.split(", "):
        key, _, value = part.partition("=")
        if key in ("lines_down", "lines"):
            return [v for v in value.split(",") if v]
    return []


def probe_rows(run: RunView) -> list[dict[str, Any]]:
    """Per gateway and service: drill's own probe view (probe.summary, probe.transition)."""
    rows = []
    lanes = {(t.gateway, t.service) for t in run.transitions}
    lanes |= {(p.gateway, p.service) for p in run.probe_summaries}
    for gw, svc in sorted(lanes):
        trans = sorted((t for t in run.transitions if (t.gateway, t.service) == (gw, svc) and t.at),
                       key=lambda t: t.at.ns)  # type: ignore[union-attr]
        failing = next((t.at for t in trans if t.to_state in ("fail", "down")), None)
        summ = [p for p in run.probe_summaries if (p.gateway, p.service) == (gw, svc)]
        rows.append({"gateway": gw, "service": svc, "transitions": len(trans),
                     "first_failure": failing,
                     "probe": ", ".join(sorted({p.probe for p in summ} | {t.probe for t in trans if t.probe})),
                     "samples": sum(p.samples for p in summ) if summ else None,
                     "failures": sum(p.failures for p in summ) if summ else None})
    return rows


# -- JSON -----------------------------------------------------------------------------------


def _plain(value: Any, loc: Locale) -> Any:
    if isinstance(value, Stamp):
        return {"t": iso_ns(value.ns), "ns": value.ns, "source": value.source,
                "uncertainty_ms": value.uncertainty_ms, "local": loc.datetime(value.ns, ms=True)}
    if isinstance(value, Text):
        return {"zh": value.zh, "en": value.en}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name), loc) for f in dataclasses.fields(value)}
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v, loc) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v, loc) for v in value]
    return value


def _verdict(run: RunView) -> dict[str, str]:
    """The run's verdict line in both languages: status, then each objective state counted."""
    out = {}
    for lang in ("zh", "en"):
        loc = locale(lang, run.timezone)
        out[lang] = (f"{loc('status_' + run.status)}{'：' if lang == 'zh' else ': '}"
                     f"{loc('verdict_counts', **run.objective_counts)}")
    return out


def to_json(run: RunView, loc: Locale, digest: str) -> dict[str, Any]:
    body = _plain(run, loc)
    body["objectives"] = [
        {**_plain(o, loc), "state": o.verdict,
         "state_label": {lang: locale(lang, run.timezone)(f"state_{o.verdict}") for lang in ("zh", "en")}}
        for o in run.objectives]
    body.pop("log", None)  # the journal itself is the activity log
    body["run_dir"] = str(run.run_dir)
    return {
        "schema": SCHEMA, "status": run.status, "journal_digest": digest,
        "timezone": run.timezone, "lang": loc.lang,
        "retention_days": max(run.inventory.retention_days, MIN_RETENTION_DAYS),
        "rto_by_service": run.rto_by_service(),
        "objective_states": run.objective_counts,
        "verdict": _verdict(run),
        "restore_ran": run.restore_ok, "after_check_passed": run.after_ok,
        "probe_summaries": [_plain(r, loc) for r in probe_rows(run)],
        **{k: v for k, v in body.items() if k != "probe_summaries"},
        "probe_summary_records": body.get("probe_summaries", []),
    }


# -- JUnit ----------------------------------------------------------------------------------


def to_junit(run: RunView) -> bytes:
    cases: list[ET.Element] = []

    def case(classname: str, name: str, seconds: float | None, failure: str | None,
             error: str | None = None) -> None:
        el = ET.Element("testcase", classname=classname, name=name, time=f"{seconds or 0:.3f}")
        if failure is not None:
            ET.SubElement(el, "failure", message=failure).text = failure
        if error is not None:
            ET.SubElement(el, "error", message=error).text = error
        cases.append(el)

    cls = f"drill.{run.drill.id}"
    for st in run.steady:
        bad = "; ".join(f"{c.gateway} {c.check}: {c.detail}" for c in st.checks if not c.ok)
        case(f"{cls}.steady_state", st.when, None, None if st.ok else (bad or "not ok"))
    for s in run.steps:
        failure = None if s.status in ("ok", "skipped") else (s.error or s.status)
        case(f"{cls}.step.{s.phase}", f"{s.index:02d} {s.name.en}", s.duration_s, failure)
    for m in run.measures:
        failure = None
        if m.passed is False:
            failure = (f"interruption {m.interruption_s} s > target {m.target_s} s"
                       if m.interruption_s is not None else "service not restored")
        case(f"{cls}.measure.{m.phase}", f"{m.gateway} {m.service}", m.interruption_s, failure)
    for o in run.objectives:
        if o.verdict in (NOT_APPLICABLE, NOT_TESTED):
            el_skip = f"{o.verdict.replace('_', ' ')}: {o.detail}"
            case(f"{cls}.objective", o.name, None, None)
            ET.SubElement(cases[-1], "skipped", message=el_skip)
            continue
        case(f"{cls}.objective", o.name, None,
             None if o.passed else f"target {o.target}, measured {o.measured}. {o.detail}".strip())
    for i in run.interrupts:
        case(f"{cls}.run", i.kind, None, None, f"{i.kind}: {i.what} (phase {i.phase}, step {i.step})")
    if not cases:
        case(f"{cls}.run", "run", None, None if run.status == "passed" else run.status)
    failures = sum(1 for c in cases if c.find("failure") is not None)
    errors = sum(1 for c in cases if c.find("error") is not None)
    duration = ((run.ended.ns if run.ended else run.started.ns) - run.started.ns) / 1e9
    suite = ET.Element("testsuite", name=f"drill {run.drill.id}", tests=str(len(cases)),
                       failures=str(failures), errors=str(errors), time=f"{duration:.3f}",
                       timestamp=iso_ns(run.started.ns)[:19])
    props = ET.SubElement(suite, "properties")
    for name, value in (("run_id", run.run_id), ("status", run.status),
                        ("journal_digest", run.digest), ("environment", run.inventory.environment)):
        ET.SubElement(props, "property", name=name, value=value)
    suite.extend(cases)
    root = ET.Element("testsuites", name="drill", tests=str(len(cases)), failures=str(failures),
                      errors=str(errors))
    root.append(suite)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


# -- entry points ---------------------------------------------------------------------------


def render(run: RunView, fmt: str, lang: str, digest: str | None = None) -> bytes:
    """One file's bytes; a CSV is its per-switch table (render_files gives every table)."""
    if fmt == "csv":
        return render_files(run, fmt, lang, "report")["report-switches.csv"]
    return _render_one(run, fmt, lang, digest)


def render_files(run: RunView, fmt: str, lang: str, stem: str,
                 digest: str | None = None) -> dict[str, bytes]:
    """{file name: bytes} a render writes side by side, the main file first: CSV is one file
    per table (`<stem>-<table>.csv`, reports.tables); Markdown is `<stem>.md` and the
    activity log it links, `<stem>-activity.csv`; any other format one `<stem>.<fmt>`."""
    if fmt not in FORMATS:
        raise InputError(Problem("", None, "--format", f"expected one of {', '.join(FORMATS)}, got {fmt!r}"))
    loc = locale(lang, run.timezone)
    if fmt == "csv":
        tables = csv_tables(run, loc, lambda o: objective_detail(o, run, loc))
        order = ("switches", *(t for t in TABLES if t != "switches"))
        return {f"{stem}-{t}.csv": tables[t] for t in order}
    if fmt == "md":
        log_file = f"{stem}-{ACTIVITY}.csv"
        md = _env().get_template("report.md.j2").render(
            **_context(run, loc, digest or run.digest), log_file=log_file)
        return {f"{stem}.md": md.encode(), log_file: activity_table(run, loc)}
    return {f"{stem}.{fmt}": _render_one(run, fmt, lang, digest)}


def _render_one(run: RunView, fmt: str, lang: str, digest: str | None = None) -> bytes:
    if fmt not in FORMATS:
        raise InputError(Problem("", None, "--format", f"expected one of {', '.join(FORMATS)}, got {fmt!r}"))
    loc = locale(lang, run.timezone)
    digest = digest or run.digest
    if fmt == "json":
        return (json.dumps(to_json(run, loc, digest), ensure_ascii=False, indent=2) + "\n").encode()
    if fmt == "md":
        return render_files(run, fmt, lang, "report", digest)["report.md"]
    html = _env().get_template("report.html.j2").render(**_context(run, loc, digest), pdf=fmt == "pdf")
    if fmt == "html":
        return html.encode()
    return html_to_pdf(html, run.run_dir)


def html_to_pdf(html: str, base: Path) -> bytes:
    try:
        import weasyprint
    except ImportError as e:  # pragma: no cover - depends on the install
        raise DrillError("PDF needs weasyprint: pip install 'drill-orchestrator[pdf]'") from e
    return weasyprint.HTML(string=html, base_url=str(base)).write_pdf()
