"""Whole files on the gateway host, for drill's modules (drill_config, drill_files): the
bytes or None, their sha256, and an atomic write (a temporary file in the same folder,
fsync'd, then renamed over the target: a reader sees the old file or the new one)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile


def sha(data):
    return hashlib.sha256(data).hexdigest() if data is not None else None


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


def write_atomic(path, data, mode, owner=None):
    """Write `data` to `path` with `mode`, and `owner` (uid, gid) where allowed."""
    fd, tmp = tempfile.mkstemp(prefix=".drill-", dir=os.path.dirname(path) or ".")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        if owner is not None:
            with contextlib.suppress(PermissionError):
                os.chown(tmp, *owner)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
