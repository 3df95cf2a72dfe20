"""An objective's detail in the report's language. The journal keeps the engine's English
detail (`objective.detail`); a Chinese report says the same from the objective's own
fields and the gateways the detail names, never the English text (docs/glossary.md)."""

from __future__ import annotations

import re

from orchestrator.journal.records import Objective
from orchestrator.model.i18n import LABELS, Locale
from orchestrator.model.run import FAILED, NOT_APPLICABLE, NOT_TESTED, PASSED
from orchestrator.reports.model import RunView

_ZH: dict[tuple[str, str], str] = {
    ("rto", PASSED): "故障路径上 {n} 个网关均在目标值 {target} 内恢复",
    ("rto", FAILED): "超过目标值或未恢复：{gateways}",
    ("rto", NOT_TESTED): "监控数据中断，未能测得中断时长：{gateways}",
    ("rto", NOT_APPLICABLE): "本次演练故障路径上没有该业务的网关",
    ("expected", PASSED): "按演练预期发生中断：{gateways}",
    ("expected", FAILED): "预期中断超过目标值或未恢复：{gateways}",
    ("expected", NOT_TESTED): "监控数据中断，未能测得中断时长：{gateways}",
    ("expected", NOT_APPLICABLE): "本次演练故障路径上没有该业务的网关",
    ("unexpected", FAILED): "演练文件既未列出该业务，也未声明其预期中断，但该业务发生中断：{gateways}",
    ("unaffected_no_interruption", PASSED): "非故障路径上 {n} 个网关均无中断",
    ("unaffected_no_interruption", FAILED): "非故障路径上的网关发生中断：{gateways}",
    ("unaffected_no_interruption", NOT_TESTED): "监控数据中断，未能确认：{gateways}",
    ("failback", PASSED): "{n} 个网关已回切至主用中心",
    ("failback", FAILED): "未按时回切：{gateways}",
    ("failback", NOT_TESTED): "监控数据中断，未能测量回切：{gateways}",
    ("no_double_login", PASSED): "演练期间同一网关号始终最多一个会话（服务端（深证通）会话表）",
    ("no_double_login", FAILED): "出现重复登录：{gateways}",
    ("no_double_login", NOT_TESTED): "未能读取服务端（深证通）会话表，无法判断是否重复登录",
    ("failover_exercised", PASSED): "故障路径上有 {n} 个网关",
    ("failover_exercised", NOT_TESTED): "故障路径上没有网关，本次演练未触发切换",
    ("cutover", FAILED): "网关未全部切换至异地灾备中心",
    ("cutover.firm", PASSED): "切换时长在本公司目标内",
    ("cutover.firm", FAILED): "切换时长超过本公司目标",
    ("cutover.limit", PASSED): "深证通 D+3 承接时限，仅作参考，不作为评判依据",
    ("cutover.limit", FAILED): "深证通 D+3 承接时限，仅作参考，不作为评判依据",
    ("cutover.limit", NOT_APPLICABLE): "深证通 D+3 承接时限，仅作参考，不作为评判依据",
}
_GENERIC = {PASSED: "已达成", FAILED: "未达成", NOT_APPLICABLE: "不适用", NOT_TESTED: "未测"}


def _family(name: str) -> str:
    if name.startswith("cutover"):
        return name
    head = name.split(".", 1)[0]
    return head


def objective_detail(o: Objective, run: RunView, loc: Locale) -> str:
    """The objective's detail: the journal's text in English; in Chinese, built from the
    objective's name, state, target and the gateways its detail names."""
    if loc.lang != "zh":
        return o.detail
    name = o.name
    head, _, tail = name.partition(".")
    if tail == "rto":  # an older journal's `trading.rto`
        name = f"rto.{head}"
    family = _family(name)
    template = _ZH.get((family, o.verdict)) or _GENERIC.get(o.verdict, "")
    gateways = [g.id for g in run.topology.gateways if g.id in (o.detail or "")]
    gateways += sorted({m.gateway for m in run.measures if m.gateway in (o.detail or "")} - set(gateways))
    service = name.split(".", 1)[1] if "." in name and family in ("rto", "expected", "unexpected") else ""
    if not gateways and family == "rto" and o.verdict == FAILED:
        gateways = sorted({m.gateway for m in run.measures if m.service == service
                           and m.phase == "failover" and m.passed is False})
    if family == "failover_exercised":
        n = o.measured if isinstance(o.measured, int) else len(gateways)
    elif family == "rto":
        n = sum(1 for m in run.measures if m.service == service and m.affected and m.phase == "failover")
    elif family == "unaffected_no_interruption":
        n = sum(1 for m in run.measures if not m.affected and m.phase == "failover")
    elif family == "failback":
        n = sum(1 for m in run.measures if m.phase == "failback")
    else:
        n = len(gateways)
    target = target_text(o.target, name, loc)
    if family in ("expected", "unexpected"):
        # The detail names each gateway with its interruption: `W00004JS (4.200s)`.
        found = dict(re.findall(r"(\S+) \((not restored|[0-9.]+)s?\)", o.detail or ""))
        shown = [f"{g}（{'未恢复' if found[g] == 'not restored' else loc.seconds(float(found[g]))}）"
                 if g in found else g for g in gateways]
    else:
        shown = gateways
    if n == 0 and (family, o.verdict) == ("unaffected_no_interruption", PASSED):
        return "本次演练所有网关均在故障路径上"
    return template.format(n=n, target=target, gateways="、".join(shown) or "—")


_BOUND = re.compile(r"^(<=|>=|<|>)?\s*([0-9.]+)\s*s$")
_BOUND_ZH = {"<=": "≤ ", ">=": "≥ ", "<": "< ", ">": "> ", None: ""}


def target_text(value: object, name: str, loc: Locale) -> str:
    """An objective's target: seconds for time objectives; `rto` (each service's RTO) and
    an older journal's `<= 30 s` in the report's language."""
    if value == "rto":
        return loc("target_rto")
    head, _, tail = name.partition(".")
    if tail == "rto":
        name = f"rto.{head}"
    if isinstance(value, str) and loc.lang == "zh":
        m = _BOUND.match(value.strip())
        if m:
            return _BOUND_ZH[m.group(1)] + loc.seconds(float(m.group(2)))
    return loc.value(value, name)


def objective_label(name: str, loc: Locale) -> str:
    """An objective's name as the report says it; an older journal's `trading.rto` reads as
    `rto.trading`."""
    if f"obj_{name}" in LABELS:
        return loc(f"obj_{name}")
    head, _, tail = name.partition(".")
    if tail == "rto" and f"obj_rto.{head}" in LABELS:
        return loc(f"obj_rto.{head}")
    return name
