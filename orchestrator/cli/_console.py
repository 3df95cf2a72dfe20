"""What `drill run` and `drill plan` print for people, in the run's language: the result
table (gateways on the failed path first, centre before → after, the time zone in the
header, the others in one short "not affected" line), the objective lines, the verdict
line (the report's first line), and the plan."""

from __future__ import annotations

import json
import time

from orchestrator.model.run import state_counts


def label(lang: str, key: str, **kw) -> str:
    from orchestrator.model.i18n import LABELS

    zh, en = LABELS[key]
    return (zh if lang == "zh" else en).format(**kw)


def _clock(stamp, tz: str) -> str:
    if not stamp:
        return "-"
    from datetime import datetime
    from zoneinfo import ZoneInfo

    dt = datetime.fromtimestamp(stamp.ns / 1e9, ZoneInfo(tz))
    return dt.strftime("%H:%M:%S.") + f"{stamp.ns % 1_000_000_000 // 1_000_000:03d}"


COLUMNS = ("gateway", "service", "centre", "link_lost", "detected", "restored",
           "interruption", "target", "result")


def _not_affected(m) -> bool:
    """Off the failed path and never interrupted: a line in the short list, not a row."""
    return m.phase == "failover" and not m.affected and not m.interrupted and m.passed is not False


def result_table(outcome, lang: str = "en") -> str:
    from tabulate import tabulate

    from orchestrator.model.i18n import locale

    t = locale(lang, outcome.timezone)

    def service(name: str) -> str:
        return t("col_svc_market_data") if name == "market_data" else \
            (t(f"svc_{name}") if lang == "zh" else name)

    moved_to = {m.gateway: m.centre_after for m in outcome.measurements if m.phase == "failover"}

    def centres(m) -> str:
        before = m.centre_before or (moved_to.get(m.gateway) if m.phase == "failback" else None)
        before, after = before or "?", m.centre_after or "?"
        return before if before == after else f"{before} → {after}"

    shown = [m for m in outcome.measurements if not _not_affected(m)]
    shown.sort(key=lambda m: (m.phase != "failover", not m.affected, m.gateway))
    rows = [[m.gateway + (t("failback_mark") if m.phase == "failback" else ""),
             service(m.service), centres(m),
             _clock(m.link_lost, outcome.timezone), _clock(m.detected, outcome.timezone),
             _clock(m.restored, outcome.timezone),
             "-" if m.interruption_s is None else f"{m.interruption_s:.3f}s",
             "-" if m.target_s is None else f"{m.target_s:g}s",
             t("state_not_tested") if m.passed is None
             else t("pass") if m.passed else t("col_fail")] for m in shown]
    stamps = [s.ns for m in outcome.measurements for s in (m.link_lost, m.restored) if s]
    out = [label(lang, "console_table_title", zone=t.tz_label(stamps[0] if stamps else time.time_ns()))]
    out.append(tabulate(rows, headers=[label(lang, f"console_col_{c}") for c in COLUMNS])
               if rows else label(lang, "console_no_gateway_on_path"))
    quiet = sorted(m for m in ((m.gateway, service(m.service)) for m in outcome.measurements
                               if _not_affected(m)))
    if quiet:
        out.append(label(lang, "console_not_affected",
                         who=", ".join(f"{g} ({s})" for g, s in quiet)))
    return "\n".join(out)


def run_verdict(outcome, lang: str) -> str:
    """The verdict line as the report's first line has it: status, each state counted."""
    c = state_counts(o.verdict for o in outcome.objectives)
    return (label(lang, f"status_{outcome.status}") + ("：" if lang == "zh" else ": ")
            + label(lang, "verdict_counts", **c))


def _objective(o, lang: str) -> str:
    from orchestrator.model.i18n import LABELS, locale

    mark = label(lang, "console_state_" + o.verdict)
    if lang != "zh":
        return f"  {mark:<9}{o.name}: {o.detail}"
    t = locale(lang, "Asia/Shanghai")
    name = t(f"obj_{o.name}") if f"obj_{o.name}" in LABELS else o.name
    return (f"  {mark:<6}{name}（{o.name}）：" + label(
        lang, "console_target_measured", target=t.value(o.target, o.name),
        measured=t.value(o.measured, o.name)))


def _why(outcome) -> str:
    """What went wrong, from the run's summary (journaled in English): its parts without
    the status (the verdict line says it) and without a count of met objectives (the
    objective lines show each)."""
    import re

    parts = [p for p in str(outcome.summary or "").split("; ") if p]
    if parts and parts[0] == outcome.status:
        parts = parts[1:]
    return "; ".join(p for p in parts if not re.fullmatch(r"all \d+ (measured )?objectives met", p))


def result_text(outcome, lang: str) -> str:
    """The table, one line per objective (the verdict line counts exactly these), the
    steady state after restore, why the run stopped, the run folder."""
    out = [result_table(outcome, lang)]
    out += [_objective(o, lang) for o in outcome.objectives]
    if outcome.steady_after_ok is not None:
        out.append("  " + label(lang, "console_steady_after", state=label(
            lang, "console_reached" if outcome.steady_after_ok else "console_not_reached")))
    why = _why(outcome)
    if why:
        out.append(label(lang, "console_why", why=why))
    out.append(label(lang, "console_run_folder", path=outcome.run_dir))
    return "\n".join(out)


def plan_text(shown, lang: str) -> str:
    """`drill plan` for people: every step in order with targets, change, wait, timeout,
    condition and check-mode result (with its reason)."""
    from orchestrator.engine.plan_detail import check_reason

    t = lambda key: label(lang, key)  # noqa: E731
    out = [f"{shown.drill}  {t('plan_params')}: "
           + ", ".join(f"{k}={v}" for k, v in shown.params.items())]
    for r in shown.steps:
        out.append(f"  {r['phase']}[{r['index']}]  {r['kind']:<8} "
                   f"{r['name']['zh' if lang == 'zh' else 'en']}")
        if r.get("playbook"):
            out.append(f"      playbook: {r['playbook']} {json.dumps(r['vars'], ensure_ascii=False)}")
        if r.get("targets"):
            out.append(f"      {t('plan_targets')}: {', '.join(r['targets'])}")
        for item in r.get("changes") or ():
            out.append(f"      {t('plan_changes')}: {item}")
        out += [f"          {line}" for line in r.get("config_diff") or ()]
        if r.get("waits_for"):
            out.append(f"      {t('plan_waits_for')}: {r['waits_for']}")
        if r.get("timeout_s") is not None:
            out.append(f"      {t('plan_timeout')}: {r['timeout_s']:g}s")
        if r.get("when"):
            out.append(f"      {t('plan_when')}: {r['when']}")
        if "check" in r:
            out.append(f"      {t('plan_check')}: {check_reason(r['check'])}")
        for router, typed in (r.get("router_cli") or {}).items():  # what the router's CLI is sent
            out.append(f"      {router}:")
            out += [f"          {line}" for line in typed]
    out.append(f"{t('plan_on_path')}: " + (", ".join(shown.on_path) or t("plan_none")))
    from orchestrator.model.i18n import LABELS

    for o in shown.objectives:
        state = t("plan_na") if o.state == "not_applicable" else t("plan_measure")
        if lang == "zh":  # the detail is English: the objective's label instead
            name = LABELS[f"obj_{o.name}"][0] if f"obj_{o.name}" in LABELS else o.name
            out.append(f"  {state:<6}{name}（{o.name}）")
        else:
            out.append(f"  {state:<9}{o.name}: {o.detail}")
    for p in getattr(shown, "predictions", ()):  # engine/predict.py
        figure = f"{p.low_s:g}-{p.high_s:g}s " if p.low_s is not None else ""
        service = LABELS[f"svc_{p.service}"][0] if lang == "zh" and f"svc_{p.service}" in LABELS else p.service
        out.append(f"  {t('plan_predicted')} {p.gateway} {service}: {figure}({p.basis.get(lang)})")
    return "\n".join(out)
