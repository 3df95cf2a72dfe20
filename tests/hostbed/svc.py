"""A tiny systemd-like service manager for the test bed's gateway host (no systemd here).

    svc.py --dir D start|stop|restart|is-active UNIT

A unit is `D/units/UNIT.json`: {"argv": [...], "log": "path"}. `start` detaches a
supervisor (`_run`) in its own session which stays the service's parent (the lab gateway
stops when its parent goes) and forwards SIGTERM to it. `is-active` exits 0 or 3, as
`systemctl is-active` does. The linux driver calls it through `drill_service_ctl`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def _pid(d: Path, unit: str) -> int | None:
    try:
        pid = int((d / "run" / f"{unit}.pid").read_text())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return None if state == "Z" else pid


def _wait(cond, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


def start(d: Path, unit: str) -> int:
    if _pid(d, unit):
        return 0
    (d / "run").mkdir(parents=True, exist_ok=True)
    subprocess.Popen([sys.executable, __file__, "--dir", str(d), "_run", unit], start_new_session=True,
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return 0 if _wait(lambda: _pid(d, unit) is not None, 10) else 1


def stop(d: Path, unit: str) -> int:
    pid = _pid(d, unit)
    if pid is None:
        return 0
    os.kill(pid, signal.SIGTERM)
    if not _wait(lambda: _pid(d, unit) is None, 10):
        os.killpg(pid, signal.SIGKILL)
        _wait(lambda: _pid(d, unit) is None, 5)
    return 0


def _run(d: Path, unit: str) -> int:
    spec = json.loads((d / "units" / f"{unit}.json").read_text())
    log = open(spec["log"], "ab")  # noqa: SIM115 - the child's output for its whole life
    child = subprocess.Popen(spec["argv"], stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    signal.signal(signal.SIGTERM, lambda *_: child.terminate())
    (d / "run" / f"{unit}.pid").write_text(str(os.getpid()))
    try:
        while True:
            try:
                return child.wait()
            except InterruptedError:
                continue
    finally:
        (d / "run" / f"{unit}.pid").unlink(missing_ok=True)


def main(argv: list[str]) -> int:
    if len(argv) != 4 or argv[0] != "--dir":
        print(__doc__, file=sys.stderr)
        return 2
    d, action, unit = Path(argv[1]), argv[2], argv[3]
    if action == "is-active":
        return 0 if _pid(d, unit) else 3
    if action == "start":
        return start(d, unit)
    if action == "stop":
        return stop(d, unit)
    if action == "restart":
        stop(d, unit)
        return start(d, unit)
    if action == "_run":
        return _run(d, unit)
    print(f"unknown action {action}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
