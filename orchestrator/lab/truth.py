"""The ground-truth log (`truth.jsonl`), written only by the lab's network and exchange side."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from orchestrator.journal.chain import iso_ns


class TruthLog:
    """Appends one JSON object per event; flushed at once so readers see it immediately."""

    def __init__(self, path: Path):
        self._fh = open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115

    def write(self, source: str, type_: str, ts_ns: int | None = None, **fields: Any) -> int:
        ns = time.time_ns() if ts_ns is None else ts_ns
        rec = {"ts": iso_ns(ns), "ts_ns": ns, "source": source, "type": type_, **fields}
        self._fh.write(json.dumps(rec, separators=(",", ":")) + "\n")
        return ns

    def close(self) -> None:
        self._fh.close()


def read_truth(path: Path | str) -> list[dict[str, Any]]:
    out = []
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return out
    for line in text.splitlines():
        if line.endswith("}"):
            out.append(json.loads(line))
    return out
