"""The lab's gateway processes: the spawner that forks them and one supervised process
per gateway (stopped, started, started again after dying on its own)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from orchestrator.journal.chain import iso_ns
from orchestrator.model.inventory import Gateway

SPAWNER_MODULE = "orchestrator.lab.spawner"
STOP_GRACE_S = 5.0
# A gateway that dies on its own is started again, as a firm's service manager would
# (systemd Restart=on-failure): after RESTART_DELAY_S, unless it died within
# RESTART_MIN_UP_S of its start (a crash at start is a broken config, not a fault to ride).
RESTART_DELAY_S = 1.0
RESTART_MIN_UP_S = 3.0


def log(msg: str) -> None:
    print(f"{iso_ns(time.time_ns())} {msg}", file=sys.stderr, flush=True)


class Spawner:
    """Talks to the spawner process (orchestrator/lab/spawner.py), which forks the gateways."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", SPAWNER_MODULE],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True)
        self.buf = b""
        self.waiting: dict[str, asyncio.Future[int]] = {}
        self.exits: dict[int, asyncio.Future[int]] = {}
        assert self.proc.stdout is not None
        asyncio.get_running_loop().add_reader(self.proc.stdout.fileno(), self._readable)

    def _readable(self) -> None:
        assert self.proc.stdout is not None
        data = os.read(self.proc.stdout.fileno(), 65536)
        if not data:
            asyncio.get_running_loop().remove_reader(self.proc.stdout.fileno())
            for fut in [*self.waiting.values(), *self.exits.values()]:
                if not fut.done():
                    fut.set_exception(RuntimeError("gateway spawner exited"))
            return
        self.buf += data
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            parts = line.decode().split()
            if parts[0] == "PID":
                fut = self.waiting.pop(parts[1], None)
                if fut is not None and not fut.done():
                    pid = int(parts[2])
                    self.exits[pid] = asyncio.get_running_loop().create_future()
                    fut.set_result(pid)
            elif parts[0] == "EXIT":
                fut = self.exits.get(int(parts[1]))
                if fut is not None and not fut.done():
                    fut.set_result(int(parts[2]))

    async def start(self, gid: str, config: Path) -> int:
        assert self.proc.stdin is not None
        fut = asyncio.get_running_loop().create_future()
        self.waiting[gid] = fut
        self.proc.stdin.write(f"START {gid} {config}\n".encode())
        self.proc.stdin.flush()
        return await asyncio.wait_for(fut, 30)

    def quit(self) -> None:
        with contextlib.suppress(BrokenPipeError, ValueError):
            assert self.proc.stdin is not None
            self.proc.stdin.write(b"QUIT\n")
            self.proc.stdin.close()

    async def wait(self, deadline: float) -> None:
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                self.proc.kill()
            await asyncio.sleep(0.02)


class GatewayProc:
    def __init__(self, gw: Gateway, state_dir: Path, spawner: Spawner):
        self.gw = gw
        self.state_dir = state_dir
        self.spawner = spawner
        self.pid: int | None = None
        self.status = "stopped"  # running | stopped | exited
        self.returncode: int | None = None
        self.started_at = 0.0
        self.restarts = 0  # started again by the supervisor after dying on its own

    @property
    def config(self) -> Path:
        return self.state_dir / self.gw.config

    async def start(self) -> None:
        (self.state_dir / "gateways" / self.gw.id).mkdir(parents=True, exist_ok=True)
        self.pid = await self.spawner.start(self.gw.id, self.config)
        self.status, self.returncode = "running", None
        self.started_at = time.monotonic()
        self.spawner.exits[self.pid].add_done_callback(self._exited)

    def _exited(self, fut: asyncio.Future[int]) -> None:
        self.returncode = None if fut.cancelled() or fut.exception() else fut.result()
        if self.status == "running":
            self.status = "exited"
            up = time.monotonic() - self.started_at
            log(f"gateway {self.gw.id} (pid {self.pid}) exited with {self.returncode}")
            if up >= RESTART_MIN_UP_S and not fut.cancelled() and fut.exception() is None:
                asyncio.get_running_loop().create_task(self._restart_later())
        self.pid = None

    async def _restart_later(self) -> None:
        await asyncio.sleep(RESTART_DELAY_S)
        if self.status != "exited":  # stopped or started by a control request meanwhile
            return
        self.restarts += 1
        log(f"gateway {self.gw.id} restarted after it exited ({self.restarts} time(s))")
        await self.start()

    def signal(self, sig: int) -> None:
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    async def stop(self) -> None:
        pid = self.pid
        if pid is None:
            self.status = "stopped"
            return
        self.status = "stopping"
        self.signal(signal.SIGTERM)
        exit_fut = self.spawner.exits[pid]
        try:
            await asyncio.wait_for(asyncio.shield(exit_fut), STOP_GRACE_S)
        except (TimeoutError, RuntimeError):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(TimeoutError, RuntimeError):
                await asyncio.wait_for(asyncio.shield(exit_fut), STOP_GRACE_S)
        self.status = "stopped"
        self.pid = None
