"""The gateway spawner: one process that has imported the gateway code and forks a
gateway per request, so starting 200 gateways costs 200 forks, not 200 interpreters.

Protocol on its pipes (one line each): the supervisor writes `START <id> <config>` or
`QUIT`; the spawner answers `PID <id> <pid>` and, when a gateway ends, `EXIT <pid> <rc>`.
The spawner and every gateway stay in the supervisor's process group; if the supervisor
goes away (stdin closes), the spawner stops every gateway and exits.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import time

from orchestrator.lab import gateway

_STOP_GRACE_S = 5.0


def _child(config: str, stderr_path: str) -> None:
    fd = os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 2)
    os.close(fd)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    code = 1
    try:
        code = gateway.main([config])
    except BaseException as e:  # the stderr log says why; never return into the spawner loop
        import traceback

        traceback.print_exception(e)
    finally:
        sys.stderr.flush()
        os._exit(code)


def _reap(children: set[int], out) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        children.discard(pid)
        out.write(f"EXIT {pid} {os.waitstatus_to_exitcode(status)}\n")
        out.flush()


def _stop_all(children: set[int]) -> None:
    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + _STOP_GRACE_S
    while children and time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid:
            children.discard(pid)
        else:
            time.sleep(0.02)
    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    stdin = sys.stdin.buffer
    out = sys.stdout
    children: set[int] = set()
    buf = b""
    try:
        while True:
            ready, _, _ = select.select([stdin], [], [], 0.2)
            _reap(children, out)
            if not ready:
                continue
            chunk = os.read(stdin.fileno(), 65536)
            if not chunk:
                return 0  # the supervisor is gone
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                parts = line.decode().split(" ", 2)
                if parts[0] == "QUIT":
                    return 0
                if parts[0] != "START" or len(parts) != 3:
                    continue
                gid, config = parts[1], parts[2]
                stderr_path = os.path.join(os.path.dirname(config), "stderr.log")
                pid = os.fork()
                if pid == 0:
                    _child(config, stderr_path)
                children.add(pid)
                out.write(f"PID {gid} {pid}\n")
                out.flush()
    finally:
        _stop_all(children)


if __name__ == "__main__":
    sys.exit(main())
