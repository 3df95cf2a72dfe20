"""Start, stop and drive a running lab (docs/lab.md): the API the CLI, engine and tests use.

The supervisor runs detached in its own session; this module talks to it over the
Unix socket `control.sock` in the lab's state folder (one JSON object per line each way).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator.adapters.procgroup import group_members
from orchestrator.errors import DrillError, InputError, Problem, RefusedError

SUPERVISOR_MODULE = "orchestrator.lab.supervisor"
_UNIX_PATH_MAX = 100


class LabError(DrillError):
    """The lab did not do what was asked (not running, did not start, refused an op)."""


class LabNotRunning(LabError):
    """No lab supervisor answers for this environment."""


class LabAlreadyRunning(RefusedError):
    """A lab for this environment is already up."""


def lab_state_dir(env_name: str, drill_home: Path | str | None = None) -> Path:
    from orchestrator.config.project import drill_home as default_home

    home = Path(drill_home) if drill_home is not None else default_home()
    return home / "lab" / env_name


@contextlib.contextmanager
def unix_path(path: Path) -> Iterator[str]:
    """A path short enough for AF_UNIX (108 bytes): via /proc/self/fd when the real one is not."""
    if len(str(path)) < _UNIX_PATH_MAX:
        yield str(path)
        return
    fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{fd}/{path.name}"
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------- client


class LabClient:
    """Requests to a running lab's control socket. Each call returns the parsed response."""

    def __init__(self, state_dir: Path | str, timeout: float = 30.0):
        self.state_dir = Path(state_dir)
        self.timeout = timeout

    def request(self, op: str, timeout: float | None = None, **args: Any) -> dict[str, Any]:
        sock_path = self.state_dir / "control.sock"
        if not sock_path.exists():
            raise LabNotRunning(f"no lab running in {self.state_dir} (no control.sock)")
        payload = (json.dumps({"op": op, **args}) + "\n").encode()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s, unix_path(sock_path) as p:
            wait = timeout if timeout is not None else self.timeout
            s.settimeout(wait)
            try:
                s.connect(p)
            except (ConnectionRefusedError, FileNotFoundError) as e:
                raise LabNotRunning(f"no lab answers on {sock_path}: {e}") from None
            buf = b""
            try:
                s.sendall(payload)
                while not buf.endswith(b"\n"):
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    buf += chunk
            except OSError as e:
                raise LabError(f"lab did not answer {op!r} in {wait:g}s: {e}") from None
        if not buf:
            raise LabError(f"lab closed the control connection without answering {op!r}")
        resp = json.loads(buf)
        if not resp.get("ok"):
            error = resp.get("error", "failed")
            if resp.get("bad_input"):
                raise InputError(Problem(str(self.state_dir / "inventory.yml"), None,
                                         resp.get("field", ""), error))
            raise LabError(f"lab {op}: {error}")
        return resp

    def status(self) -> dict[str, Any]:
        return self.request("status")

    def line_down(self, line: str, mode: str = "blackhole") -> dict[str, Any]:
        return self.request("line_down", line=line, mode=mode)

    def line_up(self, line: str) -> dict[str, Any]:
        return self.request("line_up", line=line)

    def centre_down(self, centre: str) -> dict[str, Any]:
        return self.request("centre_down", centre=centre)

    def centre_up(self, centre: str) -> dict[str, Any]:
        return self.request("centre_up", centre=centre)

    def batch(self, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Several changes in one request (`[{"op": "line_down", "line": "ct-ft"}, …]`): the
        lab checks them all before applying any, applies network changes together and
        restarts gateways concurrently; one response per request, in order."""
        # A gateway stop waits up to its grace time; many run at once, but allow for load.
        timeout = self.timeout + 0.5 * len(requests)
        return self.request("batch", timeout=timeout, requests=list(requests))["results"]

    def apply(self, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One request for one change, a batch (checked whole before anything changes) for
        more: the way `drill lab` and the lab playbooks act on several targets."""
        if len(requests) == 1:
            req = dict(requests[0])
            return [self.request(req.pop("op"), **req)]
        return self.batch(requests)

    def gateway_restart(self, gateway: str) -> dict[str, Any]:
        return self.request("gateway_restart", gateway=gateway)

    def gateway_stop(self, gateway: str) -> dict[str, Any]:
        return self.request("gateway_stop", gateway=gateway)

    def gateway_start(self, gateway: str) -> dict[str, Any]:
        return self.request("gateway_start", gateway=gateway)


# ---------------------------------------------------------------------------- processes


def read_pid(state_dir: Path) -> int | None:
    try:
        return int((state_dir / "supervisor.pid").read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def _reap(pid: int) -> None:
    # A supervisor started by this very process (tests) would linger as a zombie.
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _alive(pid: int) -> bool:
    _reap(pid)
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read().decode(errors="replace")
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def is_running(state_dir: Path | str) -> bool:
    pid = read_pid(Path(state_dir))
    if pid is None or not _alive(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return False
    return SUPERVISOR_MODULE.encode() in cmdline


@dataclass(frozen=True)
class LabHandle:
    """A running lab: where its state is and how to reach it."""

    state_dir: Path
    pid: int
    started: bool  # False when the lab was already up (a no-op `lab up`)

    @property
    def client(self) -> LabClient:
        return LabClient(self.state_dir)

    @property
    def inventory_path(self) -> Path:
        return self.state_dir / "inventory.yml"

    @property
    def truth_path(self) -> Path:
        return self.state_dir / "truth.jsonl"

    def inventory(self):
        from orchestrator.config.inventory import load_inventory

        return load_inventory(self.inventory_path)

    def status(self) -> dict[str, Any]:
        return self.client.status()

    def truth(self) -> list[dict[str, Any]]:
        from orchestrator.lab.truth import read_truth

        return read_truth(self.truth_path)


def project_template(inventory_path: Path) -> Path:
    from orchestrator.config.project import bundled_root

    rel = Path("playbooks") / "templates" / "server_list.xml.j2"
    for folder in inventory_path.resolve().parents:
        if (folder / rel).is_file() and (folder / "inventories").is_dir():
            return folder / rel
    root = bundled_root()
    if root is None or not (root / rel).is_file():
        raise LabError(f"gateway config template {rel} not found")
    return root / rel


def lab_up(inventory_path: Path | str, drill_home: Path | str | None = None,
           gateways: int | None = None, wait: bool = True, timeout: float | None = None,
           template: Path | None = None, off_hours: bool = False) -> LabHandle:
    """Start the lab for a `kind: lab` inventory; with `wait`, until every gateway is logged in.

    `off_hours`: the lab's flows stopped (docs/lab.md), whatever the inventory says.
    Already running: returns the running lab (started=False) if `gateways` is None or matches,
    else raises LabAlreadyRunning.
    """
    from orchestrator.config.inventory import load_inventory
    from orchestrator.lab import config

    inventory_path = Path(inventory_path)
    inv = load_inventory(inventory_path)
    if inv.environment.kind != "lab" or inv.lab is None:
        raise InputError(Problem(str(inventory_path), None, "drill.environment.kind",
                                 "expected a lab inventory (kind: lab, with drill.lab)"))
    state_dir = lab_state_dir(inv.environment.name, drill_home)
    if is_running(state_dir):
        pid = read_pid(state_dir) or 0
        if gateways is not None:
            running = len(LabClient(state_dir).status()["gateways"])
            if running != gateways:
                raise LabAlreadyRunning(
                    f"lab {inv.environment.name!r} is already up with {running} gateways "
                    f"(pid {pid}); run `drill lab down` first")
        return LabHandle(state_dir, pid, started=False)

    doc = config.effective_inventory(inventory_path, gateways, off_hours)
    if state_dir.exists():
        shutil.rmtree(state_dir)  # a stale lab's leftovers; the running check came first
    state_dir.mkdir(parents=True)
    config.write_inventory(doc, state_dir / "inventory.yml")
    eff = load_inventory(state_dir / "inventory.yml")
    config.render_configs(eff, state_dir, template or project_template(inventory_path))
    config.write_gateway_index(eff, state_dir)

    log = open(state_dir / "supervisor.log", "ab")  # noqa: SIM115 - handed to the child
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", SUPERVISOR_MODULE, str(state_dir)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
            close_fds=True,
        )
    finally:
        log.close()
    (state_dir / "supervisor.pid").write_text(f"{proc.pid}\n")
    handle = LabHandle(state_dir, proc.pid, started=True)
    deadline = time.monotonic() + (timeout or 30.0 + 0.25 * len(eff.gateways))
    try:
        _wait_answering(handle, deadline)
        if wait:
            wait_logged_in(handle, deadline)
    except BaseException:
        lab_down(state_dir)
        raise
    return handle


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return ""


def _wait_answering(handle: LabHandle, deadline: float) -> None:
    while True:
        if not _alive(handle.pid):
            raise LabError("lab supervisor exited during start:\n"
                           + _tail(handle.state_dir / "supervisor.log"))
        try:
            handle.client.status()
            return
        except (LabNotRunning, OSError):
            pass
        if time.monotonic() > deadline:
            raise LabError("lab supervisor did not answer in time:\n"
                           + _tail(handle.state_dir / "supervisor.log"))
        time.sleep(0.05)


def wait_logged_in(handle: LabHandle, deadline: float,
                   gateways: list[str] | None = None) -> dict[str, Any]:
    """Poll status until every (or each named) gateway holds a session; return that status."""
    while True:
        st = handle.client.status()
        pending = [g["id"] for g in st["gateways"]
                   if g["state"] != "logged_in" and (gateways is None or g["id"] in gateways)]
        if not pending:
            return st
        dead = [g["id"] for g in st["gateways"] if g["process"] == "exited"
                and (gateways is None or g["id"] in gateways)]
        if dead:
            raise LabError(f"gateway(s) exited: {', '.join(dead[:10])}; see "
                           f"{handle.state_dir}/gateways/{dead[0]}/stderr.log:\n"
                           + _tail(handle.state_dir / "gateways" / dead[0] / "stderr.log", 5))
        if time.monotonic() > deadline:
            raise LabError(f"gateways not logged in in time: {', '.join(pending[:20])}"
                           + (" …" if len(pending) > 20 else ""))
        time.sleep(0.1)


def lab_down(state_dir: Path | str, timeout: float = 20.0) -> list[int]:
    """Stop the lab; verify by pid that no process of its group is left (killing any).

    Returns the pids that had to be killed. Stopping a lab that is not running is a no-op.
    """
    state_dir = Path(state_dir)
    pid = read_pid(state_dir)
    if pid is None:
        return []
    if _alive(pid):
        try:
            LabClient(state_dir, timeout=5.0).request("shutdown")
        except (LabError, OSError, ValueError):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
    killed: list[int] = []
    deadline = time.monotonic() + 10.0
    while members := group_members(pid):
        killed.extend(m for m in members if m not in killed)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        if time.monotonic() > deadline:
            raise LabError(f"lab processes survive SIGKILL: {sorted(members)}")
        time.sleep(0.05)
        _reap(pid)
    for name in ("supervisor.pid", "control.sock"):
        with contextlib.suppress(FileNotFoundError):
            (state_dir / name).unlink()
    return killed
