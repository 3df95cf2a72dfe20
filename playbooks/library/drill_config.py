#!/usr/bin/python
"""Repoint a gateway by editing its own config file in place, and put it back byte for
byte (issue 15). The edit itself is module_utils/drill_cfgedit.py (pure functions, unit
tested); this module reads and writes the file on the gateway host, keeps the backup and
reports the sha256 before and after and the diff."""

from __future__ import annotations

DOCUMENTATION = r"""
module: drill_config
short_description: Edit only the server entries of a gateway's own config, and restore it
description:
  - C(state=repoint) backs up the file's exact bytes to O(backup) (unless a backup is
    already there; the bytes before the first change of this drill are kept), then writes
    the file with only its server entries changed (O(format) ini, keyvalue, xml), or with
    O(content) (format template, rendered by the playbook).
  - C(state=restore) puts the backup back byte for byte, checks its sha256 and removes
    the backup. With no backup, nothing changes (drill did not change the file).
  - C(state=stat) only reads the file's sha256 (and whether a backup is waiting).
  - Returns sha256_before and sha256_after, and the diff (also shown by --diff).
  - Supports check mode (nothing is written).
options:
  path: {description: The config file on the host (absolute)., type: path, required: true}
  state: {description: What to do., type: str, choices: [repoint, restore, stat], default: repoint}
  format: {description: ini, keyvalue, xml or template., type: str}
  locator: {description: Where the server entries are (docs/inventory.md)., type: dict, default: {}}
  servers:
    {description: "The new server list, [{centre, address, port}] in order.", type: list, elements: dict, default: []}
  content: {description: The whole new file (format template)., type: str}
  backup: {description: "Where the exact bytes are kept (default: path + .drill-backup).", type: path}
"""

RETURN = r"""
sha256_before: {description: The file's sha256 before this task., type: str, returned: always}
sha256_after: {description: The file's sha256 after this task., type: str, returned: always}
backup: {description: The backup's path., type: str, returned: always}
backup_sha256:
  {description: The backup's sha256 (the bytes before the drill)., type: str, returned: when a backup exists}
unified_diff: {description: The change as a unified diff., type: str, returned: always}
"""

import difflib
import os

from ansible.module_utils.basic import AnsibleModule

try:
    from ansible.module_utils.drill_cfgedit import EditError, edit
    from ansible.module_utils.drill_fileio import read as _read
    from ansible.module_utils.drill_fileio import sha as _sha
    from ansible.module_utils.drill_fileio import write_atomic
except ImportError:  # pragma: no cover - unit tests import module_utils from its folder
    from drill_cfgedit import EditError, edit  # type: ignore[no-redef]
    from drill_fileio import read as _read  # type: ignore[no-redef]
    from drill_fileio import sha as _sha  # type: ignore[no-redef]
    from drill_fileio import write_atomic  # type: ignore[no-redef]


def _write(module, path, data, like):
    """Write `data` to `path` atomically, with the mode and owner of `like`."""
    st = os.stat(like)
    write_atomic(path, data, st.st_mode & 0o7777, (st.st_uid, st.st_gid))


def _text(data, encoding):
    return "" if data is None else data.decode(encoding or "utf-8", errors="replace")


def _diff(path, before, after, encoding):
    a, b = _text(before, encoding), _text(after, encoding)
    lines = difflib.unified_diff(a.splitlines(True), b.splitlines(True), path + " (before)",
                                 path + " (after)")
    return "".join(ln if ln.endswith("\n") else ln + "\n" for ln in lines), a, b


def main():
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "state": {"type": "str", "default": "repoint", "choices": ["repoint", "restore", "stat"]},
            "format": {"type": "str"},
            "locator": {"type": "dict", "default": {}},
            "servers": {"type": "list", "elements": "dict", "default": []},
            "content": {"type": "str"},
            "backup": {"type": "path"},
        },
        supports_check_mode=True,
    )
    p = module.params
    path, state = p["path"], p["state"]
    backup = p["backup"] or path + ".drill-backup"
    locator = p["locator"] or {}
    encoding = locator.get("encoding")
    before = _read(path)
    saved = _read(backup)
    result = {"path": path, "backup": backup, "sha256_before": _sha(before),
              "backup_sha256": _sha(saved), "changed": False}
    if before is None:
        module.fail_json(msg=f"{path}: no such file on this host", **result)
    if state == "stat":
        module.exit_json(sha256_after=_sha(before), unified_diff="",
                         msg=f"{path} sha256 {_sha(before)}", **result)
    if state == "restore":
        if saved is None:
            module.exit_json(sha256_after=_sha(before), unified_diff="", restored=False,
                             msg=f"{path}: no backup, drill did not change it (sha256 {_sha(before)})",
                             **result)
        text, a, b = _diff(path, before, saved, encoding)
        if before != saved and not module.check_mode:
            _write(module, path, saved, path)
        after = saved if module.check_mode else _read(path)
        if not module.check_mode:
            if after != saved:
                module.fail_json(msg=f"{path}: restored but reads back sha256 {_sha(after)}, "
                                     f"backup {_sha(saved)}", **result)
            os.unlink(backup)
        result.update(changed=before != saved, sha256_after=_sha(after), unified_diff=text, restored=True,
                      diff={"before": a, "after": b, "before_header": path, "after_header": backup})
        module.exit_json(msg=f"{path} restored from {backup}: sha256 {_sha(before)} -> {_sha(after)}",
                         **result)
    fmt = p["format"]
    try:
        if fmt == "template":
            if p["content"] is None:
                module.fail_json(msg="format template needs content", **result)
            new = p["content"].encode(encoding or "utf-8")
        else:
            new = edit(before, fmt, locator, p["servers"])
    except EditError as e:
        module.fail_json(msg=f"{path}: {e} (format {fmt}); the file was not changed", **result)
    text, a, b = _diff(path, before, new, encoding)
    kept = saved is not None
    if not module.check_mode:
        if not kept:
            _write(module, backup, before, path)
            if _read(backup) != before:
                module.fail_json(msg=f"{path}: the backup {backup} does not read back as written", **result)
            result["backup_sha256"] = _sha(before)
        if new != before:
            _write(module, path, new, path)
    after = new if module.check_mode else _read(path)
    result.update(changed=new != before, sha256_after=_sha(after), unified_diff=text, backup_kept=kept,
                  diff={"before": a, "after": b, "before_header": path, "after_header": path})
    kept_note = ", kept from an earlier change" if kept else ""
    module.exit_json(msg=f"{path} repointed ({fmt}): sha256 {_sha(before)} -> {_sha(after)}, "
                         f"backup {backup} (sha256 {result['backup_sha256']}{kept_note})", **result)


if __name__ == "__main__":
    main()
