"""When two gateway events say the same thing (issue 19, P9).

A settlement gateway reports a test-file transfer every second for the whole hold. Every
figure drill reports reads the first of a run of like transfers, so the tracker's memory
(`probes/monitor.py`) and the journal (`engine/fold.py`) keep that one and count or drop
the rest; both ask this one rule which events are alike."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def like_key(event_type: str, data: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """Two events with the same key (not None) say the same thing; only transfers fold:
    same outcome, same centre."""
    if event_type != "transfer":
        return None
    return (event_type, bool(data.get("ok")), data.get("centre"))
