"""The bus that carries the engine's events to observers (docs/events.md).

An event is a typed journal record (orchestrator.journal.records): the engine emits the
very record the journal holds, so there is one set of record types for writer and readers.

The journal handler is registered first with `critical=True`: it runs synchronously and
its failure stops the run (a drill must not go on unjournaled). Any other handler that
raises is logged and detached; it never breaks the run.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from orchestrator.journal.record_base import TypedRecord

log = logging.getLogger(__name__)

Event = TypedRecord
Handler = Callable[[Event], None]


class EventBus:
    """Delivers each event to every handler in order, one event at a time."""

    def __init__(self) -> None:
        self._handlers: list[tuple[Handler, bool]] = []
        self._lock = threading.RLock()

    def subscribe(self, handler: Handler, *, critical: bool = False) -> None:
        with self._lock:
            self._handlers.append((handler, critical))

    def unsubscribe(self, handler: Handler) -> None:
        with self._lock:
            self._handlers = [(h, c) for h, c in self._handlers if h is not handler]

    def emit(self, event: Event) -> None:
        with self._lock:
            for handler, critical in list(self._handlers):
                if critical:
                    handler(event)
                    continue
                try:
                    handler(event)
                except Exception:  # an observer must never break the run
                    log.exception("event handler %r failed; detached", handler)
                    self.unsubscribe(handler)


class JournalHandler:
    """Writes each event to the journal, redacted, fsync'd when the event announces an action."""

    def __init__(self, journal, redactor=None) -> None:
        self.journal = journal
        self.redactor = redactor

    def __call__(self, event: Event) -> None:
        data = event.to_record()
        if self.redactor is not None:
            data = self.redactor(data)
        self.journal.append(event.kind, data, sync=event.sync)
