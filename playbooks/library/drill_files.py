#!/usr/bin/python
"""Write several whole files on one host in one module call (issue 19, P11).

The linux driver renders each gateway's server list (format lab-xml, drill's own file) on
the control host; a host with ten gateways then costs one module start-up, not ten
template tasks of two modules each. Only for files drill owns: a vendor's own config is
edited in place by drill_config, never rewritten whole."""

from __future__ import annotations

DOCUMENTATION = r"""
module: drill_files
short_description: Write several files drill owns, each atomically, in one call
description:
  - Each file whose bytes differ from O(files[].content) is written to a temporary file
    in its own folder and renamed over it, so a reader sees the old file or the new one.
  - Supports check mode (nothing is written) and diff mode.
options:
  files:
    description: The files to write.
    type: list
    elements: dict
    required: true
    suboptions:
      path: {description: Absolute path on the host., type: path, required: true}
      content: {description: The whole file (UTF-8)., type: str, required: true, no_log: true}
      mode: {description: "Octal mode, as a string.", type: str, default: "0640"}
"""

RETURN = r"""
files:
  description: One item per file, in order.
  type: list
  returned: always
  contains:
    path: {description: The file., type: str}
    changed: {description: Whether its bytes changed., type: bool}
    sha256_before: {description: Its sha256 before (null when it did not exist)., type: str}
    sha256_after: {description: Its sha256 after., type: str}
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.drill_fileio import read, sha, write_atomic


def main():
    module = AnsibleModule(
        argument_spec={"files": {"type": "list", "elements": "dict", "required": True, "options": {
            "path": {"type": "path", "required": True},
            "content": {"type": "str", "required": True, "no_log": True},
            "mode": {"type": "str", "default": "0640"},
        }}},
        supports_check_mode=True,
    )
    results, diffs = [], []
    for spec in module.params["files"]:
        path = spec["path"]
        if not os.path.isabs(path):
            module.fail_json(msg=f"drill_files: path must be absolute, got {path!r}")
        try:
            mode = int(spec["mode"], 8)
        except ValueError:
            module.fail_json(msg=f"drill_files: {path}: mode must be octal, got {spec['mode']!r}")
        new = spec["content"].encode()
        old = read(path)
        changed = old != new
        if changed and not module.check_mode:
            try:
                write_atomic(path, new, mode)
            except OSError as exc:
                module.fail_json(msg=f"drill_files: cannot write {path}: {exc}")
        results.append({"path": path, "changed": changed, "sha256_before": sha(old),
                        "sha256_after": sha(new)})
        if changed and module._diff:
            diffs.append({"before_header": path, "after_header": path,
                          "before": (old or b"").decode(errors="replace"), "after": spec["content"]})
    module.exit_json(changed=any(r["changed"] for r in results), files=results, diff=diffs)


if __name__ == "__main__":
    main()
