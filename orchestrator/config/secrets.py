"""The inventory's secret values, for redaction from the journal and the Ansible artifacts."""

from __future__ import annotations

import os
from pathlib import Path

from orchestrator.model.redact import secret_values


def inventory_secrets(inventory_path: Path) -> list[str]:
    """Values of every inventory variable named like a secret (`*password*`, `*token*`,
    `*secret*`, `*key*`, …) of any group or host, as Ansible reads them (inventory file,
    group_vars/, host_vars/), so they are redacted from the journal and scrubbed from the
    Ansible artifacts kept. Vault values are `vault_values`' business."""
    from orchestrator.config.ansible_inventory import read_inventory
    from orchestrator.errors import InputError

    try:
        source = read_inventory(inventory_path)
    except InputError:
        return []  # an unreadable inventory fails the run elsewhere, with its reason
    found: list[str] = []
    for item in (*source.groups.values(), *source.hosts.values()):
        found += [v for v in secret_values(dict(item.vars)) if "{{" not in v]
    return sorted(set(found))


def vault_values(inventory_path: Path) -> list[str]:
    """Decrypted Vault values of the inventory (when a vault password is configured), so
    that they are redacted from every journal record, not only from Ansible's artifacts."""
    from orchestrator.config.ansible_inventory import vault_plaintexts

    try:
        return sorted(vault_plaintexts(Path(inventory_path), os.environ))
    except Exception:  # no vault configured or unreadable: ansible-playbook will say so
        return []
