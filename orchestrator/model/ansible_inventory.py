"""An Ansible inventory as Ansible itself reads it: groups, hosts and their variables.

Built by `orchestrator.config.ansible_inventory.read_inventory` (Ansible's own inventory
manager, so INI, YAML, `group_vars/`, `host_vars/`, plugins and Vault behave as they do for
the firm's playbooks). Pure data: plain dicts, lists and scalars; Vault values stay sealed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Vaulted:
    """An Ansible Vault value (`!vault`): its ciphertext only, never its plaintext."""

    ciphertext: str


@dataclass(frozen=True)
class Defined:
    """Where a variable was defined: the file and 1-based line Ansible read it from."""

    file: str
    line: int | None


@dataclass(frozen=True)
class InventoryGroup:
    name: str
    vars: Mapping[str, Any]  # the group's own vars: inventory source plus group_vars/
    hosts: tuple[str, ...]
    children: tuple[str, ...]


@dataclass(frozen=True)
class InventoryHost:
    name: str
    vars: Mapping[str, Any]  # the host's own vars: inventory source plus host_vars/
    effective: Mapping[str, Any]  # every var the host sees, merged as Ansible merges them


@dataclass(frozen=True)
class AnsibleInventory:
    path: Path  # the source as given (file or folder)
    folder: Path  # Ansible's inventory_dir
    groups: Mapping[str, InventoryGroup]
    hosts: Mapping[str, InventoryHost]
    defined: Mapping[str, Defined]  # where each var of group `all` came from
    sealed_files: tuple[str, ...] = ()  # vault-encrypted files left unread: no vault password
    warnings: tuple[str, ...] = ()  # what Ansible warned about while reading
    # vars of group `all` whose value is plain data (mappings with text keys, lists, text,
    # numbers, booleans, null) read without a duplicate-key warning: a YAML reader of
    # their file reads the same value (config/inventory.py then skips its second read)
    as_written: frozenset[str] = frozenset()

    @property
    def all_vars(self) -> Mapping[str, Any]:
        """The variables of group `all`: what every host sees unless a group overrides it."""
        group = self.groups.get("all")
        return group.vars if group is not None else {}

    def members(self, group: str) -> frozenset[str]:
        """The hosts of `group` and of its child groups, as Ansible's `groups[group]`."""
        out: set[str] = set()
        todo, seen = [group], set()
        while todo:
            g = self.groups.get(todo.pop())
            if g is not None and g.name not in seen:
                seen.add(g.name)
                out.update(g.hosts)
                todo.extend(g.children)
        return frozenset(out)

    def vaulted(self) -> Iterator[tuple[str, Vaulted]]:
        """Every Vault value, as (`<group>.vars.<var>` or `<host>.<var>` path, value)."""
        for name, group in self.groups.items():
            for key, value in group.vars.items():
                yield from _vaulted(value, f"{name}.vars.{key}")
        for name, host in self.hosts.items():
            for key, value in host.vars.items():
                yield from _vaulted(value, f"{name}.{key}")

    def to_document(self) -> dict[str, Any]:
        """A YAML inventory document with the same groups, hosts and variables (the
        `ansible-inventory --list --export` view), for writing one self-contained file."""
        seen: set[str] = set()

        def group_doc(name: str) -> dict[str, Any]:
            g = self.groups[name]
            out: dict[str, Any] = {}
            if g.vars:
                out["vars"] = dict(g.vars)
            hosts = {h: (dict(self.hosts[h].vars) if h not in seen else None) for h in g.hosts}
            seen.update(hosts)
            if hosts:
                out["hosts"] = hosts
            children = {c: group_doc(c) for c in g.children if c in self.groups}
            if children.get("ungrouped") == {}:  # Ansible's implicit group, empty
                del children["ungrouped"]
            if children:
                out["children"] = children
            return out

        return {"all": group_doc("all")} if "all" in self.groups else {"all": {}}


def _vaulted(value: Any, path: str) -> Iterator[tuple[str, Vaulted]]:
    if isinstance(value, Vaulted):
        yield path, value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from _vaulted(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _vaulted(v, f"{path}[{i}]")
