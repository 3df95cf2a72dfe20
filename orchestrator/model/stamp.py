"""Times that name their source: the journal's timestamp object (docs/journal.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


def iso_ns(ns: int) -> str:
    """UTC ISO-8601 with nanoseconds: 2026-11-25T11:15:00.123456789Z."""
    secs, frac = divmod(ns, 1_000_000_000)
    return datetime.fromtimestamp(secs, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{frac:09d}Z"


def parse_iso_ns(text: str) -> int:
    """Inverse of iso_ns; accepts 0-9 fractional digits."""
    base, _, frac = text.rstrip("Z").partition(".")
    dt = datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    return int(dt.timestamp()) * 1_000_000_000 + int((frac or "0").ljust(9, "0")[:9])


def stamp_record(ns: int, source: str, uncertainty_ms: float = 0.0) -> dict[str, Any]:
    """A timestamp object: {t, ns, source, uncertainty_ms}."""
    return {"t": iso_ns(ns), "ns": ns, "source": source, "uncertainty_ms": uncertainty_ms}


@dataclass(frozen=True)
class Stamp:
    """A time that names its source and uncertainty."""

    ns: int
    source: str
    uncertainty_ms: float = 0.0

    def to_record(self) -> dict[str, Any]:
        return stamp_record(self.ns, self.source, self.uncertainty_ms)

    @classmethod
    def of(cls, value: Any, default_source: str = "engine") -> Stamp | None:
        """From a timestamp object, ns, or ISO text; None for a missing time."""
        if value is None or value == "":
            return None
        if isinstance(value, Mapping):
            ns = value.get("ns")
            if ns is None and value.get("t"):
                ns = parse_iso_ns(str(value["t"]))
            if ns is None:
                return None
            return cls(int(ns), str(value.get("source") or default_source),
                       float(value.get("uncertainty_ms") or 0.0))
        if isinstance(value, int | float):
            return cls(int(value), default_source, 0.0)
        return cls(parse_iso_ns(str(value)), default_source, 0.0)
