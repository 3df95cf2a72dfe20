"""The one reader of Ansible inventories: Ansible's own inventory manager, in-process.

INI and YAML sources, inventory folders, `group_vars/` and `host_vars/` (files or
folders), inventory plugins and Vault therefore mean exactly what they mean to the
firm's playbooks. Ansible is imported only when an inventory is read, never by
`drill --help` or `drill list`.

Without a vault password, `!vault` values stay sealed (`Vaulted`) and a vault-encrypted
vars file is left unread (named in `sealed_files`), so `drill validate` works without
the password; only the secret values themselves are then unknown.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import io
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from orchestrator.errors import InputError, Problem
from orchestrator.model.ansible_inventory import (
    AnsibleInventory,
    Defined,
    InventoryGroup,
    InventoryHost,
    Vaulted,
)

_YAML = (".yml", ".yaml", ".json")
# Set on every host by Ansible itself, not by the inventory (ansible-inventory drops them too).
_MAGIC = frozenset({"inventory_dir", "inventory_file"})


def read_inventory(path: str | Path, env: Mapping[str, str] | None = None) -> AnsibleInventory:
    """Read an inventory file or folder; the vault password is taken from `env`
    (ANSIBLE_VAULT_PASSWORD_FILE / ANSIBLE_VAULT_IDENTITY_LIST) as ansible-playbook would.
    A plain inventory read before with the same files and settings is served from
    `config/inventory_cache.py` without importing Ansible."""
    from orchestrator.config import inventory_cache

    path = Path(path)
    key = inventory_cache.key_of(path, os.environ if env is None else env)
    kept = inventory_cache.load(key) if key is not None else None
    if kept is not None:
        return kept
    read = _read(path, env, plaintexts=None)
    if key is not None:
        inventory_cache.store(key, read)
    return read


def vault_plaintexts(path: str | Path, env: Mapping[str, str]) -> set[str]:
    """The decrypted Vault values of an inventory (inline `!vault` values and every string
    of a vault-encrypted vars file), read through Ansible's own loader with the vault
    password of `env`; empty when none is configured or it does not open them."""
    ids, password_file = _vault_ids(env)
    if not ids and not password_file:
        return set()
    found: set[str] = set()
    try:
        inv = _read(Path(path), env, plaintexts=found)
    except InputError:
        return set()
    vault = _vault_lib(env)
    for _, value in inv.vaulted():
        try:
            found.add(vault.decrypt(value.ciphertext.strip()).decode("utf-8", "replace"))
        except Exception:  # another vault id's value: ansible-playbook reports it
            continue
    return {s for s in found if len(s) >= 3}


def _vault_ids(env: Mapping[str, str]) -> tuple[list[str], str | None]:
    ids = [i for i in env.get("ANSIBLE_VAULT_IDENTITY_LIST", "").split(",") if i.strip()]
    return ids, env.get("ANSIBLE_VAULT_PASSWORD_FILE") or None


def _vault_secrets(env: Mapping[str, str] | None) -> list | None:
    if env is None:
        return None
    ids, pw_file = _vault_ids(env)
    if not ids and not pw_file:
        return None
    from ansible.cli import CLI
    from ansible.parsing.dataloader import DataLoader

    try:
        return CLI.setup_vault_secrets(
            DataLoader(), vault_ids=ids, vault_password_files=[pw_file] if pw_file else [],
            ask_vault_pass=False, auto_prompt=False, initialize_context=False)
    except Exception:  # a bad password file: ansible-playbook will say so itself
        return None


def _vault_lib(env: Mapping[str, str]):
    from ansible.parsing.vault import VaultLib

    return VaultLib(_vault_secrets(env) or [])


def _loader(secrets: list | None, sealed: list[str], plaintexts: set[str] | None):
    """Ansible's DataLoader, except that without a vault password an encrypted vars file
    is skipped (and noted) instead of failing the whole inventory."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.parsing.vault import is_encrypted_file

    class Loader(DataLoader):
        # One parse per file per read. Ansible's `auto` plugin parses a YAML source only to
        # look for a `plugin:` key and the `yaml` plugin then parses it again, as trusted
        # inventory data; `auto` is served that same trusted parse (it reads one key).
        def __init__(self) -> None:
            super().__init__()
            self._uncached: dict[str, Any] = {}  # per loader, so per read

        def load_from_file(self, file_name, *args, **kwargs):
            if kwargs.get("cache") == "none" and not args:
                key = self.path_dwim(file_name)
                if key not in self._uncached:
                    self._uncached[key] = self._load(file_name, cache="none", unsafe=True,
                                                     trusted_as_template=True)
                return self._uncached[key]
            return self._load(file_name, *args, **kwargs)

        def _load(self, file_name, *args, **kwargs):
            try:
                with open(self.path_dwim(file_name), "rb") as fh:
                    encrypted = is_encrypted_file(fh)
            except OSError:
                encrypted = False  # Ansible's own load reports it
            if encrypted and not secrets:
                sealed.append(str(file_name))
                return {}
            data = super().load_from_file(file_name, *args, **kwargs)
            if encrypted and plaintexts is not None:
                plaintexts.update(s for s in _leaves(_plain(data)) if isinstance(s, str))
            return data

    loader = Loader()
    if secrets:
        loader.set_vault_secrets(secrets)
    return loader


def _forget_vars_cache(folder: Path) -> None:
    """Ansible's host_group_vars plugin remembers, per process, which vars files exist
    (ansible-playbook reads an inventory once per process); drill reads inventories that
    change between reads, so it forgets what it knew about this folder first."""
    from ansible.plugins.vars import host_group_vars as hgv

    real = os.path.realpath(folder)
    missing, found = getattr(hgv, "NAK", set()), getattr(hgv, "FOUND", {})
    for sub in ("group_vars", "host_vars"):
        missing.discard(os.path.join(real, sub))
    for key in [k for k in found if k.endswith((f".{real}/group_vars", f".{real}/host_vars"))]:
        del found[key]


def _shown_warnings() -> set[str]:
    """The warnings Ansible has shown in this process: it shows each once, and drill must
    see a read's warnings (a duplicate key) every time it reads, so it forgets them."""
    from ansible.utils.display import Display

    shown = getattr(Display(), "_warns", None)
    return shown if isinstance(shown, set) else set()


def _read(path: Path, env: Mapping[str, str] | None, plaintexts: set[str] | None) -> AnsibleInventory:
    if not path.exists():
        raise InputError(Problem(str(path), None, "", "no such inventory file or folder"))
    from ansible.inventory.manager import InventoryManager
    from ansible.plugins.loader import init_plugin_loader
    from ansible.utils.collection_loader import AnsibleCollectionConfig
    from ansible.vars.manager import VariableManager
    from ansible.vars.plugins import get_vars_from_inventory_sources

    if AnsibleCollectionConfig.collection_finder is None:  # once per process, as Ansible does
        init_plugin_loader()
    folder = path if path.is_dir() else path.parent
    _forget_vars_cache(folder)
    sealed: list[str] = []
    loader = _loader(_vault_secrets(os.environ if env is None else env), sealed, plaintexts)
    source = str(path.resolve())
    # Ansible prints its warnings (e.g. a known_hosts file in the inventory folder is no
    # inventory) straight to stderr; drill keeps them with the result instead. Inventories
    # are read before a run starts its threads, so the swap hides nobody else's output.
    shown = _shown_warnings()
    before = set(shown)
    with contextlib.redirect_stderr(io.StringIO()) as said:
        try:
            im = InventoryManager(loader=loader, sources=[source])
            if not im._inventory.processed_sources:
                raise InputError(_unparsed(path))
            vm = VariableManager(loader=loader, inventory=im)
            groups = {str(name): (g, {**g.get_vars(), **get_vars_from_inventory_sources(
                loader, im._sources, [g], "all")}) for name, g in im.groups.items()}
            hosts, plain_vars = {}, _plainer()
            for h in im.hosts.values():
                own = {**h.vars, **get_vars_from_inventory_sources(loader, im._sources, [h], "all")}
                effective = vm.get_vars(host=h, include_hostvars=False, stage="all")
                hosts[str(h.name)] = InventoryHost(
                    name=str(h.name), vars=plain_vars({k: v for k, v in own.items() if k not in _MAGIC}),
                    effective=plain_vars(effective))
        except InputError:
            raise
        except Exception as e:  # a broken source or vars file: Ansible's words, its file:line
            raise InputError(_ansible_problem(e, path)) from None
        finally:
            shown.intersection_update(before)
    all_vars = groups["all"][1] if "all" in groups else {}
    duplicates = "duplicate mapping key" in said.getvalue()
    return AnsibleInventory(
        path=path, folder=folder,
        groups={name: InventoryGroup(name=name, vars=plain_vars(own),
                                     hosts=tuple(str(h.name) for h in g.hosts),
                                     children=tuple(str(c.name) for c in g.child_groups))
                for name, (g, own) in groups.items()},
        hosts=hosts,
        defined={str(k): d for k, v in all_vars.items() if (d := _origin(v)) is not None},
        sealed_files=tuple(dict.fromkeys(sealed)),
        warnings=tuple(line for line in said.getvalue().splitlines() if line.startswith("[WARNING]")),
        as_written=frozenset() if duplicates else frozenset(
            str(k) for k, v in all_vars.items() if _plain_yaml(v)))


def _ansible_problem(error: BaseException, path: Path) -> Problem:
    """Ansible's message, at the file and line its error chain points to."""
    message = str(error).splitlines()[0] if str(error) else type(error).__name__
    seen: BaseException | None = error
    while seen is not None:
        origin = getattr(seen, "obj", None)
        if getattr(origin, "path", None) and hasattr(origin, "line_num"):  # Ansible's Origin
            return Problem(str(origin.path), origin.line_num, "", message)
        seen = seen.__cause__ or seen.__context__
    return Problem(str(path), None, "", f"Ansible cannot read the inventory: {message}")


def _unparsed(path: Path) -> Problem:
    """Ansible parsed nothing: say where. YAML: the YAML reader names the line; INI:
    Ansible's INI plugin, with the line it stopped on."""
    from orchestrator.config.yamlsrc import load_yaml

    files = [path] if path.is_file() else sorted(p for p in path.iterdir() if p.is_file())
    for f in files:
        if f.suffix in _YAML:
            load_yaml(f)  # raises with file:line when it is not valid YAML
            return Problem(str(f), 1, "", "expected an Ansible YAML inventory (a mapping with all:)")
    for f in files:
        if f.suffix in ("", ".ini", ".cfg", ".hosts"):
            return _ini_problem(f)
    what = "file" if path.is_file() else "folder has no inventory file (hosts.yml, hosts.ini, …)"
    return Problem(str(path), None, "", f"Ansible cannot read this inventory {what}")


def _ini_problem(file: Path) -> Problem:
    from ansible.inventory.data import InventoryData
    from ansible.parsing.dataloader import DataLoader
    from ansible.plugins.loader import inventory_loader

    plugin = inventory_loader.get("ini")
    stopped: list[int] = []
    parse = plugin._parse

    def _parse(lines):  # remember the line: Ansible forgets it before it re-raises
        try:
            parse(lines)
        except Exception:
            stopped.append(plugin._origin.line_num)
            raise

    plugin._parse = _parse
    try:
        plugin.parse(InventoryData(), DataLoader(), str(file))
    except Exception as e:  # Ansible's own words, its innermost cause first
        while e.__cause__ is not None:
            e = e.__cause__
        return Problem(str(file), stopped[0] if stopped else None, "",
                       f"not a valid INI inventory: {str(e).splitlines()[0]}")
    return Problem(str(file), None, "", "Ansible cannot read this inventory file")


def _origin(value: Any) -> Defined | None:
    try:
        from ansible._internal._datatag._tags import Origin
    except ImportError:  # an Ansible without data tags: no line, the file is still found
        return None
    tag = Origin.get_tag(value)
    if tag is None or not tag.path:
        return None
    return Defined(file=str(tag.path), line=tag.line_num)


def _plainer() -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """Vars as plain Python, for one read: a value every host shares (the `drill`
    variable) is converted once, not once per host and group."""
    done: dict[int, tuple[Any, Any]] = {}

    def plain_vars(vars_: Mapping[str, Any]) -> dict[str, Any]:
        out = {}
        for k, v in vars_.items():
            if isinstance(v, Mapping | list):
                hit = done.get(id(v))
                if hit is None or hit[0] is not v:  # kept alive in `done`: ids are not reused
                    hit = done[id(v)] = (v, _plain(v))
                out[str(k)] = hit[1]
            else:
                out[str(k)] = _plain(v)
        return out

    return plain_vars


def _plain(value: Any) -> Any:
    """Ansible's tagged values as plain Python; Vault values stay sealed."""
    from ansible.parsing.vault import EncryptedString

    if isinstance(value, EncryptedString):
        return Vaulted(ciphertext=str(value._ciphertext))
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, _dt.date | _dt.datetime | _dt.time):
        return value.isoformat()
    return str(value)


def _plain_yaml(value: Any) -> bool:
    """Whether Ansible's value is what drill's YAML reader makes of the same text: no date
    (drill keeps it as written), Vault value, non-text key, NaN, bytes or set."""
    if value is None or isinstance(value, str | int):  # bool is an int
        return True
    if isinstance(value, float):
        return value == value
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain_yaml(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain_yaml(v) for v in value)
    return False


def _leaves(value: Any):
    if isinstance(value, Mapping):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from _leaves(v)
    else:
        yield value
