"""Helpers for the Ansible tests.

Not a conftest.py: a second `conftest` module would shadow tests/conftest.py for
`from conftest import ...` in other folders.
"""

from __future__ import annotations

import os
from pathlib import Path

LOCAL_INVENTORY = """\
all:
  children:
    drill_control:
      hosts:
        lab:
          ansible_connection: local
          ansible_python_interpreter: "{{ ansible_playbook_python }}"
"""


def processes_with(marker: str) -> list[int]:
    """Live processes whose command line contains `marker`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            raw = Path(f"/proc/{entry}/cmdline").read_bytes()
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in raw and state != "Z":
            found.append(int(entry))
    return found
