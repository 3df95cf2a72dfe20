"""Ansible callback plugin: hold `ansible-playbook` before its first play until drill says go.

drill starts a playbook step's `ansible-playbook` ahead of its turn (issue 19, P4: the
start-up, about 1 s, then overlaps the step or wait before it). The process parses its
inventory and playbook, then blocks here reading the pipe named by DRILL_GATE_FD: one
byte `g` and the playbook runs; end of file (drill abandoned the step, or died) and the
process exits at once with GATE_CLOSED_RC, having run nothing. Enabled only for such runs
(orchestrator/adapters/ansible.py).
"""

from __future__ import annotations

import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: drill_gate
type: aggregate
short_description: wait for drill's go before the first play
description:
  - Blocks in v2_playbook_on_start reading one byte from the file descriptor in DRILL_GATE_FD.
requirements:
  - DRILL_GATE_FD in the environment (else it does nothing)
"""

GATE_CLOSED_RC = 3


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "drill_gate"
    CALLBACK_NEEDS_ENABLED = True

    def v2_playbook_on_start(self, playbook):
        fd = os.environ.pop("DRILL_GATE_FD", None)  # not for the workers and modules
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
