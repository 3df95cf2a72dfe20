"""The base of the typed journal records (orchestrator.journal.records, .observations)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar

from orchestrator.model.stamp import Stamp
from orchestrator.model.text import Text

NO_TEXT = Text("", "")


def plain(value: Any) -> Any:
    if hasattr(value, "to_record"):
        return value.to_record()
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):  # an engine event may hold a set
        return [plain(v) for v in value]
    return value


def text_of(value: Any) -> str:
    return "" if value is None else str(value)


def float_of(value: Any) -> float | None:
    return None if value is None else float(value)


def stamp_of(value: Any, source: str = "engine") -> Stamp | None:
    return Stamp.of(value, source)


def opt_text_of(value: Any) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class TypedRecord:
    """Base: `kind` names the record kind; `_renames` maps a field to its journal key.

    `sync`: a record that announces an action is fsync'd before the action takes effect;
    an observation may share a later fsync (Journal.append(..., sync=False))."""

    kind: ClassVar[str] = ""
    sync: ClassVar[bool] = True
    _renames: ClassVar[Mapping[str, str]] = {}

    def to_record(self) -> dict[str, Any]:
        return {self._renames.get(f.name, f.name): plain(getattr(self, f.name))
                for f in fields(self)}


def step_key(phase: Any, index: Any) -> str:
    """How other records name a step: `fault[0]`."""
    return f"{phase}[{index}]"
