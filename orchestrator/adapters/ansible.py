"""The one seam to Ansible: run a playbook through ansible-runner and report its task events.

ansible-runner prepares the run (private data dir, the `awx_display` event callback, the
environment) and decodes the task events; this module starts `ansible-playbook` itself,
in its own session, so that cancel and timeout can end the whole process group (runner's
own cancel ends only the leader and leaves forked workers and module processes alive).
Starting it with a pipe rather than runner's pexpect pty also avoids ptyprocess's fixed
close delay (about 100 ms per run, issue 8 P3).

Callbacks (`on_task`, `on_process`) are called from the thread that reads the events. An
exception raised by one is re-raised by `run_playbook` once the run has been cleaned up.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from orchestrator.errors import DrillError

TASK_EVENTS = {
    "runner_on_ok": "ok",
    "runner_on_failed": "failed",
    "runner_on_skipped": "skipped",
    "runner_on_unreachable": "unreachable",
}
# Extra-var keys whose values are secrets: scrubbed from every artifact kept.
SECRET_KEY_RE = re.compile(r"pass|secret|token|vault|private_key|api_key|credential", re.I)
REDACTED = "********"
CENSORED_MSG = "censored (no_log)"
KILL_GRACE_S = 3.0
# env/ files that carry inputs: removed once the run is over.
ENV_INPUT_FILES = ("extravars", "passwords", "ssh_key", "envvars", "cmdline", "settings")


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


@dataclass(frozen=True)
class TaskResult:
    host: str
    task: str
    action: str
    status: str  # ok | changed | failed | skipped | unreachable
    started_ns: int
    ended_ns: int
    effective_ns: int | None
    msg: str
    no_log: bool

    @property
    def duration_ns(self) -> int:
        return self.ended_ns - self.started_ns


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
    from ansible_runner import Runner, RunnerConfig
    from ansible_runner.utils import OutputEventFilter

    pdd = Path(run.private_data_dir).absolute()
    if pdd.exists() and any(pdd.iterdir()):
        raise DrillError(f"{pdd}: private_data_dir must be new or empty (one per run)")
    (pdd / "env").mkdir(parents=True, exist_ok=True, mode=0o700)
    secrets = _secret_values(run.extravars) | {s for s in run.secrets if s}
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
    control_dir = scratch / "cp"
    control_dir.mkdir()
    env = _effective_env(rc_cfg.env, run, control_dir)
    env["ANSIBLE_LOCAL_TEMP"] = str(scratch / "tmp")
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

    collector = _Collector(on_task, secrets)
    runner = Runner(rc_cfg, event_handler=collector.handle)
    errors: list[BaseException] = []
    try:
        proc = subprocess.Popen(
            command, cwd=str(pdd), env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        )
    except OSError as e:
        shutil.rmtree(scratch, ignore_errors=True)
        _cleanup_env(pdd)
        raise DrillError(f"cannot start {exe}: {e}") from e
    pgid = proc.pid  # start_new_session: the leader's pid is the group id
    if on_process is not None:
        try:
            on_process(proc.pid, pgid)
        except BaseException as e:  # the run is already going: end it, then re-raise
            errors.append(e)

    stdout_file = open(artifacts / "stdout", "w", encoding="utf-8")  # noqa: SIM115
    event_filter = OutputEventFilter(_Redacting(stdout_file, secrets), runner.event_callback,
                                     suppress_ansible_output=True)
    reader = threading.Thread(target=_pump, args=(proc, event_filter, errors),
                              name=f"ansible-events-{proc.pid}", daemon=True)
    reader.start()
    exited = threading.Event()
    threading.Thread(target=lambda: (proc.wait(), exited.set()), daemon=True,
                     name=f"ansible-wait-{proc.pid}").start()

    status = "successful"
    deadline = time.monotonic() + run.timeout_s
    try:
        # exited.wait returns at once when the process ends; the timeout bounds how late a
        # cancel or the deadline is noticed.
        while not exited.wait(timeout=0.02):
            if errors:
                status = "failed"
                break
            if cancel is not None and cancel.is_set():
                status = "canceled"
                break
            if time.monotonic() >= deadline:
                status = "timeout"
                break
    except BaseException:
        _end_tree(proc, pgid, control_dir)
        raise
    finally:
        if status != "successful" or errors:
            _end_tree(proc, pgid, control_dir)
        rc = proc.wait()
        # leftovers of a finished run (ssh control masters, stray module children)
        _end_tree(proc, pgid, control_dir)
        reader.join(timeout=KILL_GRACE_S)
        with contextlib.suppress(Exception):
            event_filter.close()
        stdout_file.close()
        shutil.rmtree(scratch, ignore_errors=True)
        _cleanup_env(pdd)
        _scrub_tree(artifacts, secrets)

    if status == "successful" and rc != 0:
        status = "failed"
    if status in ("timeout", "canceled"):
        rc = 254
    (artifacts / "status").write_text(status)
    (artifacts / "rc").write_text(str(rc))
    if errors:
        raise errors[0]
    return PlaybookResult(status=status, rc=rc, tasks=collector.tasks(), private_data_dir=pdd)


def kill_process_group(pgid: int, grace_s: float = KILL_GRACE_S) -> None:
    """End every process of a group: SIGTERM, then SIGKILL after `grace_s` (drill recover)."""
    _kill_pids(pgid, set(), grace_s)


def group_members(pgid: int) -> set[int]:
    """Live (non-zombie) processes whose process group is `pgid`."""
    return {pid for pid, (_, grp, state) in _proc_table().items() if grp == pgid and state != "Z"}


def descendants(pid: int) -> set[int]:
    """Live descendants of `pid` (any process group)."""
    table = _proc_table()
    children: dict[int, list[int]] = {}
    for p, (ppid, _, state) in table.items():
        if state != "Z":
            children.setdefault(ppid, []).append(p)
    out: set[int] = set()
    todo = [pid]
    while todo:
        for c in children.get(todo.pop(), ()):
            if c not in out:
                out.add(c)
                todo.append(c)
    return out


def vault_plaintexts(inventory: Path, env: Mapping[str, str]) -> set[str]:
    """Decrypted `!vault` values (and vault-encrypted files) of an inventory folder, using the
    vault ids / password file of `env` as ansible-playbook will; empty when none is set."""
    ids = [i for i in env.get("ANSIBLE_VAULT_IDENTITY_LIST", "").split(",") if i.strip()]
    pw_file = env.get("ANSIBLE_VAULT_PASSWORD_FILE")
    if not ids and not pw_file:
        return set()
    from ansible.cli import CLI
    from ansible.parsing.dataloader import DataLoader
    from ansible.parsing.vault import VaultLib

    try:
        vault = VaultLib(CLI.setup_vault_secrets(
            DataLoader(), vault_ids=ids, vault_password_files=[pw_file] if pw_file else [],
            ask_vault_pass=False, auto_prompt=False, initialize_context=False))
    except Exception:  # a bad password file: ansible-playbook will say so itself
        return set()
    folder = inventory if inventory.is_dir() else inventory.parent
    files = [p for p in folder.rglob("*") if p.is_file() and p.suffix in ("", ".yml", ".yaml")
             and p.stat().st_size < 1_000_000]
    found: set[str] = set()
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        blobs = [text] if text.startswith("$ANSIBLE_VAULT;") else _vault_scalars(text)
        for blob in blobs:
            try:
                plain = vault.decrypt(blob.strip()).decode("utf-8", "replace")
            except Exception:
                continue
            found |= _leaf_strings(plain) if blob is text else {plain}
    return {s for s in found if len(s) >= 3}


def _vault_scalars(text: str) -> list[str]:
    """The `!vault` scalars of a YAML file. Parsed, not pattern-matched: a block scalar
    ends where YAML says, not at the next indented key."""
    import yaml

    found: list[str] = []

    class Loader(yaml.SafeLoader):
        pass

    def vault(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> str:
        found.append(loader.construct_scalar(node))
        return ""

    Loader.add_constructor("!vault", vault)
    Loader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))
    try:
        yaml.load(text, Loader=Loader)
    except yaml.YAMLError:
        return []
    return found


def _leaf_strings(plain: str) -> set[str]:
    """Every scalar of a decrypted vault file (YAML), or the text itself."""
    import yaml

    try:
        doc = yaml.safe_load(plain)
    except yaml.YAMLError:
        return {plain.strip()}
    out: set[str] = set()
    todo = [doc]
    while todo:
        item = todo.pop()
        if isinstance(item, Mapping):
            todo.extend(item.values())
        elif isinstance(item, list):
            todo.extend(item)
        elif item is not None and not isinstance(item, bool):
            out.add(str(item))
    return out


# ---------------------------------------------------------------------------------------------


class _Collector:
    """Turns runner events into TaskResults; redacts secrets before runner writes an event."""

    def __init__(self, on_task: Callable[[TaskResult], None] | None, secrets: set[str]):
        self._on_task = on_task
        self._secrets = secrets
        self._starts: dict[tuple[str, str], int] = {}
        # Messages of failed loop items: ansible-core 2.21 no longer marks them `failed`
        # inside the final result's `results`, so they are taken from the item events.
        self._item_failures: dict[tuple[str, str], list[str]] = {}
        self._tasks: list[TaskResult] = []
        self._lock = threading.Lock()

    def tasks(self) -> tuple[TaskResult, ...]:
        with self._lock:
            return tuple(self._tasks)

    def handle(self, event: dict) -> bool:
        if self._secrets:
            _redact_in_place(event, self._secrets)
        kind = event.get("event")
        data = event.get("event_data") or {}
        if kind == "runner_on_start":
            self._starts[(data.get("host", ""), data.get("task_uuid", ""))] = _event_ns(event)
        elif kind == "runner_item_on_failed":
            res = data.get("res") or {}
            if not (res.get("_ansible_no_log") or "censored" in res):
                self._item_failures.setdefault(
                    (data.get("host", ""), data.get("task_uuid", "")), []).append(_message(res))
        elif kind in TASK_EVENTS:
            result = self._result(kind, event, data)
            with self._lock:
                self._tasks.append(result)
            if self._on_task is not None:
                self._on_task(result)
        return True  # runner writes the (redacted) event to artifacts/job_events

    def _result(self, kind: str, event: dict, data: dict) -> TaskResult:
        res = data.get("res") or {}
        host = data.get("host", "")
        ended = _iso_ns(data.get("end")) or _event_ns(event)
        started = (_iso_ns(data.get("start"))
                   or self._starts.get((host, data.get("task_uuid", "")), ended))
        no_log = bool(res.get("_ansible_no_log")) or "censored" in res
        status = TASK_EVENTS[kind]
        if status == "ok" and res.get("changed"):
            status = "changed"
        if no_log:
            msg, effective = CENSORED_MSG, None
        else:
            msg, effective = _message(res), _effective_ns(res)
            items = self._item_failures.pop((host, data.get("task_uuid", "")), None)
            if kind == "runner_on_failed" and items:
                msg = "; ".join(items)[:2000]
            if kind == "runner_on_failed" and data.get("ignore_errors"):
                msg = f"(ignored) {msg}"
        return TaskResult(host=host, task=data.get("task", ""),
                          action=data.get("resolved_action") or data.get("task_action", ""),
                          status=status, started_ns=started, ended_ns=ended,
                          effective_ns=effective, msg=msg, no_log=no_log)


def _message(res: Mapping) -> str:
    # A loop that failed says "One or more items failed": the items say what failed.
    failed_items = [r for r in res.get("results") or () if isinstance(r, Mapping) and r.get("failed")]
    if failed_items:
        return "; ".join(_message(r) for r in failed_items)[:2000]
    for key in ("msg", "stderr", "stdout"):
        value = res.get(key)
        if value:
            return str(value)[:2000]
    return ""


def _effective_ns(res: Mapping) -> int | None:
    """`effective_ns` of the JSON objects printed on stdout (docs/drill-format.md): one object,
    or one per line (a batch command, one per target); loops: per item. The earliest."""
    found: list[int] = []
    items = [res, *(r for r in res.get("results") or () if isinstance(r, Mapping))]
    for item in items:
        found.extend(doc["effective_ns"] for doc in stdout_objects(item.get("stdout")))
    return min(found) if found else None


def stdout_objects(out: object) -> list[dict]:
    """JSON objects with an integer `effective_ns` in a task's stdout: the whole stdout as one
    object (possibly indented), else one object per line (other lines ignored)."""
    if not isinstance(out, str) or "effective_ns" not in out:
        return []
    try:
        docs = [json.loads(out)]
    except ValueError:
        docs = []
        for line in out.splitlines():
            line = line.strip()
            if line.startswith("{") and "effective_ns" in line:
                with contextlib.suppress(ValueError):
                    docs.append(json.loads(line))
    return [d for d in docs if isinstance(d, dict) and isinstance(d.get("effective_ns"), int)
            and not isinstance(d.get("effective_ns"), bool)]


def _iso_ns(value: object) -> int | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        return None
    return int(dt.timestamp()) * 1_000_000_000 + dt.microsecond * 1000


def _event_ns(event: Mapping) -> int:
    return _iso_ns(event.get("created")) or time.time_ns()


def _effective_env(base: Mapping[str, str], run: PlaybookRun, control_dir: Path) -> dict[str, str]:
    env = {k: str(v) for k, v in base.items()}
    env.update({k: str(v) for k, v in run.envvars.items()})
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([bin_dir, *(p for p in env.get("PATH", "").split(os.pathsep) if p)])
    # runner turns host key checking off; drill keeps it on, whatever the caller's env says.
    env["ANSIBLE_HOST_KEY_CHECKING"] = "True"
    ssh = [
        "-C", "-o", "ControlMaster=auto", "-o", "ControlPersist=60s",
        # a private, short control path, so the adapter can end the ssh masters it started
        "-o", f"ControlPath={control_dir}/%C",
        "-o", "StrictHostKeyChecking=yes",
    ]
    if run.known_hosts is not None:
        ssh += ["-o", f"UserKnownHostsFile={Path(run.known_hosts).absolute()}"]
    env["ANSIBLE_SSH_ARGS"] = " ".join(ssh)
    env["PYTHONUNBUFFERED"] = "1"  # events arrive as they happen, not when a pipe buffer fills
    return env


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


class _Redacting:
    """The plain-text stdout artifact, with secret values replaced."""

    def __init__(self, handle, secrets: set[str]):
        self._h = handle
        self._secrets = sorted(secrets, key=len, reverse=True)

    def write(self, data: str) -> None:
        for s in self._secrets:
            data = data.replace(s, REDACTED)
        self._h.write(data)

    def flush(self) -> None:
        self._h.flush()

    def close(self) -> None:
        self._h.flush()


def _secret_values(extravars: Mapping[str, object], secret: bool = False) -> set[str]:
    out: set[str] = set()
    for key, value in extravars.items():
        hit = secret or bool(SECRET_KEY_RE.search(str(key)))
        if isinstance(value, Mapping):
            out |= _secret_values(value, hit)
        elif isinstance(value, list | tuple):
            for v in value:
                if isinstance(v, Mapping):
                    out |= _secret_values(v, hit)
                elif hit and v not in (None, ""):
                    out.add(str(v))
        elif hit and value not in (None, "") and not isinstance(value, bool):
            out.add(str(value))
    return {s for s in out if len(s) >= 3}


def _redact_in_place(event: dict, secrets: set[str]) -> None:
    text = json.dumps(event)
    new = text
    for s in sorted(secrets, key=len, reverse=True):
        new = new.replace(json.dumps(s)[1:-1], REDACTED)
    if new != text:
        event.clear()
        event.update(json.loads(new))


def _scrub_tree(root: Path, secrets: set[str]) -> None:
    if not secrets or not root.exists():
        return
    needles = sorted({n for s in secrets for n in (s, json.dumps(s)[1:-1])}, key=len, reverse=True)
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        new = text
        for n in needles:
            new = new.replace(n, REDACTED)
        if new != text:
            path.write_text(new, encoding="utf-8")


def _cleanup_env(pdd: Path) -> None:
    for name in ENV_INPUT_FILES:
        with contextlib.suppress(FileNotFoundError):
            (pdd / "env" / name).unlink()


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


def _end_tree(proc: subprocess.Popen, pgid: int, control_dir: Path | None = None) -> None:
    masters = control_dir is not None and any(control_dir.iterdir())
    if proc.poll() is not None and not masters and not group_alive(pgid):
        return  # the usual end: nothing left, and no /proc scan (P3 overhead)
    # Snapshot the tree first: a process that left the group (setsid) is still found by
    # parentage while its parent lives; an ssh control master that detached is found by
    # its private ControlPath in its command line.
    extra = descendants(proc.pid) | (_with_cmdline(str(control_dir)) if masters else set())
    if proc.poll() is None:
        extra.add(proc.pid)
    _kill_pids(pgid, extra, KILL_GRACE_S)
    with contextlib.suppress(Exception):
        proc.wait(timeout=KILL_GRACE_S)


def _kill_pids(pgid: int, pids: set[int], grace_s: float) -> None:
    def alive() -> set[int]:
        table = _proc_table()
        return {p for p, (_, grp, st) in table.items() if st != "Z" and (grp == pgid or p in pids)}

    targets = alive()
    if not targets:
        return
    _signal_all(pgid, targets, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while targets and time.monotonic() < deadline:
        time.sleep(0.01)  # polling the process table with a deadline
        targets = alive()
    if targets:
        _signal_all(pgid, targets, signal.SIGKILL)
        deadline = time.monotonic() + grace_s
        while targets and time.monotonic() < deadline:
            time.sleep(0.01)
            targets = alive()
    if targets:
        raise DrillError(f"processes {sorted(targets)} of group {pgid} survived SIGKILL")


def group_alive(pgid: int) -> bool:
    """Whether any process of the group still exists."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _with_cmdline(marker: str) -> set[int]:
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


def _signal_all(pgid: int, pids: set[int], sig: int) -> None:
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
