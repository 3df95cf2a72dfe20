"""Ansible Vault plaintexts of an inventory folder, so that drill scrubs what Ansible decrypts.

A reader of the inventory's files (config layer): the Ansible adapter and the journal's
redaction (config.secrets) both use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


def vault_plaintexts(inventory: Path, env: Mapping[str, str]) -> set[str]:
    """Decrypted `!vault` values (and vault-encrypted files) of an inventory folder, using the
    vault ids / password file of `env` as ansible-playbook will; empty when none is set."""
    ids = [i for i in env.get("ANSIBLE_VAULT_IDENTITY_LIST", "").split(",") if i.strip()]
    pw_file = env.get("ANSIBLE_VAULT_PASSWORD_FILE")
    if not ids and not pw_file:
        return set()
    from ansible.cli import CLI
    from ansible.parsing.dataloader import DataLoader
    from ansible.parsing.vault import VaultLib

    try:
        vault = VaultLib(CLI.setup_vault_secrets(
            DataLoader(), vault_ids=ids, vault_password_files=[pw_file] if pw_file else [],
            ask_vault_pass=False, auto_prompt=False, initialize_context=False))
    except Exception:  # a bad password file: ansible-playbook will say so itself
        return set()
    folder = inventory if inventory.is_dir() else inventory.parent
    files = [p for p in folder.rglob("*") if p.is_file() and p.suffix in ("", ".yml", ".yaml")
             and p.stat().st_size < 1_000_000]
    found: set[str] = set()
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        blobs = [text] if text.startswith("$ANSIBLE_VAULT;") else _vault_scalars(text)
        for blob in blobs:
            try:
                plain = vault.decrypt(blob.strip()).decode("utf-8", "replace")
            except Exception:
                continue
            found |= _leaf_strings(plain) if blob is text else {plain}
    return {s for s in found if len(s) >= 3}


def _vault_scalars(text: str) -> list[str]:
    """The `!vault` scalars of a YAML file. Parsed, not pattern-matched: a block scalar
    ends where YAML says, not at the next indented key."""
    import yaml

    found: list[str] = []

    class Loader(yaml.SafeLoader):
        pass

    def vault(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> str:
        found.append(loader.construct_scalar(node))
        return ""

    Loader.add_constructor("!vault", vault)
    Loader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))
    try:
        yaml.load(text, Loader=Loader)
    except yaml.YAMLError:
        return []
    return found


def _leaf_strings(plain: str) -> set[str]:
    """Every scalar of a decrypted vault file (YAML), or the text itself."""
    import yaml

    try:
        doc = yaml.safe_load(plain)
    except yaml.YAMLError:
        return {plain.strip()}
    out: set[str] = set()
    todo = [doc]
    while todo:
        item = todo.pop()
        if isinstance(item, Mapping):
            todo.extend(item.values())
        elif isinstance(item, list):
            todo.extend(item)
        elif item is not None and not isinstance(item, bool):
            out.add(str(item))
    return out
