"""Back-off for every retry loop (forwards, probe reconnects, SSH reconnects).

Each failure doubles the delay before the next attempt, from `first_s` up to `cap_s`; a
success starts again from `first_s`. `describe` says what the loop waits for, so the
operator (and a bastion's owners) see one line per change rather than a flood.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class BackoffPolicy:
    first_s: float = 0.25
    cap_s: float = 5.0
    factor: float = 2.0

    def delay(self, failures: int) -> float:
        """The wait after `failures` consecutive failures (0 after a success)."""
        if failures <= 0:
            return 0.0
        return min(self.cap_s, self.first_s * self.factor ** (failures - 1))


class Backoff:
    """Thread-safe state of one retry loop: when the next attempt may be made."""

    def __init__(self, what: str, policy: BackoffPolicy = BackoffPolicy(),
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.what = what
        self.policy = policy
        self.clock = clock
        self.failures = 0
        self.last_reason = ""
        self._next_at = 0.0
        self._in_flight = False
        self._lock = threading.Lock()

    def ready(self) -> bool:
        """True when an attempt may be made now."""
        with self._lock:
            return self.clock() >= self._next_at

    def begin(self) -> bool:
        """Claim the next attempt: False while backing off, or while failing and another
        thread's attempt is still under way (so concurrent callers make one, not many).
        A claimed attempt ends with `failed` or `succeeded`."""
        with self._lock:
            if self.clock() < self._next_at or (self.failures and self._in_flight):
                return False
            self._in_flight = True
            return True

    def should_say(self) -> bool:
        """Whether the latest failure is worth a line: the first, then at doubling counts."""
        n = self.failures
        return n > 0 and n & (n - 1) == 0

    def remaining_s(self) -> float:
        with self._lock:
            return max(0.0, self._next_at - self.clock())

    def failed(self, reason: str) -> float:
        """Record a failure; the delay before the next attempt."""
        with self._lock:
            self.failures += 1
            self._in_flight = False
            self.last_reason = reason
            delay = self.policy.delay(self.failures)
            self._next_at = self.clock() + delay
            return delay

    def succeeded(self) -> bool:
        """Record a success; True when it ends a run of failures."""
        with self._lock:
            recovered = self.failures > 0
            self.failures, self.last_reason, self._next_at = 0, "", 0.0
            self._in_flight = False
            return recovered

    def describe(self, delay: float | None = None) -> str:
        """`<what>: <reason>; attempt N failed, next in X s (at most one every CAP s)`."""
        d = self.remaining_s() if delay is None else delay
        return (f"{self.what}: {self.last_reason}; attempt {self.failures} failed, next in "
                f"{d:.2f}s (backing off to at most one every {self.policy.cap_s:g}s)")
