"""The rows `drill check` prints: one per clause and part (static or live)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


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

    @property
    def ok(self) -> bool:
        return all(r.status is not Status.FAIL for r in self.rows)

    def failed(self) -> list[str]:
        return sorted({r.clause for r in self.rows if r.status is Status.FAIL})

    def to_json(self) -> dict[str, object]:
        return {"environment": self.environment, "inventory": self.inventory, "ok": self.ok,
                "failed": self.failed(), "rows": [r.to_json() for r in self.rows]}
