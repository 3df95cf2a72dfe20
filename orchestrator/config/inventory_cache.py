"""Ansible's reads of plain inventories, kept under `$DRILL_HOME/cache/inventory/` (issue 19,
P4): a read costs about 0.6 s, most of it importing Ansible, and `drill run` paid it before
its first step.

The key is everything the read depends on, so a kept value is what a fresh read gives: the
source as given and resolved; the bytes of every file Ansible reads for it (a folder's files,
or the file with the `group_vars/` and `host_vars/` beside it); the current folder and the
Python (Ansible's `playbook_dir` and `ansible_playbook_python`); every `ANSIBLE_*` variable
and each `ansible.cfg` Ansible may load; Ansible's release and this reader's own code.

Never kept: a read that could decrypt Vault (the values would be stored in clear); a source
Ansible would run (an executable file) or hand to an inventory plugin (`plugin:`), or a
configuration that enables other inventory or vars plugins (their output is not in the
files); a read that fails (its error is found afresh). A damaged or unwritable cache only
costs the read.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import os
import pickle
import re
import sys
from collections.abc import Mapping
from pathlib import Path

from orchestrator.config.project import drill_home
from orchestrator.model import ansible_inventory as model
from orchestrator.model.ansible_inventory import AnsibleInventory

FORMAT = b"drill-inventory-cache 1"
KEEP = 64  # newest entries kept: a few inventories and their recent versions
_MAX_FILES, _MAX_BYTES = 5_000, 64 << 20  # beyond this, hashing costs more than it saves
_PLUGIN = re.compile(rb"(?m)^plugin\s*:")
_VAULT_ENV = ("ANSIBLE_VAULT_PASSWORD_FILE", "ANSIBLE_VAULT_IDENTITY_LIST")
_PLUGIN_ENV = ("ANSIBLE_INVENTORY_ENABLED", "ANSIBLE_VARS_ENABLED", "ANSIBLE_INVENTORY_PLUGINS",
               "ANSIBLE_VARS_PLUGINS")
_PLUGIN_CFG = re.compile(rb"(?i)enable_plugins|vars_plugins_enabled|inventory_plugins|vars_plugins"
                         rb"|vault_password_file|vault_identity_list")
_CODE = ("config/ansible_inventory.py", "config/inventory_cache.py", "model/ansible_inventory.py")


def cache_dir() -> Path:
    return drill_home() / "cache" / "inventory"


def key_of(path: Path, env: Mapping[str, str]) -> str | None:
    """The cache key of reading `path` with `env`, or None when such a read is never kept."""
    if any(env.get(k) or os.environ.get(k) for k in _VAULT_ENV + _PLUGIN_ENV):
        return None
    h = hashlib.sha256(FORMAT)
    try:
        resolved = path.resolve(strict=True)
        # the magic vars a host sees: playbook_dir (the current folder), the interpreter
        for part in (str(path), str(resolved), os.getcwd(), sys.executable, sys.version,
                     *_ansible_vars()):
            _add(h, part.encode("utf-8", "surrogateescape"))
        for cfg in _configs():
            text = cfg.read_bytes()
            if _PLUGIN_CFG.search(text):
                return None
            _add(h, str(cfg).encode("utf-8", "surrogateescape"), text)
        if not _add_code(h):
            return None
        files = _files(resolved)
        if files is None:
            return None
        for f in files:
            data = f.read_bytes()
            if os.access(f, os.X_OK) or _PLUGIN.search(data):
                return None
            _add(h, str(f.relative_to(resolved if resolved.is_dir() else resolved.parent)).encode(
                "utf-8", "surrogateescape"), data)
    except (OSError, ValueError):
        return None
    return h.hexdigest()


def load(key: str) -> AnsibleInventory | None:
    try:
        blob = (cache_dir() / f"{key}.pickle").read_bytes()
        value = _Unpickler(io.BytesIO(blob)).load()
    except Exception:  # absent, damaged or foreign: read afresh
        return None
    return value if isinstance(value, AnsibleInventory) else None


def store(key: str, inventory: AnsibleInventory) -> None:
    folder = cache_dir()
    tmp = folder / f".{key}.{os.getpid()}.tmp"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(inventory, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, folder / f"{key}.pickle")  # readers see a whole entry or none
        _prune(folder)
    except OSError:
        tmp.unlink(missing_ok=True)


def _add(h, *parts: bytes) -> None:
    for p in parts:  # length-prefixed: no two sequences hash alike
        h.update(len(p).to_bytes(8, "big"))
        h.update(p)


def _ansible_vars() -> list[str]:
    return [f"{k}={v}" for k, v in sorted(os.environ.items()) if k.startswith("ANSIBLE_")]


def _configs() -> list[Path]:
    """Every ansible.cfg Ansible may load, in its order (only the first found applies)."""
    named = os.environ.get("ANSIBLE_CONFIG")
    candidates = [Path(named)] if named else []
    candidates += [Path.cwd() / "ansible.cfg", Path.home() / ".ansible.cfg",
                   Path("/etc/ansible/ansible.cfg")]
    return [p for p in candidates if p.is_file()]


def _add_code(h) -> bool:
    """Ansible's release and the reader's own code: either changing makes a new key."""
    spec = importlib.util.find_spec("ansible")
    if spec is None or spec.origin is None:
        return False
    release = Path(spec.origin).with_name("release.py")
    _add(h, str(release).encode(), release.read_bytes())
    root = Path(__file__).resolve().parents[1]
    for rel in _CODE:
        _add(h, (root / rel).read_bytes())
    return True


def _files(source: Path) -> list[Path] | None:
    """The files Ansible may read for `source`, sorted; None when too many to hash."""
    if source.is_dir():
        roots, found = [source], []
    else:
        roots, found = [source.parent / "group_vars", source.parent / "host_vars"], [source]
    total = sum(f.stat().st_size for f in found)
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
            dirnames.sort()
            for name in sorted(filenames):
                f = Path(dirpath, name)
                found.append(f)
                total += f.stat().st_size
                if len(found) > _MAX_FILES or total > _MAX_BYTES:
                    return None
    return found


def _prune(folder: Path) -> None:
    entries = sorted(folder.glob("*.pickle"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
    for old in entries[KEEP:]:
        old.unlink(missing_ok=True)


class _Unpickler(pickle.Unpickler):
    """Only the inventory's own types: a cache file can hold data, never code."""

    _ALLOWED = {("pathlib", "PosixPath"), ("pathlib", "WindowsPath"), ("pathlib", "Path")} | {
        (model.__name__, name) for name in
        ("AnsibleInventory", "InventoryGroup", "InventoryHost", "Vaulted", "Defined")}

    def find_class(self, module: str, name: str):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} is not an inventory type")
        return super().find_class(module, name)
