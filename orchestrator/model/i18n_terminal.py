"""The operator's console in Chinese and English: what `drill plan`, `drill run` and
`drill show` print (issue 20). Merged into `orchestrator.model.i18n.LABELS` (its last
section), so one lookup and one both-languages test cover every label. key: (zh, en)"""

from __future__ import annotations

import re

TERMINAL: dict[str, tuple[str, str]] = {
    "plan_router": ("路由器 {router} 接口 {interface}（线路 {line}）",
                    "router {router} interface {interface} (line {line})"),
    "plan_gateway": ("网关 {gateway}（主机 {host}）", "gateway {gateway} (host {host})"),
    "plan_lab_line": ("实验环境路由器：线路 {line} {state}（方式 {mode}）",
                      "lab router: line {line} {state} (mode {mode})"),
    "plan_lab_centre": ("实验环境：中心 {centre} {state}", "lab: centre {centre} {state}"),
    "plan_linux_centre": ("linux 驱动：在每台线路路由器上为该中心的全部服务地址设置路由黑洞，恢复时删除"
                          "（SSCC 中心本身不受影响；由人工操作请设 `centres[].driver: manual`）",
                          "linux driver: every service address of the centre black-holed on every "
                          "line router, removed on restore (the SSCC centre itself is untouched; "
                          "for a person to act, set centres[].driver: manual)"),
    "plan_linux_service": ("linux 驱动：在每台线路路由器上仅为该中心的 {services} 服务地址设置路由黑洞，恢复时删除"
                           "（其他服务不受影响）",
                           "linux driver: only the {services} addresses of the centre black-holed on "
                           "every line router, removed on restore (the other services untouched)"),
    "plan_driver": ("由驱动 {driver} 执行（playbooks/drivers/{driver}/{playbook}）",
                    "through driver {driver} (playbooks/drivers/{driver}/{playbook})"),
    "plan_config_change": ("网关 {gateway} 配置 {config}（{format}）服务器列表：{before} ⇒ {after}，然后重启网关",
                           "gateway {gateway} config {config} ({format}) server list: "
                           "{before} ⇒ {after}, then restart the gateway"),
    "plan_as_found": ("运行时的当前值", "as found at run time"),
    "plan_no_change": ("只读，不做变更", "reads only, changes nothing"),
    "plan_custom_playbook": ("自定义自动化脚本（Ansible Playbook）{playbook}：变更内容由该脚本决定",
                             "custom playbook {playbook}: the change is the playbook's"),
    "plan_wait_soak": ("保持 {seconds} 秒", "hold for {seconds}s"),
    "plan_wait_soak_no_new_loss": ("保持 {seconds} 秒，期间不得有新的中断",
                                   "hold for {seconds}s with no new loss of service"),
    "plan_wait_all_restored": ("受影响网关全部恢复业务（预计：{gateways}）",
                               "every gateway on the failed path restored (predicted: {gateways})"),
    "plan_wait_on_centre": ("全部网关（仅卫星网关除外）登录 {centre}",
                            "every gateway (not satellite-only) logged in at {centre}"),
    "plan_wait_md_source": ("全部行情网关经 {source} 接收行情",
                            "every market-data gateway receiving over {source}"),
    "plan_wait_all_logged_in": ("全部网关已登录", "every gateway logged in"),
    "plan_wait_steady": ("稳态（全部网关在主用中心登录）",
                         "steady state (every gateway logged in at its home centre)"),
    "plan_when_failback": ("仅当恢复结束时有网关不在主用中心时执行（预计：{gateways}）",
                           "only if a gateway is off its home centre when restore ends "
                           "(predicted: {gateways})"),
    "plan_params": ("参数", "params"),
    "plan_targets": ("对象", "targets"),
    "plan_changes": ("变更", "change"),
    "plan_waits_for": ("等待", "waits for"),
    "plan_timeout": ("超时", "timeout"),
    "plan_when": ("条件", "when"),
    "plan_check": ("检查模式", "check mode"),
    "plan_on_path": ("故障路径上的网关", "on the failed path"),
    "plan_none": ("无", "none"),
    "plan_measure": ("待测", "measure"),
    "plan_na": ("不适用", "n/a"),
    "plan_predicted": ("预计中断", "predicted"),
    "plan_warning": ("警告", "warning"),
    "show_failback_step": ("回切（恢复阶段结束后自动加入）：repoint.yml 将不在主用中心的网关恢复至主用中心",
                           "failback (added after restore): repoint.yml returns every gateway "
                           "off its home centre to it"),
    "console_phase": ("── {phase}", "── {phase}"),
    "console_phase_precheck": ("演练前检查", "pre-check"),
    "console_phase_fault": ("故障注入", "fault"),
    "console_phase_recovery": ("恢复观察", "recovery"),
    "console_phase_hold": ("保持", "hold"),
    "console_phase_restore": ("环境恢复", "restore"),
    "console_waits_for": ("等待：{what}", "waits for: {what}"),
    "console_step_ok": ("完成", "ok"),
    "console_step_failed": ("失败", "failed"),
    "console_step_aborted": ("已中止", "aborted"),
    "console_abort": ("中止：{reason}", "aborting: {reason}"),
    "console_missing": ("尚缺：{who}", "still missing: {who}"),
    "console_down": ("中断中：{who}", "down: {who}"),
    "console_interrupted": ("已中断：正在恢复环境（再次按 Ctrl-C 不会跳过恢复）",
                            "interrupted: restoring (Ctrl-C again does not skip restore)"),
    "console_interrupted_unchanged": ("已中断：正在停止（尚未注入故障）",
                                      "interrupted: stopping (no fault was injected)"),
    "console_steady_after": ("恢复后稳态：{state}", "steady state after restore: {state}"),
    "console_reached": ("已达到", "reached"),
    "console_not_reached": ("未达到", "NOT reached"),
    "console_abort_reason": ("中止原因：{reason}", "aborted: {reason}"),
    "console_gate": ("── 稳态门槛：检查全部网关已登录且链路正常", "── steady-state gate: every gateway "
                     "logged in, lines up"),
    "console_after_check": ("── 恢复后检查：等待稳态（最长 60 秒）",
                            "── after-check: waiting for steady state (up to 60s)"),
    "console_check_gate": ("稳态门槛", "steady-state gate"),
    "console_check_after": ("恢复后检查", "after-check"),
    "check_col_clause": ("条款", "clause"),
    "check_col_part": ("部分", "part"),
    "check_col_status": ("结果", "status"),
    "check_col_requirement": ("要求", "requirement"),
    "check_col_evidence": ("依据", "evidence"),
    "console_why": ("原因：{why}", "{why}"),
    "console_run_folder": ("运行目录：{path}", "run folder: {path}"),
    "console_lab_stays_up": ("实验环境保持运行，供下一次演练使用；`drill lab down` 可停止",
                             "the lab stays up for the next drill; `drill lab down` stops it"),
    "console_state_passed": ("通过", "pass"),
    "console_state_failed": ("未通过", "FAIL"),
    "console_state_not_applicable": ("不适用", "n/a"),
    "console_state_not_tested": ("未测", "UNTESTED"),
    "console_announce": ("演练 {drill}，环境 {environment}（{gateways} 个网关）",
                         "drill {drill} on {environment} ({gateways} gateways)"),
    "console_table_title": ("故障路径上的网关（时间为 {zone}）", "gateways on the failed path (times in {zone})"),
    "console_col_gateway": ("网关号", "gateway"),
    "console_col_service": ("服务", "service"),
    "console_col_centre": ("中心 切换前 → 切换后", "centre before → after"),
    "console_col_link_lost": ("链路中断时间", "link lost"),
    "console_col_detected": ("网关检测到中断", "detected"),
    "console_col_restored": ("服务恢复时间", "restored"),
    "console_col_interruption": ("中断时长", "interruption"),
    "console_col_target": ("目标值", "target"),
    "console_col_result": ("结论", "result"),
    "console_no_gateway_on_path": ("故障路径上没有网关", "no gateway on the failed path"),
    "console_not_affected": ("不受影响（不在故障路径上，未中断）：{who}",
                             "not affected (off the failed path, not interrupted): {who}"),
    "console_target_measured": ("目标 {target}，实测 {measured}", "target {target}, measured {measured}"),
    "show_failback_when": ("仅当恢复结束时有网关不在主用中心时执行（`drill plan` 列出预计的网关）",
                           "only if a gateway is off its home centre when restore ends "
                           "(`drill plan` names the gateways it predicts)"),
    "console_phase_failback": ("回切", "failback"),
    "console_phase_after": ("恢复后检查", "after-check"),
    "console_task_ok": ("成功", "ok"),
    "console_task_changed": ("已变更", "changed"),
    "console_task_failed": ("失败", "failed"),
    "console_task_skipped": ("跳过", "skipped"),
    "console_task_unreachable": ("无法连接", "unreachable"),
    "console_until_hold": ("保持", "hold"),
    "console_until_all_restored": ("受影响网关恢复业务", "all_restored"),
    "console_until_all_logged_in": ("全部网关已登录", "all_logged_in"),
    "console_until_steady": ("稳态", "steady"),
    "console_until_on_centre": ("网关登录目标中心", "on_centre"),
    "console_until_md_source": ("行情接收方式", "md_source"),
    "console_until_wait": ("等待", "wait"),
    "console_log": ("运行日志（原文）：{message}", "log: {message}"),
    "plan_kind_playbook": ("自动化脚本", "playbook"),
    "plan_kind_wait": ("等待", "wait"),
    "plan_kind_manual": ("人工操作", "manual"),
    "plan_kind_verify": ("复核", "verify"),
    "plan_verify_monitor": ("监控接口（{gateways}）：{expect}", "monitor {gateways}: {expect}"),
    "plan_verify_tcp": ("TCP {address}:{port} 可连接", "tcp {address}:{port}"),
    "plan_verify_ssh_tcp": ("从 {host} 可连接 TCP {address}:{port}",
                            "tcp {address}:{port} from {host}"),
    "plan_verify_ssh_command": ("在 {host} 上执行 {command}（退出码 0{match}）",
                                "on {host}: {command} (exit status 0{match})"),
    "plan_md_source_tcp": ("TCP", "tcp"),
    "plan_md_source_multicast": ("组播", "multicast"),
    "plan_playbook": ("自动化脚本（Ansible Playbook）", "playbook"),
    "plan_state_down": ("中断", "down"),
    "plan_state_up": ("恢复", "up"),
    "plan_check_result": ("{status}（{tasks} 个任务）", "{status} ({tasks} tasks)"),
    "plan_check_status_successful": ("通过", "successful"),
    "plan_check_status_failed": ("未通过", "failed"),
    "plan_check_status_skipped": ("未执行", "skipped"),
    "plan_check_failed": ("{status}：{tasks}", "{status}: {tasks}"),
    "reason_signal": ("演练程序收到终止信号（{signal}）", "interrupted by {signal}"),
    "reason_blast": ("{gateway} 不在预计的故障路径上，但业务中断（{record}）",
                     "blast radius: {gateway} is not on the predicted failed path but lost "
                     "service ({record})"),
    "reason_restarted": ("{gateway} 的进程在{phase}阶段退出并被重新启动（进程号 {old} → {new}）：非演练造成的业务中断",
                         "{gateway}'s process died and was started again during the {phase} "
                         "phase (pid {old} → {new}): a loss of service the drill did not cause"),
    "reason_soak_loss": ("保持观察期间业务中断：{who}", "service lost during the soak: {who}"),
    "reason_recovery_late": ("恢复超过时限 {timeout} 秒且超出余量 {margin} 秒；仍未恢复：{who}",
                             "recovery missed its {timeout}s deadline by more than {margin}s; "
                             "still pending: {who}"),
    "reason_not_reached": ("{what} 在 {timeout} 秒内未达到；尚缺：{who}",
                           "{what} not reached within {timeout}s; pending: {who}"),
    "reason_late": ("{what} 在 {elapsed} 秒后才达到，超过时限 {timeout} 秒",
                    "{what} held only after {elapsed}s, past the {timeout}s deadline"),
    "reason_step_failed": ("{step} {name} 失败：{error}", "{step} {name} failed: {error}"),
    "reason_playbook": ("自动化脚本 {playbook} {status}（返回码 {rc}）：{why}",
                        "playbook {playbook} {status} (rc {rc}): {why}"),
    "reason_playbook_canceled": ("自动化脚本已取消", "playbook canceled"),
    "reason_status_failed": ("执行失败", "failed"),
    "reason_status_timeout": ("超时", "timeout"),
    "reason_status_canceled": ("已取消", "canceled"),
    "reason_locked": ("环境 {env} 正被{holder}占用（{path}）", "environment '{env}' is locked by {holder} ({path})"),
    "reason_stale_lock": ("环境 {env} 留有{holder}的锁：该演练未正常结束。"
                          "请运行 `drill recover` 恢复环境并释放锁（{path}）。",
                          "environment '{env}' has a stale lock from {holder}: that run died without "
                          "finishing. Run `drill recover` to restore the environment and release it ({path})."),
    "reason_holder": ("演练 {run}（{who}，进程号 {pid}，自 {since} 起）",
                      "run {run} by {who} (pid {pid}) since {since}"),
    "reason_unfinished": ("环境 {env} 有未结束的演练（{name}，{path}）：请先运行 `drill recover`",
                          "environment '{env}' has an unfinished run ({name}, {path}): run `drill recover` first"),
    "reason_gate": ("演练前检查（运行状态检查）未通过：{why}；演练未启动（操作日志：{path}）",
                    "steady-state gate failed: {why}; drill not started (journal: {path})"),
    "reason_gate_check": ("{gateway}：{check}（{detail}）", "{gateway}: {check} ({detail})"),
    "console_error": ("错误：{message}", "error: {message}"),
    "verify_note": ("提示 {run}：{note}", "note {run}: {note}"),
    "verify_ok": ("校验通过 {run}：最终摘要 {digest}", "OK {run}: final digest {digest}"),
    "verify_signed": ("，签名密钥 {fingerprint}…", ", signed by key {fingerprint}…"),
    "reason_unsigned": ("未签名：仅凭哈希链，改动者可重新计算", "unsigned: the hash chain alone can be "
                        "recomputed by an editor"),
    "reason_renders_unsigned": ("之后的报告生成记录未签名：renders.jsonl 仅从最终摘要起做哈希链",
                                "later renders unsigned: renders.jsonl is hash-chained from the "
                                "final digest only"),
    "reason_no_index": ("未检查归档索引（未指定归档目录）",
                        "archive index not checked (no archive folder given)"),
    "reason_aborted": ("已中止：{reason}", "aborted: {reason}"),
    "reason_restore_failed": ("恢复步骤失败：{steps}", "restore steps failed: {steps}"),
    "reason_after_failed": ("恢复后检查未通过：{why}", "after-check failed: {why}"),
    "reason_folder": ("运行目录不可写：{why}", "run folder not writable: {why}"),
    "reason_on_centre": ("在 {centre} 登录", "on {centre}"),
    "reason_not_logged_in": ("未登录", "not logged in"),
    "reason_on_home": ("在 {centre} 登录，主用中心为 {home}", "on {centre}, home {home}"),
    "reason_state": ("状态 {state}", "state {state}"),
    "reason_line_state": ("线路{state}", "line {state}"),
    "reason_centre_state": ("中心{state}", "centre {state}"),
    "reason_md_tick": ("行情来源 {source}，最近一笔行情在 {age} 秒前{hint}",
                       "source {source}, last tick {age}s ago{hint}"),
    "reason_transfer": ("最近一次结算传输成功：{ok}{hint}", "last transfer ok: {ok}{hint}"),
    "reason_flow_hint": ("（若此时段本就没有数据流动，请声明 `drill.service_hours`，见 docs/inventory.md）",
                         " (if nothing flows at this hour, declare drill.service_hours: docs/inventory.md)"),
    "reason_ok_True": ("是", "True"),
    "reason_ok_False": ("否", "False"),
    "reason_ok_None": ("无记录", "None"),
    "reason_sessions": ("服务端（深证通）有 {n} 个会话", "{n} session(s) at the exchange"),
    "console_target_rto": ("同该业务恢复时间目标（RTO）", "rto"),
    "show_rto": ("{service}恢复时间目标（RTO）≤ {limit}", "{service} RTO <= {limit}"),
    "show_expected": ("{service}预期中断，≤ {limit}", "{service} interruption expected, <= {limit}"),
    "show_no_double_login": ("无重复登录：{value}", "no_double_login: {value}"),
    "show_cutover": ("灾备切换时长 ≤ {firm}（本公司目标）；深证通在 {limit} 内承接（仅作参考，不作判定）",
                     "cutover <= {firm} (the firm's target); SSCC takes over within {limit} "
                     "(context, not judged)"),
    "show_abort": ("中止条件：业务中断超出预计范围即中止 {blast}，恢复余量 {margin}；回切：{failback}",
                   "abort: blast_radius={blast}, recovery_margin={margin}; failback: {failback}"),
    "show_field_playbook": ("自动化脚本", "playbook"),
    "show_field_vars": ("变量", "vars"),
    "show_field_effect": ("预计影响", "effect"),
    "show_field_timeout": ("超时", "timeout"),
    "show_field_wait": ("等待", "wait"),
    "show_field_verify": ("复核", "verify"),
    "show_field_manual": ("人工操作", "manual"),
    "show_type_line": ("线路", "line"),
    "show_type_carrier": ("运营商", "carrier"),
    "show_type_centre": ("中心", "centre"),
    "show_type_duration": ("时长", "duration"),
    "show_type_choice": ("选项", "choice"),
    "show_type_int": ("整数", "int"),
    "show_type_str": ("文本", "str"),
    "show_type_bool": ("是否", "bool"),
    "console_archive": ("归档目录：{path}", "archive: {path}"),
    "warn_undeclared": ("故障将中断{service}业务，而演练既未列出该业务，也未声明其预期中断："
                        "演练将不通过（请声明 `{decl}`）",
                        "the fault takes down {service}, which the drill neither names nor declares "
                        "expected: the run would fail (declare `{decl}`)"),
    "warn_no_path": ("故障路径上没有网关：本演练不会触发切换；演练结论将为无法判定（退出码 5），不计为已完成",
                     "no gateway is on the failed path: this drill would exercise no failover; "
                     "the run would be INCONCLUSIVE (exit 5) and never count as done"),
    "warn_calendar": ("没有 {year} 年的节假日日历：该年工作日的休市日将被当作交易日（业务时段、变更窗口）；"
                      "请在 `drill.service_hours.holidays` 中列出",
                      "no holiday calendar for {year}: its weekday market closures would count as "
                      "trading days (service hours, change windows); list them under "
                      "`drill.service_hours.holidays`"),
    "warn_unmet": ("{gateway}（{service}）{verdict}目标 {target} 秒：按其设置预计 {low}-{high} 秒（{basis}）",
                   "{gateway} ({service}) {verdict} its {target}s target: its settings give "
                   "{low}-{high}s ({basis})"),
    "warn_cannot_meet": ("无法达到", "cannot meet"),
    "warn_may_miss": ("可能达不到", "may miss"),
    "warn_basis_above": ("依据见上方预计中断", "see predicted above"),
    "signal_restore_running": ("{signal}：环境恢复正在进行，将执行完毕；"
                               "如演练程序被强制终止，请运行 `drill recover` 恢复环境。",
                               "{signal}: restore is running and will finish; if drill is killed, "
                               "run `drill recover` to restore the environment."),
}

# An engine reason (journaled in English: the journal's language is fixed) in the
# terminal's language: each known sentence by its pattern; ids, numbers and raw records
# inside keep their form. A reason no pattern knows is shown as journaled.
_REASONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), key) for p, key in (
        (r"interrupted by (?P<signal>SIG[A-Z]+)", "reason_signal"),
        (r"blast radius: (?P<gateway>\S+) is not on the predicted failed path but lost service "
         r"\((?P<record>.*)\)", "reason_blast"),
        (r"(?P<gateway>\S+)'s process died and was started again during the (?P<phase>\w+) phase "
         r"\(pid (?P<old>\d+) → (?P<new>\d+)\): a loss of service the drill did not cause",
         "reason_restarted"),
        (r"service lost during the soak: (?P<who>.*)", "reason_soak_loss"),
        (r"recovery missed its (?P<timeout>[\d.]+)s deadline by more than (?P<margin>[\d.]+)s; "
         r"still pending: (?P<who>.*)", "reason_recovery_late"),
        (r"(?P<what>\w+) not reached within (?P<timeout>[\d.]+)s; pending: (?P<who>.*)",
         "reason_not_reached"),
        (r"(?P<what>\w+) held only after (?P<elapsed>[\d.]+)s, past the (?P<timeout>[\d.]+)s deadline",
         "reason_late"),
        (r"(?P<step>\w+\[\d+\]) (?P<name>.+?) failed: (?P<error>.*)", "reason_step_failed"),
        (r"playbook (?P<playbook>\S+) (?P<status>failed|timeout|canceled) \(rc (?P<rc>-?\d+)\): "
         r"(?P<why>.*)", "reason_playbook"),
        (r"playbook canceled", "reason_playbook_canceled"),
        (r"environment '(?P<env>[^']+)' is locked by (?P<holder>.+) \((?P<path>[^()]+)\)", "reason_locked"),
        (r"environment '(?P<env>[^']+)' has a stale lock from (?P<holder>.+): that run died without "
         r"finishing\. Run `drill recover` to restore the environment and release it "
         r"\((?P<path>[^()]+)\)\.", "reason_stale_lock"),
        (r"run (?P<run>\S+) by (?P<who>\S+) \(pid (?P<pid>\d+)\) since (?P<since>\S+)", "reason_holder"),
        (r"environment '(?P<env>[^']+)' has an unfinished run \((?P<name>[^,]+), (?P<path>[^)]+)\): "
         r"run `drill recover` first", "reason_unfinished"),
        (r"steady-state gate failed: (?P<why>.*); drill not started \(journal: (?P<path>[^)]+)\)",
         "reason_gate"),
        (r"(?P<gateway>[\w-]+): (?P<check>\w+) \((?P<detail>[^;]*)\)", "reason_gate_check"),
        (r"unsigned: the hash chain alone can be recomputed by an editor", "reason_unsigned"),
        (r"later renders unsigned: renders\.jsonl is hash-chained from the final digest only",
         "reason_renders_unsigned"),
        (r"archive index not checked \(no archive folder given\)", "reason_no_index"),
        (r"aborted: (?P<reason>.*)", "reason_aborted"),
        (r"restore steps failed: (?P<steps>.*)", "reason_restore_failed"),
        (r"after-check failed: (?P<why>.*)", "reason_after_failed"),
        (r"run folder not writable: (?P<why>.*)", "reason_folder"),
        (r"the fault takes down (?P<service>\w+), which the drill neither names nor declares "
         r"expected: the run would fail \(declare `(?P<decl>[^`]*)`\)", "warn_undeclared"),
        (r"no gateway is on the failed path: this drill would exercise no failover; the run would "
         r"be INCONCLUSIVE \(exit 5\) and never count as done", "warn_no_path"),
        (r"no holiday calendar for (?P<year>\d+): its weekday market closures would count as "
         r"trading days \(service hours, change windows\); list them under "
         r"`drill\.service_hours\.holidays`", "warn_calendar"),
        (r"(?P<gateway>\S+) \((?P<service>\w+)\) (?P<verdict>cannot meet|may miss) its "
         r"(?P<target>[\d.]+)s target: its settings give (?P<low>[\d.]+)-(?P<high>[\d.]+)s "
         r"\((?P<basis>.*)\)", "warn_unmet"),
        (r"on (?P<centre>[A-Z]{2,3})", "reason_on_centre"),
        (r"not logged in", "reason_not_logged_in"),
        (r"on (?P<centre>\w+), home (?P<home>\w+)", "reason_on_home"),
        (r"state (?P<state>\w+)(?: \(gateway-log\))?", "reason_state"),
        (r"line (?P<state>up|down)", "reason_line_state"),
        (r"centre (?P<state>up|down)", "reason_centre_state"),
        (r"(?P<n>\d+) session\(s\) at the exchange", "reason_sessions"),
        (r"source (?P<source>\S+), last tick (?P<age>-?[\d.]+)s ago(?P<hint> \(if nothing flows at "
         r"this hour, declare drill\.service_hours: docs/inventory\.md\))?", "reason_md_tick"),
        (r"last transfer ok: (?P<ok>\w+)(?P<hint> \(if nothing flows at this hour, declare "
         r"drill\.service_hours: docs/inventory\.md\))?", "reason_transfer"),
    ))
_NESTED = {"reason", "why", "error", "holder", "detail"}  # groups that are reasons themselves


def reason_text(lang: str, text: str) -> str:
    """An engine reason in `lang` (see _REASONS); English is returned as it is."""
    if lang != "zh" or not text:
        return text
    whole = _one_reason(text)
    if whole is not None:
        return whole
    return "；".join(_one_reason(part) or part for part in text.split("; "))


def _one_reason(part: str) -> str | None:
    from orchestrator.model.i18n import LABELS

    for pattern, key in _REASONS:
        m = pattern.fullmatch(part)
        if not m:
            continue
        kw = {k: reason_text("zh", v) if k in _NESTED else v for k, v in m.groupdict().items()}
        if "phase" in kw:
            kw["phase"] = TERMINAL.get(f"console_phase_{kw['phase']}", (kw["phase"],))[0]
        if "step" in kw:
            phase, _, index = kw["step"].partition("[")
            kw["step"] = step_key("zh", phase, int(index.rstrip("]")))
        if "service" in kw:
            kw["service"] = LABELS.get(f"svc_{kw['service']}", (kw["service"],))[0]
        if key == "reason_playbook":
            kw["why"] = _failed_tasks(m.group("why"))
        if key in ("reason_line_state", "reason_centre_state"):
            kw["state"] = TERMINAL[f"plan_state_{kw['state']}"][0]
        if "hint" in kw:
            kw["hint"] = TERMINAL["reason_flow_hint"][0] if kw["hint"] else ""
        if "ok" in kw:
            kw["ok"] = TERMINAL.get(f"reason_ok_{kw['ok']}", (kw["ok"],))[0]
        if "status" in kw:
            kw["status"] = TERMINAL.get(f"reason_status_{kw['status']}", (kw["status"],))[0]
        if "what" in kw:
            kw["what"] = TERMINAL.get(f"console_until_{kw['what']}", (kw["what"],))[0]
        if "verdict" in kw:
            kw["verdict"] = TERMINAL["warn_" + kw["verdict"].replace(" ", "_")][0]
        if "basis" in kw:  # the English basis: the plan's predicted lines say it in Chinese
            kw["basis"] = TERMINAL["warn_basis_above"][0]
        return TERMINAL[key][0].format(**kw)
    return None


def _failed_tasks(why: str) -> str:
    """`host: task: message; …` with each task's zh label; Ansible's (or the playbook's)
    message as it came. A bare status is a status."""
    from orchestrator.model.i18n_tasks import task_label

    if f"reason_status_{why}" in TERMINAL:
        return TERMINAL[f"reason_status_{why}"][0]
    out = []
    for part in why.split("; "):
        host, _, rest = part.partition(": ")
        task, _, msg = rest.partition(": ")
        out.append(f"{host}：{task_label(task, 'zh')}：{msg}" if rest else part)
    return "；".join(out)


def step_key(lang: str, phase: str, index: int) -> str:
    """A step's key as the console shows it: `fault[0]`, in zh `故障注入[0]`."""
    if lang != "zh":
        return f"{phase}[{index}]"
    return f"{TERMINAL.get(f'console_phase_{phase}', (phase,))[0]}[{index}]"
