"""drill's process ends without Python's teardown only when nothing is left that the teardown
would finish (issue 19, P4): the code, the atexit handlers and the flushed streams are those
of a standard exit; a file still open for writing, or another thread, gets the standard exit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# `_quick_exit(7)` then `sys.exit(9)`: 7 means the quick exit ended the process, 9 that it
# returned for the standard exit.
SCRIPT = """
import atexit, sys, threading
from orchestrator.cli import _quick_exit
marker = sys.argv[1]
atexit.register(lambda: open(marker, "a").write("atexit ran\\n"))
if sys.argv[2] == "open-file":
    kept = open(marker + ".log", "w")
    kept.write("buffered in a file")
if sys.argv[2] == "thread":
    stop = threading.Event()
    threading.Thread(target=stop.wait, args=(2,)).start()
sys.stdout.write("buffered, no newline")
_quick_exit(7)
sys.exit(9)
"""


def _run(tmp_path: Path, case: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "marker"), case],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_the_quick_exit_keeps_the_code_runs_atexit_and_flushes(tmp_path):
    out = _run(tmp_path, "plain")
    assert out.returncode == 7, out.stderr
    assert out.stdout == "buffered, no newline"
    assert (tmp_path / "marker").read_text() == "atexit ran\n"


def test_a_file_still_open_for_writing_gets_the_standard_exit(tmp_path):
    out = _run(tmp_path, "open-file")
    assert out.returncode == 9, out.stderr
    assert (tmp_path / "marker.log").read_text() == "buffered in a file"
    assert out.stdout == "buffered, no newline"


def test_another_thread_alive_gets_the_standard_exit(tmp_path):
    out = _run(tmp_path, "thread")
    assert out.returncode == 9, out.stderr
    assert (tmp_path / "marker").read_text() == "atexit ran\n"
