"""Which gateway events the journal gets whole, and which it counts (issue 19, P9).

A settlement gateway reports a test-file transfer every second for the whole hold: a
two-hour drill on 200 gateways would journal about half a million of them. Every figure
drill reports reads the first transfer of a run of like ones (the first ok one after a
login or a loss), so the journal keeps that one whole and folds the rest of the run into
`gateway.events_folded` records: how many, first and last stamp and stream number. Each
folded record covers at most FOLD_SPAN_NS, so a run that is killed loses at most that much
of its count. The evidence file `gateway-events.jsonl.gz` still has every event."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from orchestrator.model.like_events import like_key

FOLD_SPAN_NS = 60 * 10**9


@dataclass(frozen=True)
class Folded:
    """Like events of one gateway the journal counted instead of recording."""

    gateway: str
    type: str
    like: Mapping[str, Any]
    count: int
    first_ns: int
    last_ns: int
    first_seq: int | None
    last_seq: int | None


class _Open:
    __slots__ = ("count", "first_ns", "first_seq", "key", "last_ns", "last_seq")

    def __init__(self, key: tuple[Any, ...], ns: int, seq: int | None) -> None:
        self.key, self.count = key, 1
        self.first_ns, self.last_ns, self.first_seq, self.last_seq = ns, ns, seq, seq

    def record(self, gateway: str) -> Folded:
        return Folded(gateway, self.key[0], {"ok": self.key[1], "centre": self.key[2]},
                      self.count, self.first_ns, self.last_ns, self.first_seq, self.last_seq)


class EventFolder:
    """Per gateway: the first event of a run of like ones is journaled, the rest counted.
    Thread-safe: every source's thread offers its events."""

    def __init__(self, span_ns: int = FOLD_SPAN_NS) -> None:
        self._span_ns = span_ns
        self._lead: dict[str, tuple[Any, ...] | None] = {}  # gateway -> key of its last journaled event
        self._open: dict[str, _Open] = {}
        self._lock = threading.Lock()

    def offer(self, gateway: str, event_type: str, data: Mapping[str, Any], ns: int,
              seq: int | None) -> tuple[bool, list[Folded]]:
        """Whether to journal this event whole, and the folded records to journal before it."""
        key = like_key(event_type, data)
        with self._lock:
            run = self._open.get(gateway)
            if key is None or self._lead.get(gateway) != key:  # a change: journaled whole
                self._lead[gateway] = key
                return True, [self._open.pop(gateway).record(gateway)] if run else []
            out = []
            if run is not None and ns - run.first_ns >= self._span_ns:
                out.append(self._open.pop(gateway).record(gateway))
                run = None
            if run is None:
                self._open[gateway] = _Open(key, ns, seq)
            else:
                run.count += 1
                run.last_ns, run.last_seq = ns, seq
            return False, out

    def drain(self) -> list[Folded]:
        """Every open count, as records (the observation stops)."""
        with self._lock:
            out = [run.record(gid) for gid, run in self._open.items()]
            self._open.clear()
            return out
