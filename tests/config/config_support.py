"""Inventory layouts for the reader tests: the lab topology written the ways firms write
Ansible inventories (YAML or INI hosts, group_vars/ and host_vars/ folders)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from orchestrator.lab.testing import make_lab_inventory


def lab_drill(tmp_path: Path, gateways: int = 1) -> dict[str, Any]:
    """A collision-free lab `drill` variable (orchestrator.lab.testing)."""
    inv = make_lab_inventory(tmp_path / "base", gateways=gateways)
    return yaml.safe_load((inv / "hosts.yml").read_text(encoding="utf-8"))["all"]["vars"]["drill"]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def production_layout(folder: Path, drill: dict[str, Any]) -> Path:
    """inventories/production.example's layout: hosts.yml without `drill`, the topology
    in group_vars/all/drill.yml."""
    write(folder / "hosts.yml", yaml.safe_dump({"all": {"children": {"drill_control": {
        "hosts": {"lab": {"ansible_connection": "local",
                          "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}}}}}))
    write(folder / "group_vars" / "all" / "drill.yml",
          "# the drill topology\n" + yaml.safe_dump({"drill": drill}, allow_unicode=True))
    return folder


def ini_layout(folder: Path, drill: dict[str, Any]) -> Path:
    """An INI hosts file; the control host's connection in host_vars/lab.yml, the topology
    in group_vars/all/drill.yml."""
    write(folder / "hosts", "# drill's own tasks run on the control host\n"
          "[drill_control]\nlab\n")
    write(folder / "host_vars" / "lab.yml", yaml.safe_dump({
        "ansible_connection": "local",
        "ansible_python_interpreter": "{{ ansible_playbook_python }}"}))
    write(folder / "group_vars" / "all" / "drill.yml", yaml.safe_dump({"drill": drill},
                                                                     allow_unicode=True))
    return folder
