"""The base of the typed journal records (orchestrator.journal.records, .observations)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Self

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
    # the source a bare time (ns or ISO text) is taken to have, per Stamp field
    _sources: ClassVar[Mapping[str, str]] = {}

    def to_record(self) -> dict[str, Any]:
        return {self._renames.get(f.name, f.name): plain(getattr(self, f.name))
                for f in fields(self)}

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> Self:
        """Leniently, by each field's declared type: a missing field becomes its empty value
        (a missing flag its default) rather than an exception; a field of any other type is
        taken as it stands."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            value = data.get(cls._renames.get(f.name, f.name), f.default if f.type == "bool" else None)
            if f.type == "Stamp | None":
                values[f.name] = stamp_of(value, cls._sources.get(f.name, "engine"))
            else:
                values[f.name] = _READERS.get(str(f.type), _as_is)(value)
        return cls(**values)


def _as_is(value: Any) -> Any:
    return value


# How a field of each declared type is read back (see TypedRecord.from_record).
_READERS: dict[str, Callable[[Any], Any]] = {
    "str": text_of,
    "str | None": opt_text_of,
    "float | None": float_of,
    "int": lambda v: int(v or 0),
    "int | None": lambda v: None if v is None else int(v),
    "bool": bool,
    "bool | None": lambda v: None if v is None else bool(v),
    "Text": Text.of,
    "Mapping[str, Any]": lambda v: dict(v or {}),
    "tuple[str, ...]": lambda v: tuple(str(a) for a in v or ()),
}


def step_key(phase: Any, index: Any) -> str:
    """How other records name a step: `fault[0]`."""
    return f"{phase}[{index}]"
