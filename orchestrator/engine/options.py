"""What a run is given (`RunOptions`) and what it returns (`RunOutcome`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from orchestrator.journal.observations import Measure, Objective


@dataclass(frozen=True)
class RunOptions:
    reports_dir: Path
    drill_home: Path
    project_root: Path
    overrides: Mapping[str, str] = field(default_factory=dict)
    operator: str | None = None
    yes: bool = False
    ticket: str | None = None
    approver: str | None = None
    confirm_environment: str | None = None
    override_window: str | None = None
    # The change reference of a standing approval in the inventory (scheduled runs,
    # model/approvals.py): confirms the environment, answers reference-only manual steps.
    standing_approval: str | None = None
    lang: str = "en"
    # Interactive hooks (the CLI passes click prompts; None = not interactive).
    ask: Callable[[str], str] | None = None
    progress: bool = False
    # signing.Signer from --signing-key (loaded before the run starts); None: look the key
    # up at seal time (DRILL_SIGNING_KEY, else the inventory's drill.signing.key).
    signer: Any = None
    # Service hours (docs/steady-state.md): check market data and CCNET flows even outside
    # the inventory's service hours (`--flow-checks`: an exchange-organised weekend test
    # that does send data).
    flow_checks: bool = False
    # A rehearsal (`--rehearsal`): journaled in run.start; never evidence for filing.
    rehearsal: bool = False
    # The clock change windows and service hours read (None: the real time); aware.
    now: Callable[[], datetime] | None = None


@dataclass(frozen=True)
class RunOutcome:
    run_id: str
    run_dir: Path
    status: str  # passed | failed | inconclusive | aborted (| refused, journaled)
    exit_code: int
    measurements: tuple[Measure, ...]
    objectives: tuple[Objective, ...]
    summary: str
    steady_after_ok: bool | None
    abort_reason: str | None = None
    timezone: str = "Asia/Shanghai"
    cutover_s: float | None = None
    lab_started: bool = False  # drill started the lab for this run (it stays up)
