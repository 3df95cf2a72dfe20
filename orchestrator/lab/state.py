"""State the supervisor's parts share: faults in force and the ground-truth log."""

from __future__ import annotations

from dataclasses import dataclass, field

from orchestrator.lab.truth import TruthLog
from orchestrator.model.inventory import Inventory, route

LINE_MODES = ("blackhole", "shutdown")


@dataclass
class LabState:
    inv: Inventory
    truth: TruthLog
    line_mode: dict[str, str | None] = field(default_factory=dict)  # None = up
    down_centres: set[str] = field(default_factory=set)
    # (centre, service) black-holed at the firm's edge (service_down: docs/lab.md)
    down_services: set[tuple[str, str]] = field(default_factory=set)

    def __post_init__(self) -> None:
        for ln in self.inv.lines:
            self.line_mode.setdefault(ln.id, None)

    def down_lines(self) -> list[str]:
        return [lid for lid, mode in self.line_mode.items() if mode]

    def line_up(self, lid: str | None) -> bool:
        return lid is None or self.line_mode.get(lid) is None

    def route(self, centre: str) -> str | None:
        ln = route(self.inv, centre, self.down_lines())
        return ln.id if ln else None
