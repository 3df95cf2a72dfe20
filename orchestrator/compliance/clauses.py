"""The rows `drill check` prints: one per clause and part (static or live)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Union


class Status(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    NOT_TESTED = "not tested"  # drill could not read or judge it; never counted as a pass


ARCHIVE = "DRILL-ARCHIVE"  # the row for drill's own archive retention (`retention_days`)

# Clause titles as printed in the check table (zh reads as the ops team writes it).
TITLES: dict[str, tuple[str, str]] = {
    "R-NET-1": ("两家不同运营商线路分别接入福田、南方中心", "two carriers, lines into both FT and NF"),
    "R-NET-2a": ("线路带宽不低于 2 Mbps", "every line at least 2 Mbps"),
    "R-NET-2b": ("接入端口为路由（三层）端口", "routed (L3) ports only"),
    "R-NET-2c": ("单向卫星备份行情", "one-way satellite backup for market data"),
    "R-APP-3": ("接入终端配置两个中心的通信服务器地址", "every gateway lists both centres"),
    "R-APP-5": ("网关不得重复登录", "no gateway logs in twice"),
    "R-DR-2": ("卫星用户不接入北京异地灾备", "satellite users excluded from Beijing DR"),
    "R-SEC-2": ("互联网络设备和接入终端的日志保存不少于一年",
                "network devices' and gateways' logs kept at least one year"),
    # not a clause: drill's own archive of drill runs (this project's extension of R-SEC-2)
    ARCHIVE: ("演练记录保存期限不少于一年（本工具自身归档）", "drill's own run archive kept at least one year"),
}


# Evidence as data: a message key (model/i18n_check.py) with its arguments, rendered in
# either language at the edge; English is the `evidence` string (JSON and the en table).
Arg = Union[str, "Msg", "Seq", "Raw"]


@dataclass(frozen=True)
class Msg:
    key: str
    args: tuple[tuple[str, Arg], ...] = ()

    def render(self, lang: str) -> str:
        from orchestrator.model.i18n import LABELS

        zh, en = LABELS[self.key]
        return (zh if lang == "zh" else en).format(**{k: render(v, lang) for k, v in self.args})


@dataclass(frozen=True)
class Seq:
    """Items joined: `; ` and `, ` become the Chinese `；` and `、` in zh."""

    items: tuple[Arg, ...]
    sep: str = "; "
    empty: Arg = ""

    def render(self, lang: str) -> str:
        if not self.items:
            return render(self.empty, lang)
        sep = {"; ": "；", ", ": "、"}.get(self.sep, self.sep) if lang == "zh" else self.sep
        return sep.join(render(i, lang) for i in self.items)


@dataclass(frozen=True)
class Raw:
    """A host's, device's or library's own text: as it came; in zh quoted after 原文："""

    text: str

    def render(self, lang: str) -> str:
        if lang != "zh":
            return self.text
        from orchestrator.model.i18n import LABELS

        return LABELS["cc_raw"][0].format(text=self.text)


def msg(key: str, **kw: Arg) -> Msg:
    return Msg(key, tuple(kw.items()))


def seq(items, sep: str = "; ", empty: Arg = "") -> Seq:
    return Seq(tuple(items), sep, empty)


def render(arg: Arg, lang: str) -> str:
    return arg if isinstance(arg, str) else arg.render(lang)


def service(name: str) -> Arg:
    """A service's name: its label when it has one (svc_trading), else the id."""
    from orchestrator.model.i18n import LABELS

    return msg(f"cc_svc_{name}") if f"cc_svc_{name}" in LABELS else name


@dataclass(frozen=True)
class CheckRow:
    clause: str          # an id from docs/spec.md
    part: str            # static | live
    status: Status
    evidence: str        # what was looked at and what was found
    # R-SEC-2 live rows: the host judged, the fewest days any of its logs is kept, the
    # settings files read, and each log's (log, status, days); days None: not known
    host: str | None = None
    days: int | None = None
    read: tuple[str, ...] = ()
    logs: tuple[tuple[str, str, int | None], ...] = ()
    message: Msg | None = None  # the evidence as data; None: `evidence` is shown as it is

    def evidence_in(self, lang: str) -> str:
        """The evidence column in `lang` (English: `evidence`, as in JSON)."""
        if lang != "zh" or self.message is None:
            return self.evidence
        return self.message.render(lang)

    def status_in(self, lang: str) -> str:
        from orchestrator.model.i18n import LABELS

        return LABELS["cc_status_" + self.status.name.lower()][0 if lang == "zh" else 1]

    def title(self, lang: str = "en") -> str:
        zh, en = TITLES.get(self.clause, (self.clause, self.clause))
        return zh if lang == "zh" else en

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"clause": self.clause, "part": self.part, "status": str(self.status),
                                  "title": self.title("en"), "title_zh": self.title("zh"),
                                  "evidence": self.evidence}
        if self.host is not None:
            out.update(host=self.host, days=self.days, read=list(self.read),
                       logs=[{"log": log, "status": st, "days": d} for log, st, d in self.logs])
        return out


@dataclass(frozen=True)
class CheckReport:
    environment: str
    inventory: str
    rows: tuple[CheckRow, ...]
    language: str | None = None  # the inventory's environment.language (read once: P10)
    warnings: tuple[str, ...] = ()  # in drill's English; not clauses, never a failure

    @property
    def ok(self) -> bool:
        return all(r.status is not Status.FAIL for r in self.rows)

    def failed(self) -> list[str]:
        return sorted({r.clause for r in self.rows if r.status is Status.FAIL})

    def to_json(self) -> dict[str, object]:
        return {"environment": self.environment, "inventory": self.inventory, "ok": self.ok,
                "failed": self.failed(), "rows": [r.to_json() for r in self.rows],
                "warnings": list(self.warnings)}


def row(clause: str, part: str, status: Status, message: Msg, **kw) -> CheckRow:
    """A row whose evidence is a message: its English is `evidence`, rendered once here."""
    return CheckRow(clause=clause, part=part, status=status, evidence=message.render("en"),
                    message=message, **kw)
