#!/usr/bin/python
"""Run one `drill lab …` command for the lab driver (docs/lab.md): the lab's documented CLI,
named by its environment, with `--json`. On the control host it runs inside Ansible's worker
(action_plugins/drill_inprocess.py), so a lab step costs the CLI's own run and no module
process besides (issue 19, P4)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: drill_lab
short_description: Run a drill lab command against a named lab
description:
  - Runs O(cli) C(lab) O(argv) C(--environment) O(lab) C(--json), with C(DRILL_HOME)
    set to O(home) and O(stdin) on its standard input.
  - Fails when the command exits non-zero, with its standard error as the message.
  - In check mode a command that is not O(read_only) does not run (skipped).
options:
  argv:
    description: The arguments after C(drill lab), e.g. C([line, down, ct-ft]).
    type: list
    elements: str
    required: true
  lab:
    description: The lab's environment name (the inventory's C(drill.environment.name)).
    type: str
    required: true
  cli:
    description: The drill CLI to run.
    type: path
    required: true
  home:
    description: DRILL_HOME for the command (where the lab's state folder is).
    type: path
    required: true
  stdin:
    description: Text for the command's standard input.
    type: str
  read_only:
    description: The command changes nothing (runs under check mode; never C(changed)).
    type: bool
    default: false
"""

RETURN = r"""
rc:
  description: The command's exit status.
  type: int
  returned: when it ran
stdout:
  description: Its standard output (one JSON object per target for a change, docs/lab.md).
  type: str
  returned: when it ran
stderr:
  description: Its standard error.
  type: str
  returned: when it ran
"""

import os
import subprocess

from ansible.module_utils.basic import AnsibleModule

ARGUMENT_SPEC = {
    "argv": {"type": "list", "elements": "str", "required": True},
    "lab": {"type": "str", "required": True},
    "cli": {"type": "path", "required": True},
    "home": {"type": "path", "required": True},
    "stdin": {"type": "str"},
    "read_only": {"type": "bool", "default": False},
}


def run(p, check_mode):
    """The module's result for params `p`."""
    cmd = [p["cli"], "lab", *p["argv"], "--environment", p["lab"], "--json"]
    if check_mode and not p["read_only"]:
        return {"changed": False, "skipped": True, "cmd": cmd,
                "msg": "drill_lab: not run in check mode (it changes the lab)"}
    proc = subprocess.run(cmd, input=p["stdin"] or "", capture_output=True, text=True,
                          env=dict(os.environ, DRILL_HOME=p["home"]), check=False)
    result = {"changed": not p["read_only"] and proc.returncode == 0, "cmd": cmd,
              "rc": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr}
    if proc.returncode != 0:
        why = proc.stderr.strip() or f"exit {proc.returncode}"
        result.update(failed=True, msg=f"drill lab {' '.join(p['argv'][:2])}: {why}")
    return result


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    result = run(module.params, module.check_mode)
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
