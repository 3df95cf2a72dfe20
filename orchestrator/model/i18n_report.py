"""Labels of the 演练报告's own sections (orchestrator/reports/sections.py), in Chinese and
English; part of the one vocabulary in orchestrator/model/i18n.py (LABELS), kept apart so
that file stays small. Chinese follows docs/glossary.md."""

from __future__ import annotations

# key: (zh, en)
REPORT_LABELS: dict[str, tuple[str, str]] = {
    # The 演练报告's own sections (orchestrator/reports/sections.py, docs/reports.md).
    "sec_purpose": ("一、演练目的", "1. Purpose"),
    "sec_scenario": ("二、演练场景", "2. Scenario"),
    "sec_plan": ("三、对应应急预案", "3. Emergency plan exercised"),
    "sec_organisation": ("四、组织分工", "4. Organisation and roles"),
    "sec_method": ("五、演练方式", "5. Method"),
    "sec_impact": ("六、业务影响", "6. Business impact"),
    "sec_evaluation": ("七、评估结论", "7. Evaluation conclusion"),
    "sec_problems": ("八、问题及原因分析", "8. Problems and root cause"),
    "sec_followup_n": ("九、整改措施及后续跟进事项", "9. Follow-up actions"),
    "sec_signoff_n": ("十、签字确认", "10. Sign-off"),
    "sec_details": ("附：演练过程记录", "Annex: the drill as recorded"),
    "no_purpose": ("演练文件未写明演练目的。", "The drill file states no purpose."),
    "plan_id": ("预案编号", "Plan document id"),
    "plan_version": ("预案版本", "Plan version"),
    "plan_title": ("预案名称", "Plan title"),
    "plan_missing": ("未登记（请在主机清单（Inventory）中登记应急预案编号及版本）",
                     "not recorded (set report.plan in the inventory)"),
    "cited_documents": ("引用文件", "Documents cited"),
    "org_commander": ("演练总指挥", "Commander"),
    "org_network": ("网络组", "Network team"),
    "org_operations": ("运维组", "Operations team"),
    "org_observers": ("观察员", "Observers"),
    "org_missing": ("未登记", "not recorded"),
    "method_counts": ("共 {total} 个步骤：自动化执行 {auto} 个，人工执行 {manual} 个。",
                      "{total} steps: {auto} automated, {manual} manual."),
    "method_tool": ("自动化步骤由演练工具通过自动化脚本（Ansible Playbook）执行，人工步骤由操作人员执行并逐项确认。",
                    "Automated steps ran as Ansible playbooks driven by drill; manual steps were done "
                    "by people and acknowledged one by one."),
    "impact_none": ("演练期间未观测到业务中断。", "No service interruption was observed."),
    "impact_window": ("业务影响时段：{start} 至 {end}。", "Services were affected from {start} to {end}."),
    "on_path": ("故障路径上", "on the failed path"),
    "off_path": ("非故障路径", "off the failed path"),
    "not_restored": ("未恢复", "not restored"),
    "conclusion": ("评估结论", "Conclusion"),
    "conc_met": ("达标", "MET"),
    "conc_not_met": ("未达标", "NOT MET"),
    "conc_partly_untested": ("部分未测", "PARTLY UNTESTED"),
    "reasons": ("依据", "Reasons"),
    "conclusion_auto": ("由演练结果自动判定，尚待评审确认（drill review）。",
                        "Mapped from the run's verdict; not yet reviewed (drill review)."),
    "conclusion_reviewed": ("{by} 于 {at} 评审确认。", "Reviewed by {by} at {at}."),
    "reason_failed": ("目标未达成：{objective}", "objective missed: {objective}"),
    "reason_not_tested": ("目标未测：{objective}", "objective not tested: {objective}"),
    "reason_restore": ("恢复步骤未全部成功", "restore did not complete"),
    "reason_after": ("演练后状态复核未通过", "the after-check failed"),
    "verdict_map": ("演练结果与评估结论的对应：通过 → 达标；未通过、已中止、未启动 → 未达标；无法判定 → 部分未测。",
                    "Verdict to conclusion: passed → met; failed, aborted, refused → not met; "
                    "inconclusive → partly untested."),
    "root_cause": ("原因分析", "Root cause"),
    "root_cause_missing": ("尚未填写（评审时填写）。", "Not yet recorded (at review)."),
    "problems_none": ("未发现问题。", "No problems were found."),
    "followup_id": ("编号", "Id"),
    "followup_state": ("状态", "State"),
    "followup_open": ("未关闭", "open"),
    "followup_closed": ("已关闭：{by} 于 {at}，{how}", "closed by {by} at {at}: {how}"),
    "closed_here": ("本次评审关闭的既往事项", "Earlier follow-ups closed in this review"),
    "signed_at": ("签字时间", "Signed at"),
    "cutover_context": ("深证通承接时限（参考）", "SSCC's takeover commitment (context)"),
    "cutover_context_value": ("深证通在 D+3 日内承接（{cite}）；此为深证通的承诺，不作为本公司切换时长的评判依据。",
                              "SSCC takes over within D+3 ({cite}); SSCC's commitment, not a limit "
                              "on the firm's cutover."),
    "task_ok": ("成功", "ok"),
    "task_changed": ("已变更", "changed"),
    "task_failed": ("失败", "failed"),
    "task_skipped": ("已跳过", "skipped"),
    "task_unreachable": ("主机不可达", "unreachable"),
    "raw_note": ("（工具原始信息）", "(tool's own message)"),
    "ms_unit": ("毫秒", "ms"),
    "not_evidence": ("实验环境，不作为报送依据。", "Lab environment: not evidence for filing."),
    "not_evidence_test": ("测试环境，不作为报送依据。", "Test environment: not evidence for filing."),
    "not_evidence_rehearsal": ("预演，不作为报送依据。", "Rehearsal: not evidence for filing."),
    "list_join": ("、", ", "),
    "pv_blackhole": ("路由黑洞", "blackhole route"),
    "pv_shutdown": ("端口关闭", "interface shutdown"),
    "target_rto": ("各业务恢复时间目标（RTO）", "each service's RTO"),
    # Predicted beside measured (issue 19; orchestrator/reports/model.py much_longer).
    "predicted": ("预计中断时长", "Predicted"),
    "predicted_low": ("预计最短中断时长（秒）", "Predicted low (s)"),
    "predicted_high": ("预计最长中断时长（秒）", "Predicted high (s)"),
    "predicted_basis": ("预计依据", "Prediction basis"),
    "predicted_unbounded": ("不受定时参数约束", "not bounded by its settings"),
    "much_longer": ("明显超出预计", "much longer than predicted"),
    "prediction_rule": ("实测中断时长超过预计最长中断时长的 {factor} 倍再加 {margin} 秒，即标注为“明显超出预计”；"
                        "预计值由网关的心跳、超时与重连参数推算，演练开始前写入操作日志。",
                        "A measured interruption above {factor} × the predicted upper bound plus "
                        "{margin} s is marked “much longer than predicted”; the prediction follows "
                        "from the gateway's heartbeat, timeout and reconnect settings and is "
                        "journaled before the drill starts."),
    # Files for other tools (CSV tables, the Markdown's linked activity log).
    "on_failed_path": ("是否在故障路径上", "On the failed path"),
    "field": ("项目", "Field"),
    "picture_elsewhere": ("时间线图见网页版及打印版报告。", "The picture is in the HTML and PDF reports."),
    "objective_id": ("目标编号", "Objective id"),
    "value": ("内容", "Value"),
    "log_linked": ("操作日志共 {n} 条记录，见同目录下的 {file}（由 journal.jsonl 生成）；"
                   "原始记录即 journal.jsonl。",
                   "The activity log ({n} records) is in {file} beside this report (made from "
                   "journal.jsonl); the raw records are journal.jsonl."),
}
