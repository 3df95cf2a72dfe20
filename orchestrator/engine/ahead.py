"""Playbook steps started ahead of their turn (issue 19, P4).

`ansible-playbook` spends about a second importing Ansible and reading the inventory and
playbook before its first task. The engine starts a playbook step's process ahead, held at
a gate before its first play (adapters/ansible.py, `start_playbook(gated=True)`): its
start-up then overlaps the steps and waits before it. The first playbook step is started
as the run begins, while drill sets up its observers; then, as each step starts, the
nearest of the next `LOOKAHEAD` playbook steps that is not held yet (one start-up at a
time: more would share the CPU with the step that runs).
A start-up is over when the process says it reached its gate; until then no other is
started, and the waits (`wait:` steps) keep offering while they wait, so a soak's idle CPU
starts the steps after it.
At its turn the step takes the held process only if it would start the very same run
(playbook, variables, inventory, options); else, and whenever the run ends first, the held
process is abandoned, having run nothing. A step whose variables exist only at its turn
(a manual change's acknowledgement) is never started ahead. The failback step is worked
out ahead after the recovery phase from where the observers last saw each gateway (again
as that changes), and at its turn from every monitor (a gateway that moved meanwhile
changes its variables: it then starts its own process).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from orchestrator.adapters import ansible
from orchestrator.errors import DrillError

if TYPE_CHECKING:
    from orchestrator.engine.runner import Engine

# Playbook steps looked ahead to: a start-up (about a second) may outlast the step between.
LOOKAHEAD = 3
PUMP_S = 0.1  # how often a wait offers the next step
_SETTLED = ("hold", "restore")  # phases after recovery: where the gateways now are is final


class Ahead:
    """The processes held for steps not yet at their turn, by step label."""

    def __init__(self) -> None:
        self._held: dict[str, ansible.Started] = {}
        self._for: dict[str, object] = {}  # the step each process was offered for
        self.next_pump = 0.0  # monotonic: when a wait offers again

    def offer(self, label: str, run: ansible.PlaybookRun, step: object = None) -> bool:
        """Hold a process for `label` (offered for `step`); whether one was started now."""
        held = self._held.get(label)
        if held is not None and held.run == run and not held.exited.is_set():
            self._for[label] = step
            return False
        if held is not None:  # it died while held, or the run is another: start afresh
            self._held.pop(label).abandon()
        self._for.pop(label, None)
        try:
            self._held[label] = ansible.start_playbook(run, gated=True)
        except (OSError, DrillError):
            return False  # the step starts at its turn, as without this
        self._for[label] = step
        return True

    def holds(self, label: str, step: object = None) -> bool:
        """Whether a process is held for `label` (offered for this very `step`, if given)."""
        return label in self._held and (step is None or self._for.get(label) == step)

    def starting(self, but: str = "") -> bool:
        """Whether a held process (other than `but`'s) is still in its start-up."""
        return any(not h.exited.is_set() and not h.ready()
                   for label, h in self._held.items() if label != but)

    def take(self, label: str, run: ansible.PlaybookRun) -> ansible.Started | None:
        held = self._held.pop(label, None)
        self._for.pop(label, None)
        if held is not None and (held.run != run or held.exited.is_set()):
            held.abandon()  # other variables, or it died while held (nothing had run)
            return None
        return held

    def close(self) -> None:
        """End every held process (the run is over, or stopped before their turn)."""
        self._for.clear()
        while self._held:
            self._held.popitem()[1].abandon()


def offer_first(eng: Engine) -> None:
    """Start the run's first playbook step ahead, held, while the run sets up its
    observers: its own start-up then overlaps theirs."""
    offer_next(eng, "", -1)


def pump(eng: Engine, phase: str, index: int) -> None:
    """Offer again from a wait, every PUMP_S: a start-up may end while it waits."""
    now = time.monotonic()
    if now >= eng.ahead.next_pump:
        eng.ahead.next_pump = now + PUMP_S
        offer_next(eng, phase, index)


def offer_next(eng: Engine, phase: str, index: int) -> None:
    """Start the nearest of the next `LOOKAHEAD` playbook steps after `phase[index]` (in
    plan order) that is not held yet, held. Never fails the step that offers: whatever
    goes wrong here, the next step starts at its turn as it would without this."""
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
    if eng.ahead.starting(but=f"{phase}[{index}]"):  # one start-up at a time
        return
    order = [(p, i, s) for p in PHASES for i, s in enumerate(eng.resolved.phases.get(p, ()))]
    here = -1 if index == -1 else next(
        (n for n, (p, i, _) in enumerate(order) if (p, i) == (phase, index)), None)
    if here is None:
        return  # the failback step: the last
    later = [(p, i, s) for p, i, s in order[here + 1:] if s.kind == "playbook"][:LOOKAHEAD]
    restore = eng.resolved.phases.get("restore", ())
    if len(later) < LOOKAHEAD and phase in _SETTLED:
        # guessed from where the observers last saw each gateway; its turn asks every
        # monitor, and a gateway that moved since makes it start its own process
        extra = failback_step(eng, restore, eng.obs.tracker.centres())
        if extra is not None:
            later.append(("restore", len(restore), extra))
    for p, i, step in later:
        if eng.ahead.holds(f"{p}[{i}]", step) or manual_changes(eng.inv, step, eng.opt.lang):
            continue
        if eng.ahead.offer(f"{p}[{i}]", playbook_run(eng, p, i, step), step):
            return  # one start-up at a time: more would share the CPU with this step
