"""The run folder's gzip JSON-lines evidence (probe samples, gateway events): one writer,
one reader. Compressed because a long hold repeats the same lines for hours (issue 19, P9);
flushed by the first write FLUSH_S or more after the last flush, so a killed run loses at
most the lines of one FLUSH_S span (however long ago, when nothing was written after them)."""

from __future__ import annotations

import contextlib
import gzip
import json
import threading
import time
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

FLUSH_S = 1.0


class GzipLines:
    """Appends JSON records from any thread; a full disk stops the file, never the caller."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh = gzip.open(path, "at", encoding="utf-8")  # noqa: SIM115 - open for the run
        self._lock = threading.Lock()
        self._flushed = time.monotonic()
        self.count = 0
        self.error: OSError | None = None  # why the file stopped, if it did

    def write(self, record: Mapping[str, Any]) -> None:
        line = json.dumps(record, separators=(",", ":")) + "\n"
        with self._lock:
            if self._fh.closed:
                return
            try:
                self._fh.write(line)
                if time.monotonic() - self._flushed >= FLUSH_S:
                    self._fh.flush()
                    self._flushed = time.monotonic()
            except OSError as e:  # the disk is full: the file stops there, the run goes on
                self.error = e
                with contextlib.suppress(OSError):
                    self._fh.close()
                return
            self.count += 1

    def close(self) -> None:
        with self._lock:
            if not self._fh.closed:
                self._fh.close()


def read_lines(path: Path) -> Iterator[dict[str, Any]]:
    """Every whole record, in order; a tail cut off by a killed run or a full disk ends
    the file (it is what was written)."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        try:
            for line in fh:
                if line.endswith("\n"):
                    yield json.loads(line)
        except (EOFError, zlib.error, gzip.BadGzipFile):
            return
