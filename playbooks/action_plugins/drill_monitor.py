"""`drill_monitor` runs in Ansible's worker on the control host: see drill_inprocess.py."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location("drill_inprocess", Path(__file__).with_name("drill_inprocess.py"))
_base = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_base)


class ActionModule(_base.InProcessAction):
    pass
