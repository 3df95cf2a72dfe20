"""Citing the access specification as an inspector expects: by document, chapter and
article (docs/spec.md, "Citing a clause"). The R-ids stay as anchors in English only.

The seed gives the main document no title of its own; unless the firm names it (inventory
`report.documents`, docs/inventory.md) it is cited descriptively, and the annex by its own
header.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from orchestrator.model.text import Text

SPEC, GUIDE = "spec", "guide"


@dataclass(frozen=True)
class Document:
    """One cited document: its full name (descriptive when it has no title of its own) and
    the short name used in each citation."""

    full: Text
    short: Text

    def to_record(self) -> dict[str, Any]:
        return {"full": self.full.to_record(), "short": self.short.to_record()}


DEFAULT_DOCUMENTS: Mapping[str, Document] = {
    SPEC: Document(
        Text("深证通全国股转系统和北交所交易结算用户接入技术规范",
             "SSCC technical specification for NEEQ and BSE trading and settlement user access"),
        Text("《技术规范》", "Technical Specification")),
    GUIDE: Document(
        Text("《全国股转公司和北交所交易结算异地灾备系统用户接入指引》",
             "NEEQ and BSE trading and settlement remote DR system user access guide"),
        Text("《接入指引》", "DR Access Guide")),
}

# id -> (document, zh location, en location); docs/spec.md's citation table.
_TABLE: dict[str, tuple[str, str, str]] = {
    **{f"R-APP-{n}": (SPEC, f"第二章第{n}条", f"ch. 2, art. {n}") for n in range(1, 8)},
    "R-NET-1": (SPEC, "第三章第1条", "ch. 3, art. 1"),
    "R-NET-2": (SPEC, "第三章第2条", "ch. 3, art. 2"),
    "R-NET-2a": (SPEC, "第三章第2条（带宽）", "ch. 3, art. 2 (bandwidth)"),
    "R-NET-2b": (SPEC, "第三章第2条（三层端口）", "ch. 3, art. 2 (L3 port)"),
    "R-NET-2c": (SPEC, "第三章第2条（卫星备份）", "ch. 3, art. 2 (satellite)"),
    **{f"R-NET-{n}": (SPEC, f"第三章第{n}条", f"ch. 3, art. {n}") for n in range(3, 6)},
    **{f"R-SEC-{n}": (SPEC, f"第四章第{n}条", f"ch. 4, art. {n}") for n in range(1, 4)},
    "R-OPS-1": (SPEC, "第五章第2条", "ch. 5, art. 2"),
    "R-OPS-2": (SPEC, "第五章第3条", "ch. 5, art. 3"),
    "R-OPS-3": (SPEC, "第五章第5条", "ch. 5, art. 5"),
    "R-DR-1": (GUIDE, "一、总体介绍", "part 1"),
    "R-DR-2": (GUIDE, "二、网络接入指引 1", "part 2, item 1"),
    "R-DR-3": (GUIDE, "二、网络接入指引 2", "part 2, item 2"),
    "R-DR-4": (GUIDE, "三、应用接入指引（表1）", "part 3, table 1"),
}
CLAUSES = frozenset(_TABLE)


def documents(overrides: Mapping[str, Any] | None = None) -> dict[str, Document]:
    """The default documents with the firm's names ({spec|guide: {full, short}}) on top."""
    out = dict(DEFAULT_DOCUMENTS)
    for key, raw in (overrides or {}).items():
        if key in out and isinstance(raw, Mapping):
            base = out[key]
            out[key] = Document(Text.of(raw["full"]) if raw.get("full") else base.full,
                                Text.of(raw["short"]) if raw.get("short") else base.short)
    return out


def cite(clause: str, lang: str, docs: Mapping[str, Document] | None = None) -> str:
    """`《技术规范》第三章第1条` in Chinese; `Technical Specification, ch. 3, art. 1 (R-NET-1)`
    in English. An id outside the table is returned as is."""
    entry = _TABLE.get(clause)
    if entry is None:
        return clause
    doc_key, zh, en = entry
    doc = (docs or DEFAULT_DOCUMENTS)[doc_key]
    if lang == "zh":
        return f"{doc.short.zh}{zh}"
    return f"{doc.short.en}, {en} ({clause})"


def cited_documents(clauses: list[str] | tuple[str, ...], lang: str,
                    docs: Mapping[str, Document] | None = None) -> list[str]:
    """`《技术规范》：<full name>` for each document the clauses cite, in table order."""
    docs = docs or DEFAULT_DOCUMENTS
    used = [k for k in (SPEC, GUIDE) if any(_TABLE.get(c, ("",))[0] == k for c in clauses)]
    sep = "：" if lang == "zh" else ": "
    return [f"{docs[k].short.get(lang)}{sep}{docs[k].full.get(lang)}" for k in used]
