"""Ansible callback plugin, enabled for every `ansible-playbook` drill runs
(orchestrator/adapters/ansible.py): drill's two hooks into the process itself.

- **The gate.** drill starts a playbook step's process ahead of its turn (issue 19, P4:
  its start-up, about 1 s, then overlaps the step or wait before it). With DRILL_GATE_FD
  set, the process parses its inventory and playbook, then blocks here reading that pipe:
  one byte `g` and the playbook runs; end of file (drill abandoned the step, or died) and
  the process exits at once with GATE_CLOSED_RC, having run nothing. Reaching the gate, it
  writes `r` on DRILL_READY_FD: its start-up is over (drill starts one at a time).
- **A quick exit.** Once the playbook is over, Python's own teardown of Ansible's heap
  takes about 0.2 s per run on the 2-core bed before the process is gone, and drill waits
  for that exit. `sys.exit` in this process (ansible-playbook's last call) runs the atexit
  handlers and flushes the streams as any exit does, then ends the process with the same
  code without that teardown. Forked workers keep the standard exit.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: drill_process
type: aggregate
short_description: drill's gate before the first play, and a quick exit
description:
  - With DRILL_GATE_FD set, blocks in v2_playbook_on_start until one byte is read from it,
    having first written C(r) on DRILL_READY_FD when that is set.
  - Makes sys.exit in the ansible-playbook process skip Python's teardown (atexit handlers
    still run, the streams are flushed).
"""

GATE_CLOSED_RC = 3


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "drill_process"
    CALLBACK_NEEDS_ENABLED = True

    def v2_playbook_on_start(self, playbook):
        sys.exit = _quick_exit(sys.exit, os.getpid())
        fd = os.environ.pop("DRILL_GATE_FD", None)  # not for the workers and modules
        ready = os.environ.pop("DRILL_READY_FD", None)
        if ready is not None:  # through the start-up: drill may start the next one
            with contextlib.suppress(OSError):
                os.write(int(ready), b"r")
            with contextlib.suppress(OSError):
                os.close(int(ready))
        if fd is None:
            return
        try:
            go = os.read(int(fd), 1)
        except OSError:
            go = b""
        finally:
            os.close(int(fd))
        if go != b"g":
            os._exit(GATE_CLOSED_RC)  # nothing has run: no worker, no connection to end


def _quick_exit(standard, pid: int):
    def quick_exit(code=None):
        if os.getpid() != pid:  # a forked worker: its own, standard exit
            standard(code)
        if code is None:
            status = 0
        elif isinstance(code, int):
            status = int(code)
        else:
            sys.stderr.write(f"{code}\n")
            status = 1
        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(status & 0xFF)

    return quick_exit
