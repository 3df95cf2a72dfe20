"""The inventory's secret values, for redaction from the journal and the Ansible artifacts."""

from __future__ import annotations

import os
from pathlib import Path

from orchestrator.model.redact import secret_values


def inventory_secrets(inventory_path: Path) -> list[str]:
    """Values of every inventory variable named like a secret (`*password*`, `*token*`,
    `*secret*`, `*key*`, …) in the inventory file and its group_vars/host_vars, so they are
    redacted from the journal and scrubbed from the Ansible artifacts kept."""
    import yaml

    class _Loader(yaml.SafeLoader):
        pass

    # `!vault` and other tags: their plaintext comes from vault_values when it can.
    _Loader.add_multi_constructor("!", lambda _loader, _suffix, _node: None)
    path = Path(inventory_path)
    base = path if path.is_dir() else path.parent
    files = [path] if path.is_file() else sorted(path.glob("hosts.y*ml"))
    for sub in ("group_vars", "host_vars"):
        if (base / sub).is_dir():
            files += sorted(p for p in (base / sub).rglob("*") if p.is_file()
                            and p.suffix in ("", ".yml", ".yaml"))
    found: list[str] = []
    for f in files:
        try:
            doc = yaml.load(f.read_text(encoding="utf-8"), Loader=_Loader)  # a SafeLoader
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        found += [v for v in secret_values(doc) if isinstance(v, str) and "{{" not in v]
    return sorted(set(found))

def vault_values(inventory_path: Path) -> list[str]:
    """Decrypted Vault values of the inventory (when a vault password is configured), so
    that they are redacted from every journal record, not only from Ansible's artifacts."""
    try:
        from orchestrator.config.vault import vault_plaintexts

        return sorted(vault_plaintexts(inventory_path, os.environ))
    except Exception:  # no vault configured or unreadable: ansible-playbook will say so
        return []
