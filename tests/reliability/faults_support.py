"""What the mid-drill fault tests share (issue 18): root-only filesystems and the checks
every fault case ends with."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import in_ci, require_tool


def require_root() -> None:
    """Mounting a filesystem needs root: CI is root, so there a non-root run fails."""
    if os.geteuid() != 0:
        if in_ci():
            pytest.fail("this test mounts a small tmpfs and needs root")
        pytest.skip("this test mounts a small tmpfs and needs root")


@contextlib.contextmanager
def tmpfs(where: Path, size: str = "4m", options: str = "") -> Iterator[Path]:
    """A small tmpfs mounted at `where` for the block, unmounted after (lazily if busy)."""
    require_root()
    mount = require_tool("mount")
    where.mkdir(parents=True, exist_ok=True)
    opts = f"size={size},mode=0755" + (f",{options}" if options else "")
    subprocess.run([mount, "-t", "tmpfs", "-o", opts, "tmpfs", str(where)], check=True, timeout=30)
    try:
        yield where
    finally:
        umount = require_tool("umount")
        if subprocess.run([umount, str(where)], timeout=30).returncode != 0:
            subprocess.run([umount, "-l", str(where)], timeout=30)


def fill(folder: Path) -> Path:
    """Fill the filesystem holding `folder` to the last byte; the filler file's path."""
    filler = folder / "filler.bin"
    chunk = b"\0" * 65536
    with open(filler, "wb", buffering=0) as fh:
        while True:
            try:
                fh.write(chunk)
            except OSError:
                break
        for size in (4096, 512, 1):  # the last partial blocks too
            while True:
                try:
                    fh.write(b"\0" * size)
                except OSError:
                    break
    return filler
