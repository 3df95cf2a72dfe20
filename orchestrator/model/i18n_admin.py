"""The project's and the archive's own commands in Chinese and English (issue 20): what
`drill schedule`, `prune`, `validate`, `init`, `lab up/status/down`, `hosts trust/check`,
`profile check`, `recover` and `review` print. Merged into `orchestrator.model.i18n.LABELS`.
key: (zh, en); the English is the text these commands printed before, unchanged."""

from __future__ import annotations

ADMIN: dict[str, tuple[str, str]] = {
    # drill schedule (compliance/schedule.py builds its reasons from these keys)
    "sched_scheduled": ("已排期：{item}{how}", "scheduled: {item}{how}"),
    "sched_item": ("{drill}（{what}），{months} 月", "{drill} ({what}) in months {months}"),
    "sched_defaults": ("默认参数", "defaults"),
    "sched_under_approval": ("，依据常设审批（变更单号 {change}）", " under standing approval {change}"),
    "sched_left_out": ("未排期：{drill}：{reason}", "left out: {drill}: {reason}"),
    "sched_note": ("注：{note}", "note: {note}"),
    "sched_organised": ("组织方演练按{organiser}的通知时间进行，不按演练工具的排期执行；请人工执行",
                        "an organised drill runs when {organiser}'s notice says, never on drill's "
                        "schedule; run it by hand"),
    "sched_live": ("步骤 {step} 需要现场人工确认，定时执行无法给出；请人工执行",
                   "its step {step} needs a live confirmation, which no scheduled run can give; "
                   "run it by hand"),
    "sched_no_approval": ("生产环境演练需要常设审批：{why}",
                          "a production run needs a standing approval: {why}"),
    "sched_bad_params": ("参数 {sets} 不可用：{problem}", "{sets}: {problem}"),
    "sched_unwritable": ("需改写演练工具无法写入的网关配置：{bad}",
                         "it rewrites gateway configs drill cannot write: {bad}"),
    "sched_rotation": ("{drill}：需轮换 {n} 个取值，但{cadence}演练每年仅 {periods} 次；一年只覆盖前 {periods} 个",
                       "{drill}: {n} values to rotate but {periods} {cadence} run(s) a year; a year "
                       "covers the first {periods}"),
    "sched_calendar": ("没有 {year} 年的节假日日历：该年的定时演练会把工作日休市日当作交易日（业务时段、变更窗口）；"
                       "请在 `drill.service_hours.holidays` 中列出",
                       "no holiday calendar for {year}: runs scheduled that year would count its "
                       "weekday market closures as trading days (service hours, change windows); "
                       "list them under `drill.service_hours.holidays`"),
    "sched_raw": ('原文："{text}"', "{text}"),  # drill's own English from a check it reuses
    # drill prune
    "prune_would_delete": ("将删除", "would delete"),
    "prune_deleted": ("已删除", "deleted"),
    "prune_line": ("{verb} {run}：开始于 {started}，早于截止时间 {cutoff}",
                   "{verb} {run}: started {started}, before {cutoff}"),
    "prune_total": ("{verb} {n} 次演练，保留 {kept} 次（截止日期 {cutoff}）",
                    "{n} {verb}, {kept} kept (cutoff {cutoff})"),
    # drill validate, drill init
    "valid_ok": ("通过：{path}（{drill}）", "ok: {path} ({drill})"),
    "valid_total": ("{n} 个演练文件校验通过", "{n} drill(s) valid"),
    "valid_against": ("（按主机清单（Inventory）{environment} 校验）", " against inventory {environment}"),
    "init_created": ("已创建演练项目 {root}", "created drill project {root}"),
    "init_next": ("下一步：编辑 inventories/ 下的主机清单（Inventory）（可复制 `inventories/production.example`），"
                  "然后执行 `drill validate`",
                  "next: edit inventories/ (copy production.example), then `drill validate`"),
    # drill lab up / down / status
    "lab_already_up": ("实验环境 {env} 已在运行（进程号 {pid}），无需操作",
                       "lab {env!r} is already up (pid {pid}); nothing to do"),
    "lab_up": ("实验环境 {env} 已启动，用时 {secs}：{n} 个网关已登录（进程号 {pid}，状态目录 {state}）",
               "lab {env!r} up in {secs}: {n} gateways logged in (pid {pid}, state {state})"),
    "lab_not_running": ("{inventory} 没有运行中的实验环境，无需操作",
                        "no lab running for {inventory!r}; nothing to do"),
    "lab_down": ("实验环境已停止，用时 {secs}，无残留进程（进程组 {pid}）{extra}",
                 "lab down in {secs}, no process left (process group {pid}){extra}"),
    "lab_was_not_running": ("实验环境未在运行，已清理，用时 {secs}，无残留进程（进程组 {pid}）{extra}",
                            "lab was not running; cleaned up in {secs}, no process left "
                            "(process group {pid}){extra}"),
    "lab_killed": ("；已结束 {n} 个残留进程", "; killed {n} leftover process(es)"),
    "lab_status_head": ("实验环境 {env}，主控进程号 {pid}，启动于 {since}（{tz}）",
                        "lab {env!r}, supervisor pid {pid}, since {since} ({tz})"),
    "lab_logged_in": ("{logged}/{n} 个网关已登录", "{logged}/{n} gateways logged in"),
    "lab_col_centre": ("中心", "centre"),
    "lab_col_name": ("名称", "name"),
    "lab_col_role": ("角色", "role"),
    "lab_col_state": ("状态", "state"),
    "lab_col_sessions": ("会话数", "sessions"),
    "lab_col_line": ("线路编号", "line"),
    "lab_col_carrier": ("运营商", "carrier"),
    "lab_col_medium": ("线路类型", "medium"),
    "lab_col_pref": ("优先级", "pref"),
    "lab_col_flows": ("业务流", "flows"),
    "lab_col_gateway": ("网关号", "gateway"),
    "lab_col_kind": ("网关类型", "kind"),
    "lab_col_session": ("会话", "session"),
    "lab_col_login": ("登录时间", "login"),
    "lab_col_md": ("行情来源", "md"),
    "lab_col_monitor": ("监控接口", "monitor"),
    "lab_col_pid": ("进程号", "pid"),
    "lab_role_production": ("生产中心", "production"),
    "lab_role_dr": ("灾备中心", "dr"),
    "lab_state_up": ("正常", "up"),
    "lab_state_down": ("中断", "down"),
    "lab_state_logged_in": ("已登录", "logged_in"),
    "lab_state_connecting": ("连接中", "connecting"),
    "lab_state_starting": ("启动中", "starting"),
    "lab_state_stopping": ("停止中", "stopping"),
    "lab_state_stopped": ("已停止", "stopped"),
    "lab_md_tcp": ("TCP", "tcp"),
    "lab_mode_blackhole": ("路由黑洞", "blackhole"),
    "lab_mode_shutdown": ("关闭端口", "shutdown"),
    "lab_none": ("{inventory} 没有运行中的实验环境（状态目录 {state}）；请先执行 `drill lab up`",
                 "no lab running for {inventory!r} (state {state}); start it with `drill lab up`"),
    "lab_md_multicast": ("组播", "multicast"),
    # drill lab line|centre|service|gateway, lab evidence: each change and when it took effect
    "lab_at": ("{text}，生效时间 {at}", "{text} at {at}"),
    "lab_line_down": ("线路 {line} 已中断（{mode}），影响 {flows} 条业务流",
                      "line {line} down ({mode}), {flows} flow(s) hit,"),
    "lab_line_up": ("线路 {target} 已恢复", "line {target} up"),
    "lab_centre_down": ("中心 {target} 已中断（服务停止应答）", "centre {target} down"),
    "lab_centre_up": ("中心 {target} 已恢复", "centre {target} up"),
    "lab_gateway_restart": ("网关 {target} 已重启", "gateway {target} restarted"),
    "lab_gateway_stop": ("网关 {target} 已停止", "gateway {target} stopped"),
    "lab_gateway_start": ("网关 {target} 已启动", "gateway {target} started"),
    "lab_service_down": ("中心 {centre} 的{services}服务已中断", "{services} at {centre} down"),
    "lab_service_up": ("中心 {centre} 的{services}服务已恢复", "{services} at {centre} up"),
    "lab_rendered": ("网关 {gateway} 的主站服务器列表已生成", "gateway {gateway} server list rendered"),
    "lab_repointed": ("网关 {gateway} 已切换主站服务器列表并重启", "gateway {gateway} repointed and restarted"),
    "lab_evidence": ("已复制 {n} 个文件至 {dest}", "{n} file(s) copied into {dest}"),
    # drill hosts trust / check
    "hosts_known_hosts": ("已信任主机密钥文件：{path}", "known_hosts: {path}"),
    "hosts_key_changed": ("  主机密钥已变更：原为 {previous}\n", "  KEY CHANGED: was {previous}\n"),
    "hosts_trust_ask": ("{host}\n  {key_type} {fingerprint}\n{change}  是否信任该密钥？",
                        "{host}\n  {key_type} {fingerprint}\n{change}  Trust this key?"),
    "hosts_not_trusted": ("未信任：{hosts}；演练工具与 Ansible 将拒绝连接这些主机",
                          "not trusted: {hosts}; drill and Ansible will refuse them"),
    "hosts_status_unchanged": ("未变更", "unchanged"),
    "hosts_status_added": ("已登记", "added"),
    "hosts_status_replaced": ("已替换", "replaced"),
    "hosts_status_rejected": ("已拒绝", "rejected"),
    "hosts_status_mismatch": ("指纹不符", "mismatch"),
    "hosts_status_skipped": ("已跳过（跳板机未信任）", "skipped"),
    "hosts_clock": ("正常 {host} 时钟偏差 {offset} 毫秒（±{uncertainty}）{ntp}",
                    "ok  {host} clock offset {offset} ms (±{uncertainty}){ntp}"),
    "hosts_router": ("正常 {host} 主机密钥已信任，未尝试登录（{platform}）；时钟：{clock}",
                     "ok  {host} host key trusted, login not tested ({platform}); clock {clock}"),
    "hosts_router_clock": ("未在此测量：网络路由器运行厂商命令行而非命令解释器，每个线路步骤读取其时钟"
                           "（`display clock` / `show clock`），偏差见该任务结果",
                           "not measured: a network router runs its vendor's CLI, not a shell; each "
                           "line step reads its clock (display/show clock) and reports the offset in "
                           "its task result"),
    "hosts_forwarding": ("正在转发 {local} → 主机 {host} 的 {remote}（{gateway}）",
                         "forwarding {local} → {host}:{remote} ({gateway})"),
    "hosts_forward_ready": ("已就绪；按 Ctrl-C 停止", "ready; Ctrl-C to stop"),
    "hosts_forward_none": ("没有需要转发的网关监控接口（没有一个监听在其所在主机的回环地址上）",
                           "no gateway monitor to forward (none listens on its SSH host's loopback)"),
    "hosts_forward_note": ('转发连接，原文："{text}"', "{text}"),
    "hosts_ntp_chrony": ("与授时服务器相差 {offset} 毫秒（`chrony`）", "chrony: {offset} ms from NTP"),
    # drill profile check
    "prof_col_line": ("行号", "line"),
    "prof_col_time": ("时间（UTC）", "time (UTC)"),
    "prof_col_gateway": ("网关号", "gateway"),
    "prof_col_event": ("事件", "event"),
    "prof_col_type": ("类型", "type"),
    "prof_col_data": ("数据", "data"),
    "prof_total": ("{n} 个事件，来自 {file}（{encoding}，{zone}）；网关号：{ids}",
                   "{n} event(s) from {file} ({encoding}, {zone}); gateway id(s): {ids}"),
    "prof_no_ids": ("日志未声明", "none declared"),
    # drill recover, drill review
    "recover_nothing": ("{env} 没有需要恢复的演练", "nothing to recover for {env}"),
    "review_followup": ("整改措施 {id}：{action}（{owner}，完成期限 {due}）",
                        "follow-up {id}: {action} ({owner}, due {due})"),
    "review_warning": ("警告：{message}", "warning: {message}"),
    "review_unsigned": ('{path} 已记入 renders.jsonl，但未签名（签名密钥不可用：原文："{problem}"）',
                        "render {path} recorded UNSIGNED: {problem}"),
}

ADMIN.update({
    # drill recover: what recover (engine/recover.py) journals and says, in English
    "recover_done": ("{run}：{actions}", "{run}: {actions}"),
    "rec_killed": ("已结束进程组 {pgid}（{step}）", "killed process group {pgid} ({step})"),
    "rec_no_start": ("操作日志无开始记录（`run.start`）：无需恢复", "no run.start: nothing to restore"),
    "rec_completed": ("操作日志已补全：从 {path} 补入 {n} 条记录",
                      "journal completed with {n} record(s) from {path}"),
    "rec_rendered": ("报告已生成（renders.jsonl）", "reports rendered (renders.jsonl)"),
    "rec_not_rendered": ('报告未生成：原文："{error}"', "reports not rendered: {error}"),
    "rec_sealed": ("已存入归档索引（防篡改）", "sealed in the archive index"),
    "rec_not_indexed": ('归档索引未更新：原文："{error}"', "archive index not updated: {error}"),
    "rec_shenzhen": ("福田中心、南方中心运行不正常：网关仍留在北京异地灾备中心；待福田中心和南方中心恢复应答后"
                     "再次执行 `drill recover`",
                     "Shenzhen (FT/NF) is not healthy: gateways left on BJ; run `drill recover` "
                     "again once FT and NF answer"),
    "rec_running": ("正在执行 {n} 个恢复步骤", "running {n} restore step(s)"),
    "rec_by_hand": ('以下变更需人工操作，届时将逐项询问：原文："{changes}"',
                    "you will be asked to make these changes by hand: {changes}"),
    "rec_no_fault": ("尚未开始故障注入：无需恢复", "no fault step had started: nothing to restore"),
    "rec_ran": ("已执行恢复阶段（{n} 个步骤）{failed}", "ran the restore phase ({n} step(s)){failed}"),
    "rec_failed_steps": ("；失败：{steps}", "; failed: {steps}"),
    "rec_restored": ("运行状态已恢复", "steady state restored"),
    "rec_not_restored": ("运行状态未恢复：{why}", "steady state NOT restored: {why}"),
    "rec_stale_lock": ("已释放失效的环境锁（{holder}）", "released stale lock of {holder}"),
})

# What `drill recover` journals and says (engine/recover.py, in English: the journal's
# language is fixed), by pattern, in the terminal's language; run ids, paths and numbers kept.
_RECOVER = (
    (r"killed process group (?P<pgid>\d+) \((?P<step>\w+\[\d+\])\)", "rec_killed"),
    (r"no run\.start: nothing to restore", "rec_no_start"),
    (r"journal completed with (?P<n>\d+) record\(s\) from (?P<path>\S+)", "rec_completed"),
    (r"reports rendered \(renders\.jsonl\)", "rec_rendered"),
    (r"reports not rendered: (?P<error>.*)", "rec_not_rendered"),
    (r"sealed in the archive index", "rec_sealed"),
    (r"archive index not updated: (?P<error>.*)", "rec_not_indexed"),
    (r"Shenzhen \(FT/NF\) is not healthy: gateways left on BJ; run `drill recover` again once FT "
     r"and NF answer", "rec_shenzhen"),
    (r"running (?P<n>\d+) restore step\(s\)", "rec_running"),
    (r"you will be asked to make these changes by hand: (?P<changes>.*)", "rec_by_hand"),
    (r"no fault step had started: nothing to restore", "rec_no_fault"),
    (r"ran the restore phase \((?P<n>\d+) step\(s\)\)(?:; failed: (?P<steps>.*))?", "rec_ran"),
    (r"steady state restored", "rec_restored"),
    (r"steady state NOT restored: (?P<why>.*)", "rec_not_restored"),
    (r"released stale lock of (?P<holder>.*)", "rec_stale_lock"),
)


def recover_text(lang: str, text: str) -> str:
    """One of recover's actions or messages (`RUN: action` too) in `lang`; an English text
    no pattern knows is returned as it is."""
    import re

    from orchestrator.model.i18n_terminal import reason_text, step_key

    if lang != "zh":
        return text
    run, sep, rest = text.partition(": ")
    if sep and re.fullmatch(r"\d{8}T\d{6}Z-[\w-]+", run):
        return ADMIN["recover_done"][0].format(run=run, actions=recover_text(lang, rest))
    for pattern, key in _RECOVER:
        m = re.fullmatch(pattern, text)
        if not m:
            continue
        kw = {k: v or "" for k, v in m.groupdict().items()}
        if "step" in kw:
            phase, _, index = kw["step"].partition("[")
            kw["step"] = step_key("zh", phase, int(index.rstrip("]")))
        if key == "rec_ran":
            steps = re.sub(r"\b([a-z]+)\[(\d+)\]", lambda s: step_key("zh", s.group(1), int(s.group(2))),
                           kw.pop("steps"))
            kw["failed"] = ADMIN["rec_failed_steps"][0].format(steps=steps) if steps else ""
        if "why" in kw:
            kw["why"] = reason_text("zh", kw["why"])
        if "holder" in kw:
            kw["holder"] = reason_text("zh", kw["holder"])
        return ADMIN[key][0].format(**kw)
    return reason_text("zh", text)
