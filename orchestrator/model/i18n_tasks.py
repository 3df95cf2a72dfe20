"""The Chinese label of every task name in the shipped playbooks (playbooks/**/*.yml).

The live console (engine/progress.py) prints each Ansible task as it finishes, under the
name the playbook gives it; a zh run prints the label here instead. Keyed by the English
task name exactly as written in the playbook (no task name is templated), so renaming a
task means renaming its key: tests/cli/test_zh_terminal.py enumerates every task name under
playbooks/ and fails on one without a label here. A firm's own playbooks keep their own
task names (their text, like a drill step's name). docs/playbooks.md, "Task names".
"""

from __future__ import annotations

TASK_LABELS: dict[str, str] = {
    "Act on the centres through their driver": "通过中心的驱动执行变更",
    "Act on the centres' services through their driver": "通过驱动变更中心服务",
    "Act on the lines through their driver": "通过线路的驱动执行变更",
    "Act on the lines through their router's platform": "按路由器平台执行线路变更",
    "Ask the operator to do it and confirm": "请操作人员执行并确认",
    "Black-hole or restore the centres' service addresses on every line router":
        "在每台线路路由器上屏蔽或恢复中心的服务地址",
    "Black-hole or restore the centres' service addresses on every network line router":
        "在每台网络设备线路路由器上屏蔽或恢复中心的服务地址",
    "Black-hole or restore the services' addresses on every line router":
        "在每台线路路由器上屏蔽或恢复服务地址",
    "Black-hole or restore the services' addresses on every network line router":
        "在每台网络设备线路路由器上屏蔽或恢复服务地址",
    "Change the lab centres": "变更实验环境中心",
    "Change the lab lines": "变更实验环境线路",
    "Change the lab services": "变更实验环境服务",
    "Change the line on its router": "在路由器上变更线路",
    "Check the centres can be failed on Linux": "检查中心可在 Linux 主机上模拟故障",
    "Check the gateways can be driven on Linux": "检查网关可在 Linux 主机上操作",
    "Check the lines can be driven on Linux": "检查线路可在 Linux 主机上操作",
    "Check the lines' platforms": "检查线路所在路由器的平台",
    "Check the request": "检查请求",
    "Check the request against the inventory": "按主机清单（Inventory）检查请求",
    "Check the services can be black-holed by address": "检查服务可按地址屏蔽",
    "Collect through each driver": "通过各驱动收集",
    "Confirm the centre change": "确认中心变更",
    "Confirm the line change": "确认线路变更",
    "Confirm the repoint": "确认主站服务器列表变更",
    "Confirm the service change": "确认服务变更",
    "Copy the lab's configs, logs and status": "复制实验环境的配置、日志和状态",
    "Create the evidence folders": "创建证据材料目录",
    "Cut or restore the lines on the router's CLI": "在路由器命令行中断或恢复线路",
    "Driver checks": "驱动检查",
    "Edit the server entries of each vendor config in place (or restore its backup)":
        "就地修改各厂商网关配置中的主站服务器条目（或恢复其备份）",
    "Every gateway asked about runs in the lab": "所查询的网关均在实验环境中运行",
    "Every gateway is logged in where expected (monitor /status, all at once)":
        "全部网关均已在预期中心登录（读取监控接口，同时检查）",
    "Fetch each gateway's config": "获取各网关配置",
    "Fetch the part of each gateway's log the run wrote": "获取各网关日志中本次演练期间写入的部分",
    "Cut each host's gateway logs": "在各主机上截取网关日志",
    "Fetch the cuts": "获取截取的日志",
    "Say which bytes each copy holds": "记录各日志副本对应的字节范围",
    "Remove the cuts from the hosts": "删除主机上的日志截取副本",
    "No driver checks for manual gateways": "人工操作的网关无驱动检查",
    "Read each line's interface on its router's CLI": "在路由器命令行读取每条线路的接口",
    "Read links and routes on the routers and gateway hosts": "读取路由器及网关主机的链路和路由",
    "Read the lab status": "读取实验环境状态",
    "Record when the change took effect (the confirmation)": "记录变更生效时间（以确认时间为准）",
    "Redact passwords, hash every collected file and write the manifest":
        "隐去口令，计算每个收集文件的哈希并写入清单",
    "Render the server lists and restart the lab gateways": "生成主站服务器列表并重启实验环境网关",
    "Render, install and restart through the driver": "通过驱动生成、安装配置并重启",
    "Restart this host's gateway services (one after another, in one session)":
        "重启本主机的网关服务（逐个重启，在同一会话中）",
    "Show the change a person would make (check mode)": "显示需人工执行的变更（检查模式）",
    "Store the routes": "保存路由",
    "The diff of each vendor config into the run's evidence": "各厂商网关配置的差异存入本次演练的证据材料",
    "The evidence folder of each vendor config's diff": "各厂商网关配置差异的证据材料目录",
    "The gateway service is active": "网关服务运行中",
    "The operator confirmed": "操作人员已确认",
    "The sha256 of each vendor config before and after (journal)":
        "各厂商网关配置变更前后的 SHA-256（记入操作日志）",
    "This host's gateways, through their driver": "通过驱动处理本主机的网关",
    "Wait until each gateway is logged in at one of its new servers (all at once)":
        "等待各网关在其新主站服务器之一登录（同时等待）",
    "Write this host's lab gateway server lists (lab-xml, one module call)":
        "写入本主机各实验环境网关的主站服务器列表（实验环境格式，一次模块调用）",
    "Work out every gateway's server list (once)": "计算每个网关的主站服务器列表（一次）",
    "Write down what must be collected by hand": "记下需人工收集的材料",
}


def task_label(name: str, lang: str) -> str:
    """The task's name in `lang`: the zh label of a shipped task, else its own name."""
    return TASK_LABELS.get(name, name) if lang == "zh" else name
