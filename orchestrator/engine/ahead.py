"""Playbook steps started ahead of their turn (issue 19, P4).

`ansible-playbook` spends about a second importing Ansible and reading the inventory and
playbook before its first task. When a step starts, the engine starts the next playbook
step's process too, held at a gate before its first play (adapters/ansible.py,
`start_playbook(gated=True)`): its start-up overlaps this step, or the waits between.
At its turn the step takes the held process only if it would start the very same run
(playbook, variables, inventory, options); else, and whenever the run ends first, the held
process is abandoned, having run nothing. A step whose variables exist only at its turn
(a manual change's acknowledgement) is never started ahead. The failback step is worked
out ahead from the monitors, and at its turn again: a gateway that moved meanwhile changes
its variables, and it starts afresh.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchestrator.adapters import ansible
from orchestrator.errors import DrillError

if TYPE_CHECKING:
    from orchestrator.engine.runner import Engine


class Ahead:
    """The processes held for steps not yet at their turn, by step label."""

    def __init__(self) -> None:
        self._held: dict[str, ansible.Started] = {}

    def offer(self, label: str, run: ansible.PlaybookRun) -> None:
        if label in self._held:
            return
        try:
            self._held[label] = ansible.start_playbook(run, gated=True)
        except (OSError, DrillError):
            return  # the step starts at its turn, as without this

    def take(self, label: str, run: ansible.PlaybookRun) -> ansible.Started | None:
        held = self._held.pop(label, None)
        if held is not None and (held.run != run or held.exited.is_set()):
            held.abandon()  # other variables, or it died while held (nothing had run)
            return None
        return held

    def close(self) -> None:
        """End every held process (the run is over, or stopped before their turn)."""
        while self._held:
            self._held.popitem()[1].abandon()


def offer_next(eng: Engine, phase: str, index: int) -> None:
    """Start the playbook step after `phase[index]` (in plan order) ahead, held. Never
    fails the step that offers: whatever goes wrong here, the next step starts at its turn
    as it would without this, and says so there."""
    try:
        _offer_next(eng, phase, index)
    except Exception:  # an optimisation only: see above
        return


def _offer_next(eng: Engine, phase: str, index: int) -> None:
    from orchestrator.engine.playbook import failback_step, playbook_run
    from orchestrator.engine.steps import manual_changes
    from orchestrator.model.drill import PHASES

    if eng.folder is None or (eng.journal is not None and eng.journal.fallback is not None):
        return  # artifacts would go elsewhere at the step's turn
    order = [(p, i, s) for p in PHASES for i, s in enumerate(eng.resolved.phases.get(p, ()))]
    later = order[next((n for n, (p, i, _) in enumerate(order) if (p, i) == (phase, index)),
                       len(order)) + 1:]
    nxt = next(((p, i, s) for p, i, s in later if s.kind == "playbook"), None)
    if nxt is None and phase == "restore":
        restore = eng.resolved.phases.get("restore", ())
        extra = failback_step(eng, restore)
        nxt = None if extra is None else ("restore", len(restore), extra)
    if nxt is None or manual_changes(eng.inv, nxt[2], eng.opt.lang):
        return
    p, i, step = nxt
    eng.ahead.offer(f"{p}[{i}]", playbook_run(eng, p, i, step))
