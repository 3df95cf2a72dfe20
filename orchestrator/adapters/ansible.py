"""The one seam to Ansible: run a playbook through ansible-runner and report its task events.

ansible-runner prepares the run (private data dir, the `awx_display` event callback, the
environment) and decodes the task events; this module starts `ansible-playbook` itself,
in its own session, so that cancel and timeout can end the whole process group (runner's
own cancel ends only the leader and leaves forked workers and module processes alive).
Starting it with a pipe rather than runner's pexpect pty also avoids ptyprocess's fixed
close delay (about 100 ms per run, issue 8 P3).

Callbacks (`on_task`, `on_process`) are called from the thread that reads the events. An
exception raised by one is re-raised by `run_playbook` once the run has been cleaned up.

Events are decoded in `ansible_events`, artifacts scrubbed in `scrub`, Vault plaintexts
found by `config.ansible_inventory`, processes ended in `procgroup`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestrator.adapters.ansible_events import Collector, TaskResult
from orchestrator.adapters.procgroup import KILL_GRACE_S, end_tree
from orchestrator.adapters.scrub import Redacting, scrub_tree, secret_values
from orchestrator.config.ansible_inventory import vault_plaintexts
from orchestrator.errors import DrillError

GATE_EXIT_S = 2.0  # how long a process at its gate may take to exit once it is closed

__all__ = ["PlaybookResult", "PlaybookRun", "Started", "TaskResult", "run_playbook", "start_playbook"]

# env/ files that carry inputs: removed once the run is over.
ENV_INPUT_FILES = ("extravars", "passwords", "ssh_key", "envvars", "cmdline", "settings")
# How long an idle ssh control master lives: one playbook's own (ended with it anyway), and
# a drill run's (issue 19 P11), which the run ends itself; this bounds only what a SIGKILLed
# drill leaves before `drill recover`.
PLAYBOOK_PERSIST = "60s"
RUN_PERSIST = "4h"


@dataclass(frozen=True)
class PlaybookRun:
    playbook: Path
    inventory: Path
    extravars: Mapping[str, object]
    private_data_dir: Path
    check: bool = False
    timeout_s: float = 300.0
    limit: str | None = None
    envvars: Mapping[str, str] = field(default_factory=dict)
    known_hosts: Path | None = None
    # Values scrubbed from the artifacts kept, besides extra vars whose key looks secret.
    secrets: tuple[str, ...] = ()
    # A run-wide ssh control folder (short: socket paths are limited): the masters are kept
    # for the caller's later playbooks and the caller ends them. None: this run's own.
    control_dir: Path | None = None
    # Ansible's forks, sized by the caller to the estate; None: Ansible's default.
    forks: int | None = None


@dataclass(frozen=True)
class PlaybookResult:
    status: str  # successful | failed | timeout | canceled
    rc: int
    tasks: tuple[TaskResult, ...]
    private_data_dir: Path

    @property
    def ok(self) -> bool:
        return self.status == "successful"

    @property
    def failed_tasks(self) -> tuple[TaskResult, ...]:
        return tuple(t for t in self.tasks if t.status in ("failed", "unreachable"))

    @property
    def effective_ns(self) -> int | None:
        """The earliest instant a task of this run says its change took effect."""
        found = [t.effective_ns for t in self.tasks if t.effective_ns is not None]
        return min(found) if found else None


def run_playbook(
    run: PlaybookRun,
    *,
    on_task: Callable[[TaskResult], None] | None = None,
    on_process: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
) -> PlaybookResult:
    """Run one playbook to the end, a timeout or a cancel; never leaves a process behind."""
    return start_playbook(run).go(on_task=on_task, on_process=on_process, cancel=cancel)


def start_playbook(run: PlaybookRun, *, gated: bool = False) -> Started:
    """Start `ansible-playbook` for `run`. Gated: it parses its inventory and playbook, then
    waits before its first play until `go()` (or ends at `abandon()`, having run nothing)."""
    from ansible_runner import Runner, RunnerConfig
    from ansible_runner.utils import OutputEventFilter

    pdd = Path(run.private_data_dir).absolute()
    if pdd.exists() and any(pdd.iterdir()):
        raise DrillError(f"{pdd}: private_data_dir must be new or empty (one per run)")
    (pdd / "env").mkdir(parents=True, exist_ok=True, mode=0o700)
    secrets = secret_values(run.extravars) | {s for s in run.secrets if s}
    _write_private(pdd / "env" / "extravars", json.dumps(dict(run.extravars), default=str))

    rc_cfg = RunnerConfig(
        private_data_dir=str(pdd),
        playbook=str(Path(run.playbook).absolute()),
        inventory=str(Path(run.inventory).absolute()),
        ident="run",
        limit=run.limit,
        cmdline="--check" if run.check else None,
        quiet=True,
        rotate_artifacts=0,
    )
    rc_cfg.prepare()
    # Private scratch: ssh control sockets, and Ansible's local temp (module payloads hold
    # their arguments; a killed run would leave them in ~/.ansible/tmp).
    scratch = Path(tempfile.mkdtemp(prefix="drill-ansible-"))
    control_dir = Path(run.control_dir) if run.control_dir is not None else scratch / "cp"
    control_dir.mkdir(mode=0o700, exist_ok=True)
    # Masters in a run-wide folder outlive this playbook; only our own are ended with it.
    own_masters = None if run.control_dir is not None else control_dir
    env = _effective_env(rc_cfg.env, run, control_dir)
    env["ANSIBLE_LOCAL_TEMP"] = str(scratch / "tmp")
    for program, shim in _in_own_session(scratch, env["PATH"]).items():
        env.setdefault(f"ANSIBLE_{program.upper()}_EXECUTABLE", str(shim))
    # What Ansible will decrypt, drill scrubs: the inventory's vault values, with the same
    # vault passwords (from the environment) Ansible gets.
    secrets |= vault_plaintexts(Path(run.inventory), env)
    command = list(rc_cfg.command)
    exe = shutil.which(command[0], path=env["PATH"])
    if exe is None:
        shutil.rmtree(scratch, ignore_errors=True)
        raise DrillError(f"{command[0]} not found on PATH {env['PATH']}")
    command[0] = exe
    artifacts = Path(rc_cfg.artifact_dir)
    (artifacts / "job_events").mkdir(parents=True, exist_ok=True, mode=0o700)
    _write_private(artifacts / "command", json.dumps({"command": command, "cwd": str(pdd)}))

    gate_r, gate_w = os.pipe() if gated else (None, None)
    ready_r, ready_w = os.pipe() if gated else (None, None)
    _callback_env(env, gate_r, ready_w)
    collector = Collector(None, secrets)
    runner = Runner(rc_cfg, event_handler=collector.handle)
    try:
        proc = subprocess.Popen(
            command, cwd=str(pdd), env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
            pass_fds=() if gate_r is None else (gate_r, ready_w),
        )
    except OSError as e:
        shutil.rmtree(scratch, ignore_errors=True)
        _cleanup_env(pdd)
        for fd in (gate_r, gate_w, ready_r, ready_w):
            if fd is not None:
                os.close(fd)
        raise DrillError(f"cannot start {exe}: {e}") from e
    if gate_r is not None:
        os.close(gate_r)  # the child's now: its end of file is our close or our death
        os.close(ready_w)
        os.set_blocking(ready_r, False)
    stdout_file = open(artifacts / "stdout", "w", encoding="utf-8")  # noqa: SIM115
    event_filter = OutputEventFilter(Redacting(stdout_file, secrets), runner.event_callback,
                                     suppress_ansible_output=True)
    started = Started(run, pdd, artifacts, proc, proc.pid, gate_w, collector, secrets, scratch,
                      own_masters, stdout_file, event_filter, ready_fd=ready_r)
    started.reader = threading.Thread(target=_pump, args=(proc, event_filter, started.errors),
                                      name=f"ansible-events-{proc.pid}", daemon=True)
    started.reader.start()
    threading.Thread(target=lambda: (proc.wait(), started.exited.set()), daemon=True,
                     name=f"ansible-wait-{proc.pid}").start()
    return started


@dataclass(eq=False)
class Started:
    """An `ansible-playbook` process started by `start_playbook`, owned until `go()` or
    `abandon()` returns (each ends it and cleans up; exactly one is called)."""

    run: PlaybookRun
    pdd: Path
    artifacts: Path
    proc: subprocess.Popen
    pgid: int  # start_new_session: the leader's pid is the group id
    gate: int | None  # write end of the gate pipe; None: not gated
    collector: Collector
    secrets: set[str]
    scratch: Path
    own_masters: Path | None
    stdout_file: Any
    event_filter: Any
    errors: list[BaseException] = field(default_factory=list)
    exited: threading.Event = field(default_factory=threading.Event)
    reader: threading.Thread | None = None
    ready_fd: int | None = None  # read end of the pipe it says "at the gate" on
    _at_gate: bool = False

    def ready(self) -> bool:
        """Whether a gated process is through its start-up, waiting at the gate."""
        if self._at_gate or self.ready_fd is None:
            return self._at_gate
        try:
            said = os.read(self.ready_fd, 1)
        except BlockingIOError:
            return False
        except OSError:
            said = b""
        self._close_ready()
        self._at_gate = said == b"r"  # end of file: it died in its start-up
        return self._at_gate

    def _close_ready(self) -> None:
        if self.ready_fd is not None:
            os.close(self.ready_fd)
            self.ready_fd = None

    def go(self, *, on_task: Callable[[TaskResult], None] | None = None,
           on_process: Callable[[int, int], None] | None = None,
           cancel: threading.Event | None = None) -> PlaybookResult:
        """Let the playbook run (its timeout counts from now) and wait for its end."""
        self.collector.listen(on_task)
        if on_process is not None:
            try:
                on_process(self.proc.pid, self.pgid)
            except BaseException as e:  # the run is already going: end it, then re-raise
                self.errors.append(e)
        self._close_gate(b"g")
        status = "successful"
        deadline = time.monotonic() + self.run.timeout_s
        try:
            # exited.wait returns at once when the process ends; the timeout bounds how late
            # a cancel or the deadline is noticed.
            while not self.exited.wait(timeout=0.02):
                if self.errors:
                    status = "failed"
                    break
                if cancel is not None and cancel.is_set():
                    status = "canceled"
                    break
                if time.monotonic() >= deadline:
                    status = "timeout"
                    break
        except BaseException:
            end_tree(self.proc, self.pgid, self.own_masters)
            raise
        finally:
            rc = self._end(force=status != "successful" or bool(self.errors))
        if status == "successful" and rc != 0:
            status = "failed"
        if status in ("timeout", "canceled"):
            rc = 254
        (self.artifacts / "status").write_text(status)
        (self.artifacts / "rc").write_text(str(rc))
        if self.errors:
            raise self.errors[0]
        return PlaybookResult(status=status, rc=rc, tasks=self.collector.tasks(),
                              private_data_dir=self.pdd)

    def abandon(self) -> None:
        """End a run that never got its go: nothing ran; its private data dir goes too.
        A process at its gate reads end of file and exits by itself (code 3); one still in
        its start-up is ended with its group at once."""
        at_gate = self.ready()
        self._close_gate(b"")
        if at_gate:
            self.exited.wait(timeout=GATE_EXIT_S)
        self._end(force=True)
        shutil.rmtree(self.pdd, ignore_errors=True)

    def _close_gate(self, say: bytes) -> None:
        self._close_ready()
        if self.gate is None:
            return
        with contextlib.suppress(OSError):  # the process already ended: nobody to tell
            if say:
                os.write(self.gate, say)
        os.close(self.gate)
        self.gate = None

    def _end(self, *, force: bool) -> int:
        if force:
            end_tree(self.proc, self.pgid, self.own_masters)
        rc = self.proc.wait()
        # leftovers of a finished run (its own ssh control masters, stray module children)
        end_tree(self.proc, self.pgid, self.own_masters)
        if self.reader is not None:
            self.reader.join(timeout=KILL_GRACE_S)
        with contextlib.suppress(Exception):
            self.event_filter.close()
        self.stdout_file.close()
        shutil.rmtree(self.scratch, ignore_errors=True)
        _cleanup_env(self.pdd)
        scrub_tree(self.artifacts, self.secrets)
        return rc


def _callback_env(env: dict[str, str], gate_r: int | None, ready_w: int | None) -> None:
    """Enable drill's callback (ansible_callback/drill_process.py: the gate, on the pipe
    `gate_r` when given, saying so on `ready_w` when it gets there; and the quick exit)
    beside runner's own plugins."""
    here = str(Path(__file__).with_name("ansible_callback"))
    env["ANSIBLE_CALLBACK_PLUGINS"] = os.pathsep.join(
        p for p in (env.get("ANSIBLE_CALLBACK_PLUGINS"), here) if p)
    env["ANSIBLE_CALLBACKS_ENABLED"] = ",".join(
        p for p in (env.get("ANSIBLE_CALLBACKS_ENABLED"), "drill_process") if p)
    if gate_r is not None:
        env["DRILL_GATE_FD"] = str(gate_r)
        env["DRILL_READY_FD"] = str(ready_w)


def _effective_env(base: Mapping[str, str], run: PlaybookRun, control_dir: Path) -> dict[str, str]:
    env = {k: str(v) for k, v in base.items()}
    env.update({k: str(v) for k, v in run.envvars.items()})
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([bin_dir, *(p for p in env.get("PATH", "").split(os.pathsep) if p)])
    # runner turns host key checking off; drill keeps it on, whatever the caller's env says.
    env["ANSIBLE_HOST_KEY_CHECKING"] = "True"
    persist = PLAYBOOK_PERSIST if run.control_dir is None else RUN_PERSIST
    ssh = [
        "-C", "-o", "ControlMaster=auto", "-o", f"ControlPersist={persist}",
        # a short control path whose masters drill can find and end (procgroup.end_marked)
        "-o", f"ControlPath={control_dir}/%C",
        "-o", "StrictHostKeyChecking=yes",
    ]
    if run.known_hosts is not None:
        ssh += ["-o", f"UserKnownHostsFile={Path(run.known_hosts).absolute()}"]
    env["ANSIBLE_SSH_ARGS"] = " ".join(ssh)
    # A connection through the bastion that drops is tried again (after 0, 1, 3, 7 s: about
    # 11 s, within any step's timeout) before the task counts as unreachable (issue 18).
    env.setdefault("ANSIBLE_SSH_RETRIES", "4")
    # One ssh round trip per task instead of a copy, then a run (a host's sudoers with
    # `requiretty` needs ANSIBLE_PIPELINING=False in drill's environment: docs/real-hosts.md).
    env.setdefault("ANSIBLE_PIPELINING", "True")
    if run.forks is not None:
        env.setdefault("ANSIBLE_FORKS", str(run.forks))
    env["PYTHONUNBUFFERED"] = "1"  # events arrive as they happen, not when a pipe buffer fills
    return env


def _in_own_session(scratch: Path, path: str) -> dict[str, Path]:
    """`ssh`, `sftp` and `scp` (a fetch's transfer starts its own ssh) that start in a
    session of their own. A kept master's ProxyCommand is a child of the ssh that made the
    master, in that ssh's process group; Ansible ends a worker still alive when its play
    ends by killing the worker's group, which took the proxy, and so the master, with it
    (a second connection to the host later: issue 19 P11, seen under load). A program
    or `setsid` not found: Ansible's own then."""
    setsid = shutil.which("setsid", path=path)
    if setsid is None:
        return {}
    out: dict[str, Path] = {}
    for program in ("ssh", "sftp", "scp"):
        real = shutil.which(program, path=path)
        if real is None:
            continue
        shim = scratch / program
        # A group leader already (Ansible starts ssh with setsid when it prompts for a
        # password): setsid would fork, and Ansible would wait on the wrong process.
        _write_private(shim, "#!/bin/sh\n"
                       "read -r _ _ _ _ pgrp _ < /proc/$$/stat\n"
                       f'[ "$pgrp" = "$$" ] && exec {shlex.quote(real)} "$@"\n'
                       f'exec {shlex.quote(setsid)} {shlex.quote(real)} "$@"\n')
        shim.chmod(0o700)
        out[program] = shim
    return out


def _pump(proc: subprocess.Popen, sink, errors: list[BaseException]) -> None:
    assert proc.stdout is not None
    try:
        while True:
            chunk = proc.stdout.read1(65536) if hasattr(proc.stdout, "read1") else proc.stdout.read(4096)
            if not chunk:
                break
            sink.write(chunk.decode("utf-8", errors="replace"))
    except BaseException as e:  # a callback raised: stop the run, re-raise in the caller
        errors.append(e)
        with contextlib.suppress(Exception):
            proc.stdout.read()


def _cleanup_env(pdd: Path) -> None:
    for name in ENV_INPUT_FILES:
        with contextlib.suppress(FileNotFoundError):
            (pdd / "env" / name).unlink()


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
