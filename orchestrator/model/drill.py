"""The drill model: pure frozen types of a drill file and of a drill resolved against an
inventory (docs/drill-format.md). Read and validated by orchestrator.config.scenario,
resolved by orchestrator.config.resolve; no I/O here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from orchestrator.errors import InputError, Problem
from orchestrator.model.source import Lines
from orchestrator.model.text import Text

PHASES = ("precheck", "fault", "recovery", "hold", "restore")
STEP_KINDS = ("playbook", "manual", "wait", "verify")
PARAM_TYPES = ("line", "carrier", "centre", "duration", "choice", "int", "str", "bool")
CADENCES = ("monthly", "quarterly", "half-yearly", "yearly")
# Who may organise a drill the firm takes part in (`organised: {organiser: …}`).
ORGANISERS = ("SSCC", "NEEQ", "BSE")
NOTICE_PARAM = "notice"  # an organised drill's notice number (通知编号) is this parameter
HELPERS = ("lines_of_carrier", "lines_of_centre", "terrestrial_lines", "gateways", "centres",
           "home_gateways", "inventory")
# Clause ids of docs/spec.md; a drill citing anything else is a typo.
KNOWN_CLAUSES = frozenset(
    [f"R-APP-{i}" for i in range(1, 8)]
    + ["R-NET-1", "R-NET-2", "R-NET-2a", "R-NET-2b", "R-NET-2c", "R-NET-3", "R-NET-4", "R-NET-5"]
    + [f"R-SEC-{i}" for i in range(1, 4)]
    + [f"R-OPS-{i}" for i in range(1, 4)]
    + [f"R-DR-{i}" for i in range(1, 5)]
)
DEFAULT_STEP_TIMEOUT_S = 300.0


def _empty() -> Mapping[str, object]:
    return MappingProxyType({})


_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h|d)\s*$")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
TRUE_WORDS = ("true", "yes", "on", "1")
FALSE_WORDS = ("false", "no", "off", "0")


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    default: object
    choices: tuple[str, ...] = ()
    description: Text | None = None


@dataclass(frozen=True)
class Effect:
    lines_down: tuple[str, ...] = ()
    lines_up: tuple[str, ...] = ()
    mode: str | None = None
    centres_down: tuple[str, ...] = ()
    centres_up: tuple[str, ...] = ()
    repoint_gateways: tuple[str, ...] = ()
    repoint_to: str | None = None
    # One service made unreachable at (or given back to) a centre from the firm's side:
    # "CENTRE:service" pairs (service.yml; the effect `services_down: {services, centres}`)
    services_down: tuple[str, ...] = ()
    services_up: tuple[str, ...] = ()

    def services_at(self, down: bool = True) -> tuple[tuple[str, str], ...]:
        """(centre, service) of services_down (or services_up)."""
        pairs = self.services_down if down else self.services_up
        return tuple((p.partition(":")[0], p.partition(":")[2]) for p in pairs)


@dataclass(frozen=True)
class WaitSpec:
    until: str | None = None  # all_restored | all_logged_in | steady | on_centre | md_source
    arg: str | None = None  # on_centre: the centre id; md_source: multicast | tcp
    for_s: float | None = None
    timeout_s: float | None = None
    while_: str | None = None  # no_new_loss


@dataclass(frozen=True)
class Expectation:
    probe: str  # tcp | monitor | http-json | log | ssh-command | ssh-tcp
    gateways: str | tuple[str, ...] | None = None  # a kind, "all", or gateway ids
    address: str | None = None
    port: int | None = None
    expect: Mapping[str, object] = field(default_factory=_empty)
    pattern: str | None = None
    within_s: float | None = None
    host: str | None = None  # ssh-command: runs on it; ssh-tcp: connects from it (an SSH host)
    command: str | None = None  # ssh-command (its output matched by `pattern`)


@dataclass(frozen=True)
class Step:
    """One step. In `Drill.phases` templated values are still their template text
    (lists) or None (numbers); `ResolvedDrill.phases` holds them rendered."""

    name: Text
    kind: str  # playbook | manual | wait | verify
    playbook: str | None = None
    vars: Mapping[str, object] = field(default_factory=_empty)
    effect: Effect | None = None
    timeout_s: float = DEFAULT_STEP_TIMEOUT_S
    manual: Text | None = None
    reference: str | None = None  # manual: what it only records (sscc_notification); None: live
    wait: WaitSpec | None = None
    verify: tuple[Expectation, ...] = ()
    line: int | None = None
    raw: Mapping[str, object] = field(default_factory=_empty, repr=False, compare=False)


@dataclass(frozen=True)
class Targets:
    rto_s: Mapping[str, float]  # service -> seconds (trading, market_data, settlement)
    no_double_login: bool = True
    # SSCC's D+3 takeover commitment (R-DR-1): shown beside the cutover as context, never a
    # verdict; the firm's own target `cutover_firm_s` is the verdict (docs/drill-format.md).
    cutover_limit_s: float | None = None
    cutover_firm_s: float | None = None
    # service -> seconds: an interruption the drill causes on purpose, with its own target
    # (measured through restore); any other service the drill interrupts fails the run.
    expected_s: Mapping[str, float] = field(default_factory=dict)

    def target_of(self, service: str) -> float | None:
        return self.rto_s.get(service, self.expected_s.get(service))


@dataclass(frozen=True)
class AbortRules:
    blast_radius: bool = True
    recovery_margin_s: float = 10.0


@dataclass(frozen=True)
class Drill:
    id: str
    title: Text
    description: Text
    spec: tuple[str, ...]
    cadence: str
    params: Mapping[str, Param]
    targets: Targets
    abort: AbortRules
    failback: bool
    phases: Mapping[str, tuple[Step, ...]]
    path: Path
    sha256: str
    source: Lines = field(default_factory=lambda: Lines(""), repr=False, compare=False)  # file:line of every value
    # An organised drill (SSCC, NEEQ or BSE organises it; the firm takes part and returns
    # the member drill record): the organiser; None for the firm's own failover drills.
    organiser: str | None = None

    @property
    def kind(self) -> str:
        """`organised` (per an organiser's notice) or `failover` (the firm's own drill)."""
        return "organised" if self.organiser else "failover"

    def steps(self) -> Iterator[tuple[str, Step]]:
        for phase in PHASES:
            for step in self.phases.get(phase, ()):
                yield phase, step


@dataclass(frozen=True)
class ResolvedDrill:
    drill: Drill
    params: Mapping[str, object]
    phases: Mapping[str, tuple[Step, ...]]

    def steps(self) -> Iterator[tuple[str, Step]]:
        for phase in PHASES:
            for step in self.phases.get(phase, ()):
                yield phase, step


# ---------------------------------------------------------------- durations


# ---------------------------------------------------------------- durations


def parse_duration(text: object) -> float:
    """`500ms`, `5s`, `2m`, `1h`, `3d` (or a number of seconds) → seconds."""
    if isinstance(text, bool):
        raise InputError(Problem("", None, "duration", f"expected a duration such as 5s, got {text!r}"))
    if isinstance(text, int | float):
        if text < 0 or text != text or text == float("inf"):
            raise InputError(Problem("", None, "duration", f"expected a duration >= 0, got {text!r}"))
        return float(text)
    if isinstance(text, str):
        m = _DURATION.match(text)
        if m:
            return float(m.group(1)) * _UNIT_S[m.group(2)]
    raise InputError(Problem("", None, "duration",
                             f"expected a duration such as 500ms, 5s, 2m, 1h or 3d, got {text!r}"))


def is_template(value: object) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


# ---------------------------------------------------------------- loading
