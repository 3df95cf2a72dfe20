"""Labels in Chinese and English, and locale formatting of times, durations and numbers.

Chinese labels follow docs/glossary.md so reports and the terminal read as written by a
Chinese operations team. Every label exists in both languages (a test checks it). The CLI,
the reports and compliance all take their words from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from orchestrator.errors import InputError, Problem
from orchestrator.model.i18n_report import REPORT_LABELS

LANGS = ("zh", "en")

# key: (zh, en)
LABELS: dict[str, tuple[str, str]] = {
    "report_title": ("演练报告", "Drill report"),
    "status": ("演练结论", "Result"),
    "status_passed": ("通过", "PASSED"),
    "status_failed": ("未通过", "FAILED"),
    "status_aborted": ("已中止", "ABORTED"),
    "status_refused": ("未启动（演练前检查未通过）", "REFUSED"),
    "status_inconclusive": ("无法判定", "INCONCLUSIVE"),
    "status_note_inconclusive": ("至少一项目标应测而未测（见“偏差与异常情况”），本次演练不能作为通过记录。",
                                 "At least one objective should have been measured and was not "
                                 "(see Deviations and failures); this run does not count as a pass."),
    "verdict_counts": ("{passed} 项通过，{failed} 项未通过，{not_applicable} 项不适用，{not_tested} 项未测",
                       "{passed} passed, {failed} failed, {not_applicable} not applicable, "
                       "{not_tested} not tested"),
    "state_passed": ("通过", "passed"),
    "state_failed": ("未通过", "failed"),
    "state_not_applicable": ("不适用", "not applicable"),
    "state_not_tested": ("未测", "not tested"),
    "dev_not_tested": ("目标未测", "objective not tested"),
    "obj_failover_exercised": ("故障路径上有网关（演练确实触发切换）",
                               "a gateway on the failed path (failover exercised)"),
    "status_note_refused": ("演练前检查（运行状态检查）未通过，演练未启动，未注入故障。",
                            "The steady-state gate failed; the drill did not start and no fault was injected."),
    "status_unfinished": ("未正常结束（操作日志无结束记录）", "UNFINISHED (the journal has no run.end)"),
    "status_note_passed": ("所有目标均已达成，恢复与回切已执行，演练后状态复核通过。",
                           "Every objective was met; restore ran and the after-check passed."),
    "status_note_failed": ("至少一项目标或检查未达成，详见“偏差与异常情况”。",
                           "At least one objective or check was not met; see Deviations and failures."),
    "status_note_aborted": ("演练被中止，已执行恢复步骤，详见“偏差与异常情况”。",
                            "The drill was aborted; restore ran. See Deviations and failures."),
    "exit_code": ("退出码", "Exit code"),
    "run_id": ("演练编号", "Run id"),
    "drill_id": ("演练场景", "Drill"),
    "drill_title": ("演练名称", "Drill title"),
    "drill_type": ("演练类型", "Drill type"),
    "cadence": ("演练周期", "Cadence"),
    "scope": ("演练范围", "Scope"),
    "environment": ("演练环境", "Environment"),
    "env_kind": ("环境类型", "Environment kind"),
    "gateways_involved": ("涉及网关", "Gateways involved"),
    "lines_involved": ("故障线路", "Lines failed"),
    "gateways_affected": ("故障路径上的网关", "Gateways on the failed path"),
    "clauses": ("对应规范条款", "Spec clauses served"),
    "params": ("演练参数", "Parameters"),
    "start": ("开始时间", "Start"),
    "end": ("结束时间", "End"),
    "duration": ("总时长", "Duration"),
    "timezone": ("时区", "Time zone"),
    "times_note": ("时间均以下列时区显示；操作日志以 UTC 存储。括号内为时间来源及误差；"
                   "未标注来源的时间（步骤、阶段、操作日志）取自演练工具时钟。",
                   "Times are shown in this time zone; the journal stores UTC. Each measured time names "
                   "its source and uncertainty in brackets; unlabelled times (steps, phases, the "
                   "activity log) are the engine's clock."),
    "sec_summary": ("概要", "Summary"),
    "sec_versions": ("演练文件及自动化脚本版本", "Drill and playbook versions"),
    "drill_hash": ("演练文件 SHA-256", "Drill file SHA-256"),
    "inventory_hash": ("主机清单（Inventory）SHA-256", "Inventory SHA-256"),
    "playbook": ("自动化脚本（Ansible Playbook）", "Playbook"),
    "git_commit": ("Git 提交", "Git commit"),
    "git_dirty": ("（工作区有未提交修改）", "(working tree had uncommitted changes)"),
    "tool_versions": ("演练工具版本", "Tool versions"),
    "sec_participants": ("参演人员与人工确认", "Participants and manual acknowledgements"),
    "name": ("姓名", "Name"),
    "role": ("角色", "Role"),
    "role_operator": ("操作人员", "Operator"),
    "role_approver": ("审批人", "Approver"),
    "role_acknowledger": ("确认人", "Acknowledged steps"),
    "ticket": ("变更单号", "Change ticket"),
    "os_user": ("系统用户", "OS user"),
    "host": ("执行主机", "Host"),
    "step": ("步骤", "Step"),
    "acked_by": ("确认人", "Acknowledged by"),
    "acked_at": ("确认时间", "At"),
    "how": ("确认方式", "How"),
    "how_prompt": ("人工确认", "confirmed at the prompt"),
    "how_--yes": ("无人值守确认", "acknowledged unattended (--yes)"),
    "how_lab-auto": ("实验环境自动确认", "acknowledged automatically (lab)"),
    "no_acks": ("本次演练无人工步骤。", "This drill had no manual steps."),
    "sec_objectives": ("演练目标", "Objectives and targets"),
    "objective": ("目标", "Objective"),
    "target": ("目标值", "Target"),
    "measured": ("实测值", "Measured"),
    "result": ("结果", "Result"),
    "pass": ("通过", "pass"),
    "fail": ("未通过", "fail"),
    "detail": ("说明", "Detail"),
    "none": ("无", "none"),
    "sec_precheck": ("演练前检查与运行状态检查", "Pre-check and steady state"),
    "gate": ("演练前运行状态检查", "Steady-state gate"),
    "after": ("演练后状态复核", "After-check"),
    "check": ("检查项", "Check"),
    "gateway": ("网关号", "Gateway"),
    "ok": ("正常", "ok"),
    "not_ok": ("异常", "not ok"),
    "not_run": ("未执行", "not run"),
    "sec_timeline": ("步骤时间线", "Step timeline"),
    "phase": ("阶段", "Phase"),
    "kind": ("类型", "Kind"),
    "automated": ("执行方式", "Run by"),
    "by_tool": ("自动", "automated"),
    "by_person": ("人工", "person"),
    "started": ("开始", "Started"),
    "ended": ("结束", "Ended"),
    "seconds": ("耗时", "Duration"),
    "tasks": ("自动化任务（Ansible）", "Ansible tasks"),
    "sec_picture": ("各网关服务状态时间线", "Per-gateway timeline"),
    "lane_up": ("正常", "up"),
    "lane_down": ("中断", "down"),
    "lane_degraded": ("降级（如行情切换至组播接收）", "degraded (e.g. market data on multicast)"),
    "mark_fault": ("故障注入", "fault"),
    "mark_restore": ("恢复", "restore"),
    "sec_measures": ("各网关切换情况", "Per gateway and service"),
    "service": ("服务", "Service"),
    "switch": ("切换", "Switch"),
    "affected": ("受影响", "Affected"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "centre_move": ("中心（前→后）", "Centre (before→after)"),
    "link_lost": ("链路中断时间", "Link lost"),
    "detected": ("网关检测到中断", "Detected"),
    "observed": ("工具首次观测", "First observed by drill"),
    "restored": ("服务恢复时间", "Restored"),
    "link_restored": ("链路恢复时间", "Link restored"),
    "login_restored": ("登录恢复时间", "Login restored"),
    "interruption": ("中断时长", "Interruption"),
    "no_measures": ("无测量记录。", "No measurements were recorded."),
    "sec_lines": ("接入线路表", "Access lines"),
    "site": ("接入中心", "Site"),
    "primary_backup": ("主用/备用", "Primary/backup"),
    "primary": ("主用", "primary"),
    "backup": ("备用", "backup"),
    "line_id": ("线路编号", "Line id"),
    "carrier": ("运营商", "Carrier"),
    "bandwidth": ("带宽（Mbps）", "Bandwidth (Mbps)"),
    "medium": ("线路类型", "Medium"),
    "port_layer": ("端口类型", "Port"),
    "local_address": ("本端地址", "Local address"),
    "remote_address": ("对端地址（深证通）", "Remote address (SSCC)"),
    "no_topology": ("操作日志未记录线路信息。", "The journal records no line table."),
    "sec_evidence": ("服务证据材料", "Evidence of service"),
    "probe_summary": ("探测汇总", "Probe summaries"),
    "probe": ("探测方式", "Probe"),
    "samples": ("采样数", "Samples"),
    "failures": ("失败数", "Failures"),
    "transitions": ("状态变化次数", "State changes"),
    "first_failure": ("首次探测失败", "First failing sample"),
    "evidence_files": ("证据文件", "Evidence files"),
    "path": ("路径", "Path"),
    "source": ("来源", "Source"),
    "redacted": ("已脱敏", "Redacted"),
    "original_sha": ("原文件 SHA-256", "Original SHA-256"),
    "no_evidence": ("无证据文件记录。", "No evidence files were recorded."),
    "sec_deviations": ("偏差与异常情况", "Deviations and failures"),
    "no_deviations": ("无偏差。", "No deviations."),
    "dev_objective": ("目标未达成", "objective missed"),
    "dev_measure": ("切换超时", "switch over target"),
    "dev_step": ("步骤失败", "step failed"),
    "dev_task": ("自动化任务（Ansible）失败", "Ansible task failed"),
    "dev_steady_state": ("运行状态检查未通过", "steady state not met"),
    "dev_abort": ("演练中止", "aborted"),
    "dev_signal": ("演练程序收到终止信号（SIGINT/SIGTERM）", "signal received"),
    "dev_unfinished": ("未正常结束", "unfinished"),
    "sec_followup": ("整改措施 / 后续跟进事项", "Follow-up actions"),
    "action": ("事项", "Action"),
    "owner": ("责任人", "Owner"),
    "due": ("完成期限", "Due"),
    "sec_restore": ("恢复与回切确认", "Restore and failback"),
    "restore_ran": ("恢复步骤已执行", "Restore ran"),
    "failback_ran": ("回切已执行", "Failback ran"),
    "failback_na": ("本演练不涉及回切", "not part of this drill"),
    "after_passed": ("演练后状态复核通过", "After-check passed"),
    "sec_archive": ("存档信息", "Archive"),
    "archive_location": ("存档位置", "Archive location"),
    "retention": ("保存期限", "Retention"),
    "retention_value": ("{days} 天（演练记录存档，不少于一年）",
                        "{days} days (at least one year; drill's own extension of R-SEC-2)"),
    "journal_digest": ("操作日志最终摘要（SHA-256）", "Journal final digest (SHA-256)"),
    "journal_records": ("操作日志记录数", "Journal records"),
    "digest_note": ("本报告嵌入生成时操作日志最后一条记录的摘要；操作日志的结束记录含本报告的 SHA-256，"
                    "两者相互印证（防篡改）。可用 drill verify 命令校验。",
                    "This report embeds the digest of the journal's last record when it was rendered; "
                    "the run.end record holds this report's SHA-256, so the two seal each other. "
                    "Check with drill verify."),
    "sec_signoff": ("签字确认", "Sign-off"),
    "signature": ("签字", "Signature"),
    "date": ("日期", "Date"),
    "signoff_lead": ("演练负责人", "Drill lead"),
    "signoff_tech": ("技术负责人", "Technical lead"),
    "signoff_compliance": ("合规负责人", "Compliance officer"),
    "sec_log": ("附录：操作日志", "Appendix: activity log"),
    "seq": ("序号", "Seq"),
    "time": ("时间", "Time"),
    "record": ("记录类型", "Record"),
    "summary": ("内容", "Summary"),
    "log_truncated": ("另有 {n} 条记录见 journal.jsonl。", "{n} more records are in journal.jsonl."),
    "generated": ("报告生成时间", "Generated"),
    "page": ("第", "Page"),
    "svc_trading": ("交易", "trading"),
    "svc_market_data": ("行情", "market data"),
    "svc_settlement": ("结算", "settlement"),
    "svc_settlement_sm": ("结算（国密）", "settlement (SM)"),
    "gwkind_trading": ("交易网关", "trading gateway"),
    "gwkind_market_data": ("行情网关", "market-data gateway"),
    "gwkind_settlement": ("结算网关（CCNET）", "settlement gateway (CCNET)"),
    "sw_failover": ("切换", "failover"),
    "sw_failback": ("回切", "failback"),
    # the member drill record of an organised drill (reports/member_record.py)
    "sec_member_record": ("会员单位演练记录表", "Member drill record"),
    "member_record_intro": (
        "本次为{organiser}组织的演练（通知编号：{notice}）。以下线路表与切换记录按交易所要求的格式生成，"
        "时间均取自操作日志的实测记录：链路中断时间、交易登录恢复时间取自各交易网关的测量记录，"
        "链路恢复时间取自恢复线路步骤的生效时间。",
        "A drill organised by {organiser} (notice {notice}). The line table and the switches below "
        "follow the exchange's shape; every time is the journal's measured record: link lost and "
        "trading login restored from each trading gateway's measure, link restored from the "
        "restore step's effective time."),
    "member_switches": ("切换记录", "Switches"),
    "member_files": ("报送文件（逗号分隔文件，电子表格可直接打开）", "Files to return (CSV, UTF-8 with BOM)"),
    "no_switches": ("无交易网关切换记录。", "No trading gateway switched."),
    "organiser": ("组织方", "Organiser"),
    "notice_no": ("通知编号", "Notice number"),
    "org_SSCC": ("深证通", "SSCC"),
    "org_NEEQ": ("全国股转公司", "NEEQ"),
    "org_BSE": ("北交所", "BSE"),
    "switch_no": ("序号", "No."),
    "trading_gateway": ("交易网关", "Trading gateway"),
    "lines_cut": ("中断线路", "Line(s) cut"),
    "trading_login_restored": ("交易登录恢复时间", "Trading login restored"),
    "host_address": ("主机地址", "Host address"),
    "reference_no": ("受理编号", "Reference"),
    "sw_failover:host-socket": ("切换（主机套接字表，第二来源）", "failover (host socket table, second source)"),
    "phase_precheck": ("演练前检查", "pre-check"),
    "phase_gate": ("运行状态检查", "steady-state gate"),
    "phase_fault": ("故障注入", "fault"),
    "phase_recovery": ("切换恢复", "recovery"),
    "phase_hold": ("保持观察", "hold"),
    "phase_restore": ("恢复", "restore"),
    "phase_after": ("演练后检查", "after-check"),
    "st_ok": ("成功", "ok"),
    "st_failed": ("失败", "failed"),
    "st_aborted": ("已中止", "aborted"),
    "st_skipped": ("已跳过", "skipped"),
    "st_unfinished": ("未完成", "unfinished"),
    "medium_terrestrial": ("地面线路", "terrestrial"),
    "medium_satellite-oneway": ("单向卫星", "one-way satellite"),
    "medium_satellite-twoway": ("双向卫星", "two-way satellite"),
    "medium_multicast-terrestrial": ("地面组播", "terrestrial multicast"),
    "layer_3": ("路由（三层）端口", "routed (L3)"),
    "layer_2": ("交换（二层）端口", "switched (L2)"),
    "cad_monthly": ("每月", "monthly"),
    "cad_quarterly": ("每季度", "quarterly"),
    "cad_half-yearly": ("每半年", "half-yearly"),
    "cad_yearly": ("每年", "yearly"),
    "file": ("文件", "file"),
    "targets": ("目标值", "targets"),
    "failback_mark": ("（回切）", " (failback)"),
    # The terminal's result table (drill run): short column heads, same terms as the report.
    "col_gateway": ("网关号", "gateway"),
    "col_service": ("服务", "service"),
    "col_affected": ("受影响", "on failed path"),
    "col_link_lost": ("链路中断时间", "link lost"),
    "col_detected": ("网关检测到中断", "detected"),
    "col_restored": ("服务恢复时间", "restored"),
    "col_interruption": ("中断时长", "interruption"),
    "col_target": ("目标值", "target"),
    "col_result": ("结论", "result"),
    "col_fail": ("未通过", "FAIL"),
    "col_svc_market_data": ("行情", "market_data"),
    # drill list
    "col_id": ("编号", "id"),
    "col_title": ("名称", "title"),
    "col_clauses": ("对应规范条款", "clauses"),
    "col_cadence": ("演练周期", "cadence"),
    "env_lab": ("实验环境", "lab"),
    "env_production": ("生产环境", "production"),
    "seconds_unit": ("秒", "s"),
    "uncertainty": ("误差", "±"),
    "src_fault-task": ("故障任务", "fault task"),
    "src_gateway-monitor": ("网关监控", "gateway monitor"),
    "src_gateway-log": ("网关日志", "gateway log"),
    "src_host-socket": ("主机套接字", "host socket"),
    "src_probe-sample": ("探测采样", "probe sample"),
    "src_lab-log": ("实验环境日志", "lab log"),
    "src_exchange": ("服务端（深证通）", "server (SSCC)"),
    "src_engine": ("演练工具", "engine"),
    "src_operator": ("操作人员", "operator"),
    "dtype_single-line": ("单线路故障演练", "single-line drill"),
    "dtype_carrier-outage": ("单运营商故障演练", "single-carrier drill"),
    "dtype_centre-outage": ("单中心故障演练", "single-centre drill"),
    "dtype_beijing-cutover": ("北京异地灾备切换演练（D+3）", "D+3 Beijing DR cutover"),
    "dtype_md-multicast-fallback": ("行情切换至组播（备用）接收演练", "market data falls back to multicast"),
    "dtype_sscc-organised-drill": ("深证通组织的线路切换演练（会员参演）",
                                   "SSCC-organised line switch drill (member taking part)"),
    "chk_logged_in": ("已登录", "logged in"),
    "chk_single_session": ("单一会话（无重复登录）", "one session (no double login)"),
    "chk_shenzhen_centre": ("位于深圳中心", "on a Shenzhen centre"),
    "chk_home_centre": ("位于主用中心", "on its home centre"),
    "chk_config_order": ("主站服务器列表顺序", "server list order"),
    "chk_config_unchanged": ("配置与演练前一致", "config as before"),
    "chk_config_on_host": ("主机上的配置文件与演练前一致", "config file on its host as before"),
    "chk_process": ("网关进程运行中", "gateway process running"),
    "chk_md_flowing": ("行情正常接收", "market data flowing"),
    "chk_settlement_ok": ("结算传输成功", "settlement transfer ok"),
    "chk_line_up": ("线路正常", "line up"),
    "chk_centre_up": ("中心可用", "centre up"),
    "subject": ("对象", "Subject"),
    "checks": ("检查结果", "Checks"),
    "obj_rto.trading": ("交易恢复时间目标（RTO）", "trading RTO"),
    "obj_rto.market_data": ("行情恢复时间目标（RTO）", "market-data RTO"),
    "obj_rto.settlement": ("结算恢复时间目标（RTO）", "settlement RTO"),
    "obj_rto.settlement_sm": ("结算（国密）恢复时间目标（RTO）", "settlement (SM) RTO"),
    "obj_unexpected.trading": ("交易业务意外中断（演练未声明）", "trading interrupted, not expected by the drill"),
    "obj_unexpected.market_data": ("行情业务意外中断（演练未声明）",
                                   "market data interrupted, not expected by the drill"),
    "obj_unexpected.settlement": ("结算业务意外中断（演练未声明）",
                                  "settlement interrupted, not expected by the drill"),
    "obj_expected.trading": ("交易业务预期中断时长", "expected trading interruption"),
    "obj_expected.market_data": ("行情业务预期中断时长", "expected market-data interruption"),
    "obj_expected.settlement": ("结算业务预期中断时长", "expected settlement interruption"),
    "findings": ("重要发现", "Findings"),
    "obj_unaffected_no_interruption": ("非故障路径网关无中断", "no interruption off the failed path"),
    "obj_no_double_login": ("无重复登录（同一网关号最多一个会话）", "no double login (one session per gateway id)"),
    "obj_failback": ("回切恢复时间", "failback recovery time"),
    "obj_cutover": ("灾备切换时长", "cutover duration"),
    "obj_cutover.limit": ("灾备切换时长（对照深证通 D+3 承接时限，仅作参考）",
                          "cutover duration beside SSCC's D+3 (context)"),
    "obj_cutover.firm": ("灾备切换时长（本公司目标）", "cutover duration vs the firm's target"),
    "history_title": ("演练历史", "Drill history"),
    "rto_trend": ("RTO 趋势", "RTO trend"),
    # evidence by environment, coverage (compliance/coverage.py, docs/compliance.md)
    "env_test": ("测试环境", "test"),
    "env_test_note": ("实验环境，不作为报送依据", "test environment, not evidence for filing"),
    "env_rehearsal": ("预演", "rehearsal"),
    "test_runs_hidden": ("另有 {n} 次实验环境或预演记录未计入，不作为报送依据（加 `--include-test` 显示）",
                         "{n} test-environment or rehearsal run(s) not counted, not evidence for "
                         "filing (--include-test shows them)"),
    "cov_title": ("{year} 年度演练覆盖情况（{env}）", "Drill coverage {year} ({env})"),
    "cov_type": ("类型", "type"),
    "cov_target": ("演练对象", "target"),
    "cov_quarter": ("第{q}季度", "Q{q}"),
    "cov_type_line": ("接入线路", "line"),
    "cov_type_carrier": ("运营商", "carrier"),
    "cov_type_centre": ("中心", "centre"),
    "cov_type_gateway": ("网关", "gateway"),
    "cov_passed": ("通过", "passed"),
    "cov_failed": ("未通过", "failed"),
    "cov_gap": ("未演练", "GAP"),
    "cov_ahead": ("（未到）", "(ahead)"),
    "cov_legend": ("演练对象在该季度由哪些演练实测：通过的演练计为本季度演练；仅未通过者仍标“未演练”；"
                   "未测、不适用不计入。",
                   "which drills measured each target in each quarter: only a passed drill counts "
                   "as the quarter's drill (a target only failed is still a GAP); not tested and "
                   "not applicable count as neither."),
    "cov_gaps": ("未演练：{n} 项", "gaps: {n}"),
    **REPORT_LABELS,  # the 演练报告's own sections (model/i18n_report.py)
}


@dataclass(frozen=True)
class Locale:
    """Labels and formatting for one language and time zone."""

    lang: str
    tz_name: str

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.tz_name)

    def __call__(self, key: str, **kw: object) -> str:
        pair = LABELS.get(key)
        if pair is None:
            return key
        text = pair[0] if self.lang == "zh" else pair[1]
        return text.format(**kw) if kw else text

    def opt(self, prefix: str, value: str) -> str:
        """A label for an enumerated value (status, phase, source …), else the value itself."""
        key = f"{prefix}_{value}"
        return self(key) if key in LABELS else value

    def tz_label(self, ns: int) -> str:
        offset = datetime.fromtimestamp(ns / 1e9, self.tz).strftime("%z")
        return f"{self.tz_name} (UTC{offset[:3]}:{offset[3:]})"

    def datetime(self, ns: int | None, *, ms: bool = False) -> str:
        if ns is None:
            return "—"
        dt = datetime.fromtimestamp(ns / 1e9, self.tz)
        clock = dt.strftime("%H:%M:%S") + (f".{(ns // 1_000_000) % 1000:03d}" if ms else "")
        if self.lang == "zh":
            return f"{dt.year}年{dt.month}月{dt.day}日 {clock}"
        return f"{dt.day} {dt.strftime('%b')} {dt.year}, {clock}"

    def date(self, ns: int) -> str:
        dt = datetime.fromtimestamp(ns / 1e9, self.tz)
        return f"{dt.year}年{dt.month}月{dt.day}日" if self.lang == "zh" else dt.strftime("%d %b %Y")

    def clock(self, ns: int | None) -> str:
        if ns is None:
            return "—"
        dt = datetime.fromtimestamp(ns / 1e9, self.tz)
        return dt.strftime("%H:%M:%S") + f".{(ns // 1_000_000) % 1000:03d}"

    def number(self, value: float | int | None, digits: int = 3) -> str:
        if value is None:
            return "—"
        if isinstance(value, int):
            return f"{value:,}"
        text = f"{value:,.{digits}f}".rstrip("0").rstrip(".")
        return text or "0"

    def seconds(self, value: float | None) -> str:
        if value is None:
            return "—"
        return f"{self.number(value)} {self('seconds_unit')}" if self.lang == "zh" else f"{self.number(value)} s"

    def value(self, value: object, name: str = "") -> str:
        """An objective's target or measured value: seconds for time objectives."""
        if value is None or value == "":
            return "—"
        if isinstance(value, bool):
            return self("yes") if value else self("no")
        if isinstance(value, int | float):
            timed = name.startswith(("rto.", "cutover", "failback"))
            return self.seconds(float(value)) if timed else self.number(value)
        return str(value)

    def stamp(self, st: object) -> str:
        """A timestamp with its source and uncertainty, e.g. 19:15:01.234 (fault task ±50 ms)."""
        if st is None:
            return "—"
        ns, source, unc = st.ns, st.source, st.uncertainty_ms  # type: ignore[attr-defined]
        src = self.opt("src", source)
        return f"{self.clock(ns)} ({src} ±{self.number(float(unc), 1)} {self('ms_unit')})"


def locale(lang: str, tz_name: str) -> Locale:
    if lang not in LANGS:
        raise InputError(Problem("", None, "--lang", f"expected one of {', '.join(LANGS)}, got {lang!r}"))
    try:
        ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        tz_name = "Asia/Shanghai"
    return Locale(lang, tz_name)


# --- terminal: what `drill` prints while it plans and runs (issue 20) --------------------
# The console's words live in model/i18n_terminal.py; the report's are above.
from orchestrator.model.i18n_terminal import TERMINAL  # noqa: E402

LABELS.update(TERMINAL)
from orchestrator.model.i18n_check import CHECK  # noqa: E402

LABELS.update(CHECK)  # drill check, due and history (model/i18n_check.py)
from orchestrator.model.i18n_admin import ADMIN  # noqa: E402

LABELS.update(ADMIN)  # schedule, prune, validate, init, lab, hosts, profile, recover, review
