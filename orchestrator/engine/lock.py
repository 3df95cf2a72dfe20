"""One drill per environment: `$DRILL_HOME/locks/<environment>.lock`.

Created with O_EXCL and held with fcntl.flock for the life of the run. A holder that died
(SIGKILL, power loss) leaves the file without the flock: that is a stale lock, reported and
never silently broken; `drill recover` releases it after restoring the environment.
"""

from __future__ import annotations

import fcntl
import getpass
import json
import os
import socket
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from orchestrator.adapters.procgroup import pid_alive
from orchestrator.errors import RefusedError
from orchestrator.journal.chain import iso_ns


@dataclass(frozen=True)
class Holder:
    run_id: str
    user: str
    host: str
    pid: int
    since: str

    def describe(self) -> str:
        return (f"run {self.run_id} by {self.user}@{self.host} (pid {self.pid}) "
                f"since {self.since}")


def lock_path(home: Path, environment: str) -> Path:
    return Path(home) / "locks" / f"{environment}.lock"


def read_holder(path: Path) -> Holder | None:
    try:
        raw = json.loads(path.read_text())
        return Holder(str(raw["run_id"]), str(raw["user"]), str(raw["host"]), int(raw["pid"]),
                      str(raw["since"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _held(path: Path) -> bool:
    """True when a live process holds the flock on the lock file."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def is_stale(path: Path) -> bool:
    if not path.exists():
        return False
    if _held(path):
        return False
    holder = read_holder(path)
    # Being created right now by a live process that has not flocked yet: not stale.
    if holder is None:
        return not _recent(path)
    return not ( holder.host == socket.gethostname() and holder.pid != os.getpid()
                and pid_alive(holder.pid) and _recent(path))


def _recent(path: Path) -> bool:
    try:
        return time.time() - path.stat().st_mtime < 5
    except OSError:
        return False


class EnvironmentLock:
    def __init__(self, home: Path, environment: str) -> None:
        self.environment = environment
        self.path = lock_path(home, environment)
        self._fd: int | None = None
        self.holder: Holder | None = None

    def acquire(self, run_id: str) -> Holder:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        holder = Holder(run_id, getpass.getuser(), socket.gethostname(), os.getpid(),
                        iso_ns(time.time_ns()))
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            raise self.refusal() from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.write(fd, json.dumps(asdict(holder)).encode() + b"\n")
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            self.path.unlink(missing_ok=True)
            raise
        self._fd, self.holder = fd, holder
        return holder

    def refusal(self) -> RefusedError:
        current = read_holder(self.path)
        who = current.describe() if current else "an unknown holder (unreadable lock file)"
        if is_stale(self.path):
            return RefusedError(
                f"environment {self.environment!r} has a stale lock from {who}: that run died "
                f"without finishing. Run `drill recover` to restore the environment and release "
                f"it ({self.path}).")
        return RefusedError(f"environment {self.environment!r} is locked by {who} ({self.path})")

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> EnvironmentLock:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def writable_or_refuse(folder: Path, what: str, why: str) -> None:
    """Refuse (exit 4) before anything starts when `folder` cannot be written (a read-only
    `DRILL_HOME`, a reports folder on a read-only mount). Probed with a file created and
    removed at once in the folder or, when it does not exist yet, its nearest existing
    parent (nothing is created), so that the refusal names the folder and the cause."""
    folder = Path(folder).absolute()
    where = next((p for p in (folder, *folder.parents) if p.exists()), folder)
    probe = where / f".drill-write-probe-{os.getpid()}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        probe.unlink()
    except OSError as e:
        reason = e.strerror or type(e).__name__
        raise RefusedError(f"{what} {folder} is not writable ({reason} at {where}): drill "
                           f"keeps {why} there; nothing was started") from None


def break_stale(home: Path, environment: str) -> Holder | None:
    """Remove a stale lock (only `drill recover`, after restoring). Never a live one."""
    path = lock_path(home, environment)
    if not path.exists() or not is_stale(path):
        return None
    holder = read_holder(path)
    path.unlink(missing_ok=True)
    return holder
