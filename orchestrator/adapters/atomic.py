"""Atomic, durable file writes: readers and `drill verify` see the old file or the new one."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def write_atomic(path: Path, data: bytes) -> str:
    """Write `data` to `path` via a temp file, fsync'd before the rename; its SHA-256."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # unique: two writers at once
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return hashlib.sha256(data).hexdigest()
