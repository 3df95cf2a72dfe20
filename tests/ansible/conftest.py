"""Fixtures for the Ansible adapter and playbook tests."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

LOCAL_INVENTORY = """\
all:
  children:
    drill_control:
      hosts:
        lab:
          ansible_connection: local
          ansible_python_interpreter: "{{ ansible_playbook_python }}"
"""


@pytest.fixture
def drill_home(tmp_path, monkeypatch):
    home = tmp_path / "drill-home"
    home.mkdir()
    monkeypatch.setenv("DRILL_HOME", str(home))
    return home


@pytest.fixture
def local_inventory(tmp_path) -> Path:
    path = tmp_path / "local-inventory.yml"
    path.write_text(LOCAL_INVENTORY)
    return path


@pytest.fixture
def write_playbook(tmp_path):
    """Write a playbook whose tasks are the given YAML text, run on the local host."""

    def write(tasks: str, name: str = "pb.yml") -> Path:
        path = tmp_path / name
        body = "\n".join("    " + line if line else "" for line in tasks.strip("\n").splitlines())
        path.write_text(f"- name: Test play\n  hosts: all\n  gather_facts: false\n  tasks:\n{body}\n")
        return path

    return write


@pytest.fixture
def pdd(tmp_path) -> Path:
    """A fresh private_data_dir path (not created: the adapter creates it)."""
    return tmp_path / f"pdd-{uuid.uuid4().hex[:8]}"


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
