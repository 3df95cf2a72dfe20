"""Run state: what the engine has learnt so far in one run, in one typed object.

The runner, the step kinds, the probe callbacks and the measurements read and update it;
nothing else holds run state."""

from __future__ import annotations

from dataclasses import dataclass, field

from orchestrator.model.hours import FlowHours

FAULT_PHASES = ("fault", "recovery", "hold")
STOPPABLE = ("precheck", "gate", *FAULT_PHASES)  # a signal stops these; restore never


@dataclass
class RunState:
    phase: str = "init"
    step_label: str | None = None
    fault_started: bool = False
    abort_reason: str | None = None
    # What the fault steps took down (for the next step's prediction).
    down_lines: set[str] = field(default_factory=set)
    down_centres: set[str] = field(default_factory=set)
    down_services: set[str] = field(default_factory=set)  # "CENTRE:service" (service.yml)
    # Gateways on the predicted failed path -> their services.
    affected: dict[str, list[str]] = field(default_factory=dict)
    link_lost_ns: int | None = None
    fault_source: str = "fault-task"
    centres_before: dict[str, str | None] = field(default_factory=dict)
    # First failing probe sample per gateway after the fault.
    observed: dict[str, int] = field(default_factory=dict)
    loss_watch_since: int | None = None
    failback_ns: int | None = None
    failback_gateways: tuple[str, ...] = ()
    restarted: set[str] = field(default_factory=set)  # gateways a fault step repointed
    # Per gateway: when its own path was cut (the target's effective time), and source.
    lost_at: dict[str, tuple[int, str]] = field(default_factory=dict)
    failback_at: dict[str, int] = field(default_factory=dict)
    cutover_done_ns: int | None = None
    restore_started_ns: int | None = None
    step_failures: list[str] = field(default_factory=list)
    restore_failures: list[str] = field(default_factory=list)
    max_sessions: dict[str, int] = field(default_factory=dict)
    after_failures: str = ""
    # The flows expected during this run (service hours, decided at the gate); None: all
    flows: FlowHours | None = None

    def measured_kind(self, kind: str) -> str:
        """How a gateway's service is measured: by its flow (ticks, transfers) inside
        service hours, by its session (`session`: lost at link_down, restored at the new
        login) when its flow is not expected now."""
        return kind if self.flows is None or self.flows.expects(kind) else "session"

    def cutover_s(self) -> float | None:
        if self.cutover_done_ns is None or self.link_lost_ns is None:
            return None
        return round((self.cutover_done_ns - self.link_lost_ns) / 1e9, 6)
