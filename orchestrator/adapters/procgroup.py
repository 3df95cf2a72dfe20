"""Process groups: find and end every process a child started, from /proc.

A run of ansible-playbook forks workers, module processes and ssh control masters; some
leave the group (setsid). Ending a run, a timeout, or `drill recover` after a crash must
leave nothing behind, so these helpers find processes by group, by parentage and by a
marker in their command line, then signal them TERM then KILL (a run's own tree: frozen
with STOP, then KILL), waiting on the process table with a deadline.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from orchestrator.errors import DrillError

KILL_GRACE_S = 3.0


def kill_process_group(pgid: int, grace_s: float = KILL_GRACE_S) -> None:
    """End every process of a group: SIGTERM, then SIGKILL after `grace_s` (drill recover)."""
    _kill_pids(pgid, set(), grace_s)


def group_members(pgid: int) -> set[int]:
    """Live (non-zombie) processes whose process group is `pgid`."""
    return {pid for pid, (_, grp, state) in _proc_table().items() if grp == pgid and state != "Z"}


def descendants(pid: int) -> set[int]:
    """Live descendants of `pid` (any process group)."""
    return _descendants_in(_proc_table(), {pid})


def _descendants_in(table: dict[int, tuple[int, int, str]], roots: set[int]) -> set[int]:
    children: dict[int, list[int]] = {}
    for p, (ppid, _, state) in table.items():
        if state != "Z":
            children.setdefault(ppid, []).append(p)
    out: set[int] = set()
    todo = list(roots)
    while todo:
        for c in children.get(todo.pop(), ()):
            if c not in out:
                out.add(c)
                todo.append(c)
    return out


def _exists(send: Callable[[int, int], None], target: int) -> bool:
    """Signal 0 reaches it: it exists (one owned by another user exists too)."""
    try:
        send(target, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def group_alive(pgid: int) -> bool:
    """Whether any process of the group still exists."""
    return _exists(os.killpg, pgid)


def pid_alive(pid: int) -> bool:
    """Whether the process exists."""
    return _exists(os.kill, pid)


def end_tree(proc: subprocess.Popen, pgid: int, marker_dir: Path | None = None) -> None:
    """End `proc`, its group, its descendants, and processes whose command line names a
    file in `marker_dir` (ssh control masters that detached with their ControlPath)."""
    masters = marker_dir is not None and any(marker_dir.iterdir())
    if proc.poll() is not None and not masters and not group_alive(pgid):
        return  # the usual end: nothing left, and no /proc scan (P3 overhead)
    # Freeze the tree first: a process that left the group (setsid) is found by parentage
    # while its parent lives, and a stopped parent forks no child that the kill would miss.
    extra = _frozen_tree(proc.pid, pgid) | (with_cmdline(str(marker_dir)) if masters else set())
    _kill_pids(pgid, extra, KILL_GRACE_S, (signal.SIGKILL,))
    with contextlib.suppress(Exception):
        proc.wait(timeout=KILL_GRACE_S)


def end_marked(marker_dir: Path, grace_s: float = KILL_GRACE_S) -> set[int]:
    """End the processes whose command line names `marker_dir` (the ssh control masters a
    run kept, issue 19 P11) and their descendants (a master's ProxyCommand); the pids."""
    masters = with_cmdline(str(marker_dir))
    pids = set(masters)
    for pid in masters:
        pids |= descendants(pid)
    pids.discard(os.getpid())
    if pids:
        _kill_pids(None, pids, grace_s)
    return pids


def _frozen_tree(pid: int, pgid: int) -> set[int]:
    """SIGSTOP `pid`, its group and their descendants, looking again until no new one
    appears: Ansible's workers setsid as they start, and one forked between a look and the
    kill outlived its leader (ci28: a `drill plan` check's worker, after SIGHUP)."""
    frozen: set[int] = set()
    for _ in range(100):
        table = _proc_table()
        found = {p for p, (_, grp, st) in table.items() if grp == pgid and st != "Z"}
        found |= {pid} if pid in table else set()
        found = (found | _descendants_in(table, found | frozen)) - {os.getpid()}
        if not found - frozen:
            break
        _signal_all(None, found - frozen, signal.SIGSTOP)
        frozen |= found
        # a process stops on its way back from the kernel: one mid-fork still adds a
        # child, which the next look finds only once every parent has really stopped
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline and not _all_stopped(frozen):
            time.sleep(0.001)  # polling the process table with a deadline
    return frozen


def _all_stopped(pids: set[int]) -> bool:
    table = _proc_table()
    return all(table.get(p, (0, 0, "X"))[2] in "TtZX" for p in pids)


def _kill_pids(pgid: int | None, pids: set[int], grace_s: float,
               signals: tuple[int, ...] = (signal.SIGTERM, signal.SIGKILL)) -> None:
    """`signals` (SIGTERM then SIGKILL) to `pids` and, unless None, every member of group
    `pgid`, each after the last left `grace_s` for them to go."""
    def alive() -> set[int]:
        table = _proc_table()
        return {p for p, (_, grp, st) in table.items()
                if st != "Z" and ((pgid is not None and grp == pgid) or p in pids)}

    targets = alive()
    for sig in signals:
        if not targets:
            return
        _signal_all(pgid, targets, sig)
        deadline = time.monotonic() + grace_s
        while targets and time.monotonic() < deadline:
            time.sleep(0.01)  # polling the process table with a deadline
            targets = alive()
    if targets:
        raise DrillError(f"processes {sorted(targets)} of group {pgid} survived SIGKILL"
                         if pgid is not None else f"processes {sorted(targets)} survived SIGKILL")


def with_cmdline(marker: str) -> set[int]:
    """Live processes (other than this one) whose command line contains `marker`."""
    found: set[int] = set()
    needle = marker.encode()
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                    if needle in f.read():
                        found.add(int(entry.name))
            except OSError:
                continue
    found.discard(os.getpid())
    return found


def _signal_all(pgid: int | None, pids: set[int], sig: int) -> None:
    if pgid is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, sig)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def _proc_table() -> dict[int, tuple[int, int, str]]:
    """pid → (ppid, pgrp, state) for every process, from /proc."""
    table: dict[int, tuple[int, int, str]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                raw = f.read().decode("utf-8", "replace")
        except OSError:
            continue
        rest = raw[raw.rfind(")") + 2:].split()
        if len(rest) >= 3:
            table[int(entry.name)] = (int(rest[1]), int(rest[2]), rest[0])
    return table
