"""`drill summary --year`: the year's drills for the yearly filing with the local CSRC office.

Shaped as the 年度演练情况报告: what was drilled when, the result, RTO against target,
follow-ups, and per-quarter coverage of each drill. Runs come from the archive scan
(`orchestrator.archive`) for one environment; detail (measures, deviations) from the
report model (`orchestrator.reports.model.load_run`), so the summary and the run reports
agree. Rendered with this package's templates; PDF through the report machinery.

Only evidence is filed: production runs that are not rehearsals
(`orchestrator.archive.runs.counted`). With `include_test` the others are listed too,
each row labelled 实验环境，不作为报送依据 / "test environment, not evidence for filing",
and a note says so under the title; without it, `hidden_test` counts what was left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from orchestrator.archive.runs import ArchivedRun, counted, scan_runs
from orchestrator.compliance.cadence import DrillCadence
from orchestrator.errors import DrillError, InputError, Problem
from orchestrator.model.spec import cite

FORMATS = ("md", "html", "pdf")
_STATUS = {"zh": {"passed": "通过", "failed": "未通过", "inconclusive": "无法判定", "aborted": "已中止",
                  "refused": "未启动（演练前检查未通过）", None: "未完成"},
           "en": {"passed": "passed", "failed": "failed", "inconclusive": "inconclusive",
                  "aborted": "aborted", "refused": "refused", None: "unfinished"}}
_SERVICE = {"zh": {"trading": "交易", "market_data": "行情", "settlement": "结算"},
            "en": {"trading": "trading", "market_data": "market data", "settlement": "settlement"}}


@dataclass(frozen=True)
class RtoLine:
    service: str
    measured_s: float
    target_s: float | None

    @property
    def met(self) -> bool | None:
        return None if self.target_s is None else self.measured_s <= self.target_s


@dataclass(frozen=True)
class SummaryRow:
    run_id: str
    drill: str
    title: str
    date: str              # local date and time
    quarter: int
    status: str | None
    rto: tuple[RtoLine, ...]
    follow_ups: tuple[str, ...]
    spec: tuple[str, ...]
    test: bool = False     # not evidence (lab, test bed, rehearsal): labelled in the render


@dataclass(frozen=True)
class Coverage:
    drill: str
    title: str
    cadence: str
    quarters: tuple[str, ...]   # per quarter: passed (a measured pass) | failed | none


@dataclass(frozen=True)
class YearSummary:
    year: int
    lang: str
    environment: str
    timezone: str
    generated: str
    rows: tuple[SummaryRow, ...]
    coverage: tuple[Coverage, ...]
    include_test: bool = False
    hidden_test: int = 0   # runs of the year left out as not evidence (without include_test)

    @property
    def totals(self) -> dict[str, int]:
        out = {"runs": len(self.rows), "passed": 0, "failed": 0, "inconclusive": 0, "aborted": 0,
               "unfinished": 0}
        for r in self.rows:
            key = r.status or "unfinished"
            out[key] = out.get(key, 0) + 1
        return out


def build(reports: Path, year: int, *, environment: str, timezone: str, lang: str,
          drills: Sequence[DrillCadence], now: datetime, include_test: bool = False) -> YearSummary:
    tz = ZoneInfo(timezone)
    known = {d.id: d for d in drills}
    every = _runs_of_year(reports, year, environment, tz)
    runs = counted(every, include_test)
    rows = tuple(_row(r, lang, tz, known.get(r.drill or "")) for r in runs)
    ids = list(known) + sorted({r.drill for r in rows} - set(known))
    coverage = []
    for did in ids:
        quarters = []
        for q in range(1, 5):
            mine = [(run, r) for run, r in zip(runs, rows, strict=True)
                    if r.drill == did and r.quarter == q]
            # As `drill due`: only a pass that measured a failover is the quarter's drill.
            quarters.append("passed" if any(run.measured_pass for run, _ in mine)
                            else "failed" if mine else "none")
        d = known.get(did)
        title = (d.title_zh if lang == "zh" else d.title_en) if d else next(
            r.title for r in rows if r.drill == did)
        coverage.append(Coverage(did, title, d.cadence if d else "-", tuple(quarters)))
    return YearSummary(year, lang, environment, timezone, f"{now.astimezone(tz):%Y-%m-%d %H:%M}",
                       rows, tuple(coverage), include_test, len(every) - len(runs))


def _runs_of_year(reports: Path, year: int, environment: str, tz: ZoneInfo) -> list[ArchivedRun]:
    # Year folders follow the inventory's zone; a run near New Year may sit either side.
    out = []
    for y in (year - 1, year, year + 1):
        for r in scan_runs(reports, year=y, environment=environment):
            if r.started_ns is not None and _local(r.started_ns, tz).year == year:
                out.append(r)
    return sorted(out, key=lambda r: r.started_ns or 0)


def _local(ns: int, tz: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(ns / 1e9, tz)


def _row(run: ArchivedRun, lang: str, tz: ZoneInfo, drill: DrillCadence | None) -> SummaryRow:
    at = _local(run.started_ns or 0, tz)
    title = ((drill.title_zh if lang == "zh" else drill.title_en) if drill else
             run.title.get(lang) or run.title.get("en") or run.drill or run.run_id)
    rto: list[RtoLine] = []
    follow: list[str] = []
    spec: tuple[str, ...] = ()
    try:
        from orchestrator.reports.build import load_run

        view = load_run(run.path, log=False)
    except (DrillError, OSError, ValueError, KeyError, TypeError) as e:
        follow.append(("操作日志无法读取：" if lang == "zh" else "journal unreadable: ") + str(e))
    else:
        spec = tuple(getattr(view.drill, "spec", ()) or ())
        targets: dict[str, float] = {}
        for m in view.measures:
            if m.phase == "failover" and m.target_s is not None:
                targets[m.service] = m.target_s
        for svc, worst in sorted(view.rto_by_service().items()):
            rto.append(RtoLine(svc, worst, targets.get(svc)))
        for d in view.deviations[:5]:
            follow.append(f"{d.subject}: {d.detail.get(lang)}")
        if len(view.deviations) > 5:
            follow.append(f"… +{len(view.deviations) - 5}")
    if run.status != "passed" and not follow:
        follow.append("分析原因，整改后重新演练" if lang == "zh" else
                      "analyse the cause, remediate and re-run the drill")
    return SummaryRow(run.run_id, run.drill or "?", title, f"{at:%Y-%m-%d %H:%M}",
                      (at.month - 1) // 3 + 1, run.status, tuple(rto), tuple(follow), spec,
                      not run.evidence)


def render(summary: YearSummary, fmt: str) -> bytes:
    if fmt not in FORMATS:
        raise InputError(Problem(fmt, None, "--format", f"expected one of {', '.join(FORMATS)}"))
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("orchestrator.compliance", "templates"),
        autoescape=jinja2.select_autoescape(["html.j2"], default_for_string=False),
        trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined,
    )
    lang = summary.lang
    ctx = {"s": summary, "t": _TEXT[lang], "status": _STATUS[lang], "service": _SERVICE[lang],
           "totals": summary.totals}
    env.filters["cite"] = lambda clause: cite(clause, lang)
    if fmt == "md":
        return env.get_template("summary.md.j2").render(**ctx).encode()
    html = env.get_template("summary.html.j2").render(**ctx)
    if fmt == "html":
        return html.encode()
    from orchestrator.reports.render import html_to_pdf

    return html_to_pdf(html, Path(__file__).parent / "templates")


_TEXT = {
    "zh": {
        "title": "年度演练情况报告", "year": "年度", "environment": "环境", "generated": "生成时间",
        "timezone": "时区", "overview": "一、总体情况", "runs": "演练次数", "passed": "通过",
        "failed": "未通过", "inconclusive": "无法判定", "aborted": "已中止", "unfinished": "未完成",
        "detail": "二、演练明细", "date": "日期", "drill": "演练场景", "result": "结果",
        "rto": "中断时长 / 恢复时间目标（RTO）", "follow": "整改措施 / 后续跟进事项",
        "clauses": "对应条款", "coverage": "三、按季度完成情况", "cadence": "演练周期",
        "q": "第{}季度", "none": "无", "not_run": "—", "signoff": "四、签字确认",
        "roles": ("演练负责人", "技术负责人", "合规负责人"), "sign_date": "日期",
        "intro": ("本报告依据深证通全国股转系统和北交所交易结算用户接入技术规范（以下简称《技术规范》）、"
                  "《全国股转公司和北交所交易结算异地灾备系统用户接入指引》（以下简称《接入指引》）"
                  "及中国证监会网络和信息安全相关要求，"
                  "汇总本年度全国股转系统/北交所接入灾备演练的开展情况，报送派出机构并存档备查。"),
        "run_id": "演练编号", "met": "达标", "missed": "未达标",
        "test": "实验环境，不作为报送依据",
        "test_note": "注：本报告应要求列入了实验环境或预演记录，逐条标注“实验环境，不作为报送依据”，不得作为报送依据。",
    },
    "en": {
        "title": "Yearly drill summary", "year": "Year", "environment": "Environment",
        "generated": "Generated", "timezone": "Time zone", "overview": "1. Overview",
        "runs": "Drills run", "passed": "Passed", "failed": "Failed", "inconclusive": "Inconclusive",
        "aborted": "Aborted",
        "unfinished": "Unfinished", "detail": "2. Drills", "date": "Date", "drill": "Drill",
        "result": "Result", "rto": "Interruption / RTO target", "follow": "Follow-up actions",
        "clauses": "Clauses", "coverage": "3. Coverage by quarter", "cadence": "Cadence",
        "q": "Q{}", "none": "none", "not_run": "—", "signoff": "4. Sign-off",
        "roles": ("Drill lead", "Technical lead", "Compliance officer"), "sign_date": "Date",
        "intro": ("This summary lists the DR drills of the SSCC (NEEQ/BSE) access run this year, "
                  "for the yearly filing with the local CSRC office; the run reports are kept on file "
                  "for inspection."),
        "run_id": "Run", "met": "met", "missed": "missed",
        "test": "test environment, not evidence for filing",
        "test_note": ("Note: test-environment and rehearsal runs are listed on request, each "
                      "labelled \"test environment, not evidence for filing\"; they are not evidence "
                      "for the filing."),
    },
}
