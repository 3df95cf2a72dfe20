"""Ansible's read of a plain inventory is kept under $DRILL_HOME (issue 19, P4): a second
read of the same files gives the same value without importing Ansible, and any change to
what Ansible reads gives a fresh read. Reads that could hold decrypted Vault values or
depend on something outside the files are never kept."""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from config_support import lab_drill, production_layout, write

from orchestrator.config import inventory_cache
from orchestrator.config.ansible_inventory import _read, read_inventory
from orchestrator.errors import InputError

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("DRILL_HOME", str(tmp_path / "home"))
    for var in ("ANSIBLE_VAULT_PASSWORD_FILE", "ANSIBLE_VAULT_IDENTITY_LIST",
                *inventory_cache._PLUGIN_ENV):
        monkeypatch.delenv(var, raising=False)


def _entries(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "home" / "cache" / "inventory"
    return sorted(folder.glob("*.pickle")) if folder.is_dir() else []


def _fresh_process_read(inv: Path) -> dict:
    """Read `inv` in a new process: what it read and whether it imported Ansible."""
    code = ("import json, sys\nfrom orchestrator.config.ansible_inventory import read_inventory\n"
            f"inv = read_inventory({str(inv)!r})\n"
            "print(json.dumps({'ansible': 'ansible' in sys.modules, "
            "'drill': inv.all_vars['drill']['environment']['name'], 'hosts': sorted(inv.hosts)}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=inv.parent)
    return json.loads(out.stdout)


def test_a_second_read_is_the_same_value_without_importing_ansible(tmp_path):
    inv = production_layout(tmp_path / "inv", lab_drill(tmp_path))
    first = _fresh_process_read(inv)
    second = _fresh_process_read(inv)
    assert first["ansible"] and not second["ansible"]
    assert first == {**second, "ansible": True}
    assert read_inventory(inv) == _read(inv, None, plaintexts=None)


def test_a_changed_file_is_read_afresh_even_with_the_same_size_and_time(tmp_path):
    inv = production_layout(tmp_path / "inv", lab_drill(tmp_path))
    vars_file = next(p for p in (inv / "group_vars").rglob("*.yml") if "drill" in p.read_text())
    name = read_inventory(inv).all_vars["drill"]["environment"]["name"]
    st = vars_file.stat()
    text = vars_file.read_text(encoding="utf-8")
    assert f"name: {name}\n" in text
    vars_file.write_text(text.replace(f"name: {name}\n", f"name: {name[::-1]}\n", 1), encoding="utf-8")
    os.utime(vars_file, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert vars_file.stat().st_size == st.st_size
    assert read_inventory(inv).all_vars["drill"]["environment"]["name"] == name[::-1]
    # a new host_vars file counts too
    write(inv / "host_vars" / "lab.yml", "extra_var: 1\n")
    assert read_inventory(inv).hosts["lab"].effective["extra_var"] == 1


def test_an_ansible_setting_is_part_of_the_key(tmp_path, monkeypatch):
    inv = production_layout(tmp_path / "inv", lab_drill(tmp_path))
    read_inventory(inv)
    monkeypatch.setenv("ANSIBLE_FORCE_COLOR", "0")
    read_inventory(inv)
    assert len(_entries(tmp_path)) == 2


@pytest.mark.parametrize("why", ["vault password", "executable source", "plugin source",
                                 "plugin setting"])
def test_reads_that_depend_on_more_than_the_files_are_never_kept(tmp_path, monkeypatch, why):
    inv = production_layout(tmp_path / "inv", lab_drill(tmp_path))
    if why == "vault password":
        write(tmp_path / "pw", "secret\n")
        monkeypatch.setenv("ANSIBLE_VAULT_PASSWORD_FILE", str(tmp_path / "pw"))
    elif why == "executable source":
        script = inv / "more.sh"
        write(script, "#!/bin/sh\necho '{}'\n")
        script.chmod(0o755)
    elif why == "plugin source":
        write(inv / "more.yml", "plugin: ansible.builtin.constructed\n")
    else:
        monkeypatch.setenv("ANSIBLE_INVENTORY_ENABLED", "yaml,ini")
    assert inventory_cache.key_of(inv, os.environ) is None
    with contextlib.suppress(InputError):  # whatever Ansible makes of it: never kept
        read_inventory(inv)
    assert _entries(tmp_path) == []


def test_a_failed_read_is_not_kept(tmp_path):
    inv = tmp_path / "inv"
    write(inv / "hosts.yml", "all:\n  hosts:\n    a: {x: [1\n")
    with pytest.raises(InputError):
        read_inventory(inv)
    assert _entries(tmp_path) == []


def test_a_damaged_or_foreign_entry_is_read_afresh_and_runs_no_code(tmp_path):
    inv = production_layout(tmp_path / "inv", lab_drill(tmp_path))
    good = read_inventory(inv)
    (entry,) = _entries(tmp_path)
    assert entry.stat().st_mode & 0o077 == 0  # private to its user
    entry.write_bytes(b"not a pickle")
    assert read_inventory(inv) == good
    marker = tmp_path / "ran"
    entry.write_bytes(pickle.dumps(_Evil(str(marker))))
    assert read_inventory(inv) == good
    assert not marker.exists()


class _Evil:
    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


def test_old_entries_are_pruned(tmp_path, monkeypatch):
    monkeypatch.setattr(inventory_cache, "KEEP", 2)
    inv = production_layout(tmp_path / "inv", lab_drill(tmp_path))
    for n in range(4):
        monkeypatch.setenv("ANSIBLE_DRILL_TEST_KEY", str(n))  # a new key each time
        read_inventory(inv)
    assert len(_entries(tmp_path)) == 2
