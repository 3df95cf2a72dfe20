#!/usr/bin/python
"""Prepare and seal a drill evidence folder in one module run each (R-SEC-2): create its
folders; then redact every config holding a password, hash every file and write
manifest.json. Replaces a find, a replace per config, a find and a template: the cost
stays flat in the number of gateways, for every driver. On the control host it runs inside
Ansible's worker (action_plugins/drill_inprocess.py)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: drill_evidence
short_description: Prepare or seal a drill evidence folder
description:
  - O(state=prepared) creates O(path) and its O(folders) (mode 0750).
  - O(state=sealed) redacts, in place, every file under O(path)/configs that has a line
    matching O(password_line_regex) (O(password_regex) replaced by its first group and
    C(********)), then hashes every regular, non-hidden file under O(path) except
    C(manifest.json) and writes O(path)/manifest.json (mode 0640), C(files[]) sorted by path
    with C({path, bytes, sha256}) and, for a redacted config, C(redacted) and
    C(sha256_original), the SHA-256 of the file before redaction.
  - Returns no file content. In check mode nothing is written.
options:
  path:
    description: The evidence folder.
    type: path
    required: true
  state:
    description: What to do.
    type: str
    choices: [prepared, sealed]
    default: sealed
  folders:
    description: Sub-folders to create (O(state=prepared)).
    type: list
    elements: str
    default: [configs, logs, routes]
  password_regex:
    description: What to redact; group 1 is kept.
    type: str
    default: '(?i)(password\s*[=:]\s*"?)[^"\s<>]+'
  password_line_regex:
    description: A config holding a password has a line this matches (from the line's start).
    type: str
    default: '(?i).*password\s*[=:]\s*"?[^"\s<>]'
  run_id:
    description: The run id, for the manifest.
    type: str
  environment:
    description: The environment name, for the manifest.
    type: str
"""

RETURN = r"""
files:
  description: How many files the manifest lists.
  type: int
  returned: state=sealed
redacted:
  description: Paths (relative to O(path)) of the configs redacted.
  type: list
  returned: state=sealed
"""

import datetime
import hashlib
import json
import os
import re

from ansible.module_utils.basic import AnsibleModule

MANIFEST = "manifest.json"


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _files(root):
    """Regular, non-hidden files under root, except the manifest (as `find` selected them)."""
    for folder, _dirs, names in os.walk(root):
        for name in names:
            full = os.path.join(folder, name)
            if name.startswith(".") or name == MANIFEST or os.path.islink(full):
                continue
            if os.path.isfile(full):
                yield full


def _prepare(p, check_mode):
    missing = [os.path.join(p["path"], f) for f in [""] + p["folders"]
               if not os.path.isdir(os.path.join(p["path"], f))]
    if not check_mode:
        for folder in missing:
            os.makedirs(folder, mode=0o750, exist_ok=True)
            os.chmod(folder, 0o750)
    return {"changed": bool(missing), "created": missing}


def _seal(p, check_mode):
    root = p["path"]
    if not os.path.isdir(root) and check_mode:  # --check never created it
        return {"changed": True, "files": 0, "redacted": []}
    if not os.path.isdir(root):
        return {"failed": True, "changed": False, "msg": f"drill_evidence: {root} is not a folder"}
    redact = re.compile(p["password_regex"], re.MULTILINE)
    holds = re.compile(p["password_line_regex"])
    originals = {}
    configs = os.path.join(root, "configs")
    for path in sorted(_files(configs)) if os.path.isdir(configs) else []:
        with open(path, encoding="utf-8", errors="surrogateescape") as fh:
            text = fh.read()
        if not any(holds.match(line) for line in text.splitlines()):
            continue
        originals[path] = _sha256(path)
        if not check_mode:
            mode = os.stat(path).st_mode & 0o7777
            with open(path, "w", encoding="utf-8", errors="surrogateescape") as fh:
                fh.write(redact.sub(lambda m: m.group(1) + "********", text))
            os.chmod(path, mode)
    entries = []
    for path in sorted(_files(root)):
        entry = {"path": os.path.relpath(path, root), "bytes": os.path.getsize(path),
                 "sha256": _sha256(path)}
        if path in originals:
            entry.update(redacted=True, sha256_original=originals[path])
        entries.append(entry)
    now = datetime.datetime.now(datetime.UTC)
    manifest = {"run_id": p["run_id"], "environment": p["environment"],
                "collected_at": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "algorithm": "sha256",
                "files": entries}
    if not check_mode:
        dest = os.path.join(root, MANIFEST)
        with open(dest + ".tmp", "w", encoding="utf-8") as fh:
            json.dump(manifest, fh, indent=2, ensure_ascii=False)
            fh.write("\n")
        os.chmod(dest + ".tmp", 0o640)
        os.replace(dest + ".tmp", dest)
    return {"changed": True, "files": len(entries),
            "redacted": sorted(os.path.relpath(x, root) for x in originals)}


ARGUMENT_SPEC = {
    "path": {"type": "path", "required": True},
    "state": {"type": "str", "choices": ["prepared", "sealed"], "default": "sealed"},
    "folders": {"type": "list", "elements": "str", "default": ["configs", "logs", "routes"]},
    "password_regex": {"type": "str", "default": r'(?i)(password\s*[=:]\s*"?)[^"\s<>]+'},
    "password_line_regex": {"type": "str", "default": r'(?i).*password\s*[=:]\s*"?[^"\s<>]'},
    "run_id": {"type": "str"},
    "environment": {"type": "str"},
}


def run(p, check_mode):
    """The module's result for params `p`; nothing is written in check mode."""
    return (_prepare if p["state"] == "prepared" else _seal)(p, check_mode)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    result = run(module.params, module.check_mode)
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
