"""Run one of drill's control-host modules inside Ansible's worker process.

A module run costs a fresh Python on the target (about 0.45 s on the 2-core bed, issue 19
P4) even when the target is this machine. drill's own control-host modules
(`library/drill_monitor.py`, `drill_evidence.py`, `drill_lab.py`) export `ARGUMENT_SPEC` and
a pure `run(params, check_mode) -> result`; the action plugin of the same name (a thin file
beside this one) calls it here when the task's connection is `local` without become, the
`drill_control` host of every drill inventory (docs/inventory.md). On any other connection,
or with become, the module runs as any module does. Both paths give the same result.
"""

from __future__ import annotations

import importlib.util
import sys

from ansible.plugins.action import ActionBase


class InProcessAction(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        if self._connection.transport != "local" or self._play_context.become:
            result.update(self._execute_module(task_vars=task_vars))
            return result
        library = _library(self._shared_loader_obj.module_loader, self._task.action)
        _, params = self.validate_argument_spec(argument_spec=library.ARGUMENT_SPEC)
        result.update(library.run(params, bool(self._task.check_mode)))
        return result


def _library(module_loader, action: str):
    """The module file Ansible would run for `action`, imported once per worker."""
    path = module_loader.find_plugin(action)
    name = f"drill_library_{action.rsplit('.', 1)[-1]}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        sys.modules[name] = mod
    return sys.modules[name]
