"""What `drill run` and `drill plan` print for people, in the run's language: the result
table (gateways on the failed path first, centre before → after, the time zone in the
header, the others in one short "not affected" line), the objective lines, the verdict
line (the report's first line), and the plan."""

from __future__ import annotations

import contextlib
import json
import logging
import time

from orchestrator.model.run import state_counts


def secs(lang: str, value: float, fmt: str = "g") -> str:
    """Seconds as the terminal shows them: `2.048s`, in zh `2.048 秒`."""
    return f"{value:{fmt}} 秒" if lang == "zh" else f"{value:{fmt}}s"


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
             "-" if m.interruption_s is None else secs(lang, m.interruption_s, ".3f"),
             "-" if m.target_s is None else secs(lang, m.target_s),
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
                         who=", ".join(f"{g}（{s}）" if lang == "zh" else f"{g} ({s})" for g, s in quiet)))
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
    target = label(lang, "console_target_rto") if o.target == "rto" else t.value(o.target, o.name)
    return (f"  {mark:<6}{name}（{o.name}）：" + label(
        lang, "console_target_measured", target=target, measured=t.value(o.measured, o.name)))


def _why(outcome, lang: str = "en") -> str:
    """What went wrong, from the run's summary (journaled in English): its parts without
    the status (the verdict line says it) and without a count of met objectives (the
    objective lines show each). In zh also without the failed and untested objectives'
    English details (their objective lines above say them), the rest translated."""
    import re

    from orchestrator.model.i18n_terminal import reason_text

    summary = str(outcome.summary or "")
    if lang == "zh":  # the objectives' parts run to the next known part
        summary = re.sub(r"(objectives failed|not tested): .*?(?=; (restore steps failed|after-check "
                         r"failed): |$)", "", summary)
    parts = [p for p in summary.split("; ") if p]
    if parts and parts[0] == outcome.status:
        parts = parts[1:]
    kept = "; ".join(p for p in parts if not re.fullmatch(r"all \d+ (measured )?objectives met", p))
    return reason_text(lang, kept)


def result_text(outcome, lang: str) -> str:
    """The table, one line per objective (the verdict line counts exactly these), the
    steady state after restore, why the run stopped, the run folder."""
    out = [result_table(outcome, lang)]
    out += [_objective(o, lang) for o in outcome.objectives]
    if outcome.steady_after_ok is not None:
        out.append("  " + label(lang, "console_steady_after", state=label(
            lang, "console_reached" if outcome.steady_after_ok else "console_not_reached")))
    why = _why(outcome, lang)
    if why:
        out.append(label(lang, "console_why", why=why))
    out.append(label(lang, "console_run_folder", path=outcome.run_dir))
    return "\n".join(out)


def plan_text(shown, lang: str) -> str:
    """`drill plan` for people: every step in order with targets, change, wait, timeout,
    condition and check-mode result (with its reason)."""
    from orchestrator.engine.plan_detail import check_reason
    from orchestrator.model.i18n_terminal import step_key

    t = lambda key: label(lang, key)  # noqa: E731
    colon = "：" if lang == "zh" else ": "
    kind = lambda k: t(f"plan_kind_{k}") if f"plan_kind_{k}" in _labels() else k  # noqa: E731
    out = [f"{shown.drill}  {t('plan_params')}{colon}"
           + ", ".join(f"{k}={v}" for k, v in shown.params.items())]
    for r in shown.steps:
        out.append(f"  {step_key(lang, r['phase'], r['index'])}  {kind(r['kind']):<8} "
                   f"{r['name']['zh' if lang == 'zh' else 'en']}")
        if r.get("playbook"):  # the playbook's file and its variables as Ansible gets them (code)
            out.append(f"      {t('plan_playbook')}{colon}{r['playbook']} "
                       f"{json.dumps(r['vars'], ensure_ascii=False)}")
        if r.get("targets"):
            out.append(f"      {t('plan_targets')}{colon}{', '.join(r['targets'])}")
        for item in r.get("changes") or ():
            out.append(f"      {t('plan_changes')}{colon}{item}")
        out += [f"          {line}" for line in r.get("config_diff") or ()]
        if r.get("waits_for"):
            out.append(f"      {t('plan_waits_for')}{colon}{r['waits_for']}")
        if r.get("timeout_s") is not None:
            out.append(f"      {t('plan_timeout')}{colon}{secs(lang, r['timeout_s'])}")
        if r.get("when"):
            out.append(f"      {t('plan_when')}{colon}{r['when']}")
        if "check" in r:
            out.append(f"      {t('plan_check')}{colon}{_check_text(r['check'], lang, check_reason)}")
        for router, typed in (r.get("router_cli") or {}).items():  # what the router's CLI is sent
            out.append(f"      {router}:")
            out += [f"          {line}" for line in typed]
    out.append(f"{t('plan_on_path')}{colon}" + (", ".join(shown.on_path) or t("plan_none")))
    from orchestrator.model.i18n import LABELS

    for o in shown.objectives:
        state = t("plan_na") if o.state == "not_applicable" else t("plan_measure")
        if lang == "zh":  # the detail is English: the objective's label instead
            name = LABELS[f"obj_{o.name}"][0] if f"obj_{o.name}" in LABELS else o.name
            out.append(f"  {state:<6}{name}（{o.name}）")
        else:
            out.append(f"  {state:<9}{o.name}: {o.detail}")
    for p in getattr(shown, "predictions", ()):  # engine/predict.py
        figure = (f"{p.low_s:g}-{secs(lang, p.high_s)}" + ("" if lang == "zh" else " ")
                  if p.low_s is not None else "")
        service = LABELS[f"svc_{p.service}"][0] if lang == "zh" and f"svc_{p.service}" in LABELS else p.service
        basis = f"（{p.basis.get(lang)}）" if lang == "zh" else f"({p.basis.get(lang)})"
        out.append(f"  {t('plan_predicted')} {p.gateway} {service}{colon}{figure}{basis}")
    return "\n".join(out)


def _labels():
    from orchestrator.model.i18n import LABELS

    return LABELS


def _check_text(check, lang: str, check_reason) -> str:
    """A check-mode result with its reason; in zh the status and task count in words, the
    failed tasks' own messages (Ansible's) as they came."""
    if lang != "zh" or not check:
        return check_reason(check)
    status = str(check.get("status"))
    word = label(lang, f"plan_check_status_{status}") if f"plan_check_status_{status}" in _labels() \
        else status
    failed = list(check.get("failed") or ())
    if failed:  # "task: message": the task's label, Ansible's (or the playbook's) message
        from orchestrator.model.i18n_tasks import task_label

        named = [task_label(task, lang) + "：" + msg for task, _, msg in
                 (f.partition(": ") for f in failed[:3])]
        return label(lang, "plan_check_failed", status=word, tasks="；".join(named))
    return label(lang, "plan_check_result", status=word, tasks=check.get("tasks", 0))


def plan_warning(warning: str, lang: str) -> str:
    """A `drill plan` warning line in the plan's language."""
    from orchestrator.model.i18n_terminal import reason_text

    return label(lang, "plan_warning") + ("：" if lang == "zh" else ": ") + reason_text(lang, warning)


class _LogLines(logging.Handler):
    """The library's log records (a monitor reconnecting, a transport backing off) on
    stderr, marked as the log's own English text (`log: …`, in zh `运行日志（原文）：…`)."""

    def __init__(self, lang: str) -> None:
        super().__init__(logging.WARNING)
        self.lang = lang

    def emit(self, record: logging.LogRecord) -> None:
        import click

        with contextlib.suppress(Exception):  # a log line never breaks the run
            click.echo(label(self.lang, "console_log", message=record.getMessage()), err=True)


@contextlib.contextmanager
def log_lines(lang: str):
    """While a command runs: drill's log records as marked lines (see _LogLines)."""
    logger = logging.getLogger("orchestrator")
    handler = _LogLines(lang)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


@contextlib.contextmanager
def in_language(lang: str):
    """A refusal the engine raises (a lock, an unfinished run, the steady-state gate), its
    journaled English in `lang` (i18n_terminal.reason_text); the exit code stays its own."""
    from orchestrator.errors import InputError, RefusedError
    from orchestrator.model.i18n_terminal import reason_text

    try:
        yield
    except RefusedError as e:
        said = reason_text(lang, str(e))
        if lang != "zh" or isinstance(e, InputError) or said == str(e):
            raise
        out = RefusedError(said)
        out.exit_code = e.exit_code
        raise out from None
