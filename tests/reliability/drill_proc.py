"""Run `drill` as a real subprocess and watch what it leaves behind (reliability tests).

The engine's debug hook pauses it at an exact step boundary:
`DRILL_DEBUG_PAUSE_AT=<phase>:<index>:<start|end>` and `DRILL_DEBUG_PAUSE_FILE=<path>`; the
engine writes the file when it reaches the boundary and waits until the file is removed.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from support import TOLERANCE_S, poll

REPO = Path(__file__).resolve().parents[2]
PHASES = ("precheck", "fault", "recovery", "hold", "restore")
# A whole drill on a small lab, on 2 shared cores: generous, and only a ceiling.
RUN_DEADLINE_S = 600.0


def drill_exe() -> str:
    """The installed console script (`orchestrator.cli:_entry`) next to this interpreter."""
    exe = Path(sys.executable).parent / "drill"
    if not exe.is_file():
        raise AssertionError(f"{exe} missing: `pip install -e .` into the venv")
    return str(exe)


def boundaries(drill_id: str) -> list[str]:
    """Every step boundary of a drill, as the hook spells them: `fault:0:start`, …"""
    from orchestrator.config.scenario import find_drill

    drill = find_drill(REPO / "drills", drill_id)
    out = []
    for phase in PHASES:
        for index, _ in enumerate(drill.phases.get(phase, ())):
            out += [f"{phase}:{index}:start", f"{phase}:{index}:end"]
    return out




# ------------------------------------------------------------------ /proc


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    pgid: int
    sid: int
    start: int  # start time in clock ticks: tells a live pid from a reused one
    state: str

    @property
    def alive(self) -> bool:
        now = read_proc(self.pid)
        return now is not None and now.start == self.start and now.state != "Z"


def read_proc(pid: int) -> Proc | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read().decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    f = stat.rsplit(")", 1)[1].split()
    return Proc(pid, int(f[1]), int(f[2]), int(f[3]), int(f[19]), f[0])


def all_procs() -> Iterator[Proc]:
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (p := read_proc(int(entry))) is not None:
            yield p


def descendants(root: int) -> list[Proc]:
    procs = list(all_procs())
    kids: dict[int, list[Proc]] = {}
    for p in procs:
        kids.setdefault(p.ppid, []).append(p)
    out, todo = [], [root]
    while todo:
        for child in kids.get(todo.pop(), []):
            out.append(child)
            todo.append(child.pid)
    return out


def _environ(pid: int) -> dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return {}
    return dict(item.split("=", 1) for item in raw.decode(errors="replace").split("\0")
                if "=" in item)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return ""


def leftovers(drill_home: Path, keep: Iterable[int] = ()) -> list[str]:
    """Live processes started for this test's DRILL_HOME, other than `keep` (the lab) and
    this test process: `pid cmdline` each."""
    keep = set(keep) | {os.getpid()}
    home = str(drill_home)
    out = []
    for p in all_procs():
        if p.pid in keep or p.state == "Z":
            continue
        if _environ(p.pid).get("DRILL_HOME") == home:
            out.append(f"{p.pid} {_cmdline(p.pid)[:200]}")
    return out


def lab_pids(supervisor_pid: int) -> set[int]:
    """The lab's own processes (supervisor and gateways): expected to keep running."""
    return {supervisor_pid, *(p.pid for p in descendants(supervisor_pid))}


# ------------------------------------------------------------------ drill subprocess


@dataclass
class DrillRun:
    """A `drill …` subprocess in its own session, like a command typed in a terminal."""

    proc: subprocess.Popen
    log: Path
    pause_file: Path | None

    @classmethod
    def start(cls, args: list[str], *, home: Path, workdir: Path, pause_at: str | None = None,
              extra_env: dict[str, str] | None = None, tag: str = "drill",
              preexec=None) -> DrillRun:
        env = {**os.environ, "DRILL_HOME": str(home), "PYTHONUNBUFFERED": "1",
               **(extra_env or {})}
        env.pop("DRILL_DEBUG_PAUSE_AT", None)
        env.pop("DRILL_DEBUG_PAUSE_FILE", None)
        pause_file = None
        if pause_at is not None:
            pause_file = workdir / f"{tag}.paused"
            env["DRILL_DEBUG_PAUSE_AT"] = pause_at
            env["DRILL_DEBUG_PAUSE_FILE"] = str(pause_file)
        log = workdir / f"{tag}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen([drill_exe(), *args], stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, env=env, cwd=REPO,
                                    start_new_session=True, preexec_fn=preexec)
        return cls(proc, log, pause_file)

    @property
    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_paused(self, deadline_s: float = RUN_DEADLINE_S) -> None:
        assert self.pause_file is not None

        def paused_or_gone():
            if self.pause_file.exists():
                return True
            if self.proc.poll() is not None:
                raise AssertionError(f"drill exited {self.proc.returncode} before the pause "
                                     f"point:\n{self.output[-3000:]}")
            return False

        poll(paused_or_gone, deadline_s, "the engine to reach the pause point")

    def release(self) -> None:
        if self.pause_file is not None:
            self.pause_file.unlink(missing_ok=True)

    def interrupt(self, sig: signal.Signals) -> None:
        """SIGINT as Ctrl-C sends it and SIGHUP as a closing terminal sends it (to the
        foreground process group); SIGTERM and SIGKILL to the drill process alone, as
        `kill` or systemd would."""
        if sig in (signal.SIGINT, signal.SIGHUP):
            os.killpg(self.proc.pid, sig)
        else:
            os.kill(self.proc.pid, sig)

    def wait(self, deadline_s: float = RUN_DEADLINE_S) -> int:
        try:
            return self.proc.wait(timeout=deadline_s)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"drill still running after {deadline_s:.0f}s:\n"
                                 f"{self.output[-3000:]}") from None

    def kill(self) -> None:
        """Test cleanup: end the whole session we started, whatever is left of it."""
        for p in [read_proc(self.proc.pid), *descendants(self.proc.pid)]:
            if p is not None and p.alive:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(p.pgid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)


def run_drill(args: list[str], *, home: Path, timeout_s: float = RUN_DEADLINE_S,
              extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "DRILL_HOME": str(home), **(extra_env or {})}
    env.pop("DRILL_DEBUG_PAUSE_AT", None)
    return subprocess.run([drill_exe(), *args], capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=timeout_s, stdin=subprocess.DEVNULL)


# ------------------------------------------------------------------ run folders


def run_folders(reports: Path) -> list[Path]:
    return sorted(p.parent for p in reports.glob("*/*/journal.jsonl"))


def journal_records(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in
            (run_dir / "journal.jsonl").read_bytes().splitlines() if line.strip()]


def every_file_text(folder: Path) -> Iterator[tuple[Path, bytes]]:
    """Every file's bytes, gzip members decompressed too (probes.jsonl.gz)."""
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        yield path, data
        if data[:2] == b"\x1f\x8b" and (inner := _gunzip(data)) is not None:
            yield path, inner


def _gunzip(data: bytes) -> bytes | None:
    try:
        return gzip.decompress(data)
    except (OSError, EOFError):
        return None


# ------------------------------------------------------------------ after a run


def promises_home(drill_id: str) -> bool:
    """Whether the drill's after-check requires every gateway on its home centre (failback
    or a repoint, docs/steady-state.md). md-multicast-fallback does not: its market-data
    gateways reconnect to whichever Shenzhen centre answers first when TCP market data is
    back, as a gateway with both centres configured does."""
    from orchestrator.config.scenario import find_drill

    drill = find_drill(REPO / "drills", drill_id)
    return bool(drill.failback) or any(s.effect is not None and s.effect.repoint_to
                                       for steps in drill.phases.values() for s in steps)


def steady_problem(inventory_path: Path, lab, *, require_home: bool = True) -> str | None:
    """All gateways logged in once, on their home centre (on a Shenzhen centre when
    `require_home` is false); every line and centre up."""
    from orchestrator.config.inventory import load_inventory
    from orchestrator.engine.steady import wait_steady
    from orchestrator.targets.lab import LabTarget

    inv = load_inventory(inventory_path)
    # The engine's after-check already waited; allow one heartbeat timeout for the
    # market-data freshness check to see a tick after the last restart.
    result = wait_steady(inv, observe=LabTarget(lab.state_dir).environment_view, require_home=require_home,
                         timeout_s=inv.timing.heartbeat_timeout + 4 * TOLERANCE_S)
    if result.ok:
        return None
    return f"lab not in steady state: {result.describe_failures()}" + _why(lab, result)


def _why(lab, result) -> str:
    """The failing gateways' own log tails: why a gateway is where it is (seen once in CI,
    a trading gateway away from home after a SIGKILL + recover)."""
    out = []
    for gid in sorted({c.gateway for c in result.failures if c.gateway}):
        log = Path(lab.state_dir) / "gateways" / gid / "gateway.log"
        tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-25:] if log.is_file() else []
        out.append(f"\n--- {log} (last {len(tail)} lines)\n" + "\n".join(tail))
    return "".join(out)


def process_problem(home: Path, lab, snapshot) -> str | None:
    """Nothing the run started is alive: not the processes seen while it was paused, and
    no other process carrying this test's DRILL_HOME except the lab's own."""
    keep = lab_pids(lab.pid)

    def left():
        return ([p for p in snapshot if p.alive and p.pid not in keep], leftovers(home, keep))

    try:  # a group killed a moment ago may need the kernel a moment to reap
        poll(lambda: left() == ([], []), TOLERANCE_S, "the run's processes to be gone")
    except AssertionError:
        return f"processes left behind: {left()}"
    return None
