"""The operator's console while a drill runs: what each step does as it happens.

`Console` listens to the engine's events (docs/events.md): each step as it starts and ends,
each playbook task and host as it finishes, what a wait waits for, aborts. `LiveProgress`
shows every wait's progress: elapsed against its timeout and who is still missing, a line
whenever that changes and at least every few seconds, so the console never goes quiet.
Both write plain lines to stderr (stdout keeps the result table and the verdict line) in
the run's language; `drill run --quiet` and `--json` leave them out.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Sequence
from typing import Any, TextIO

from orchestrator.journal import records as jr
from orchestrator.model.i18n import LABELS
from orchestrator.model.i18n_tasks import task_label
from orchestrator.model.i18n_terminal import reason_text, step_key

QUIET_PROGRESS_S = 5.0  # a wait prints a line at least this often
_SHOWN = 8  # gateways named in a progress line


def say(lang: str, key: str, **kw: Any) -> str:
    zh, en = LABELS[key]
    return (zh if lang == "zh" else en).format(**kw)


def _word(lang: str, prefix: str, value: str) -> str:
    """The label of an enumerated value (a task status, a wait's condition), else the value."""
    key = f"{prefix}_{value}"
    return say(lang, key) if key in LABELS else value


def _secs(lang: str, value: float, fmt: str = ".1f") -> str:
    return f"{value:{fmt}} 秒" if lang == "zh" else f"{value:{fmt}}s"


def _pad(text: str, width: int) -> str:
    """`text` padded to `width` terminal columns (a Chinese character takes two)."""
    shown = sum(2 if ord(c) >= 0x2E80 else 1 for c in text)
    return text + " " * max(0, width - shown)


def _names(items: Sequence[str]) -> str:
    return ", ".join(items[:_SHOWN]) + (" …" if len(items) > _SHOWN else "")


class Console:
    """An event handler (EventBus.subscribe) that prints the run as it goes."""

    def __init__(self, lang: str = "en", stream: TextIO | None = None) -> None:
        self.lang = lang
        self.stream = stream
        self._waits: dict[str, str] = {}
        self._lock = threading.Lock()

    def _out(self, line: str) -> None:
        stream = self.stream or sys.stderr
        with self._lock:
            print(line, file=stream, flush=True)

    def __call__(self, event: Any) -> None:
        t = lambda key, **kw: say(self.lang, key, **kw)  # noqa: E731
        if isinstance(event, jr.RunPlan):
            self._waits = {f"{s['phase']}[{s['index']}]": s.get("waits_for") or ""
                           for s in event.steps}
        elif isinstance(event, jr.PhaseStart):
            self._out(t("console_phase", phase=t(f"console_phase_{event.phase}")
                        if f"console_phase_{event.phase}" in LABELS else event.phase))
        elif isinstance(event, jr.StepStart):
            key = f"{event.phase}[{event.index}]"
            self._out(f"  ▶ {step_key(self.lang, event.phase, event.index)} {event.name.get(self.lang)}")
            if self._waits.get(key):
                self._out("      " + t("console_waits_for", what=self._waits[key]))
        elif isinstance(event, jr.AnsibleTask):
            took = " " + _secs(self.lang, event.duration_s) if event.duration_s is not None else ""
            status = _pad(_word(self.lang, "console_task", event.status), 11)
            self._out(f"      {status} {event.host:<12} {task_label(event.task, self.lang)}{took}")
        elif isinstance(event, jr.StepEnd):
            took = _secs(self.lang, event.duration_s) if event.duration_s is not None else ""
            mark = "✓" if event.status == "ok" else "✗"
            line = (f"  {mark} {step_key(self.lang, event.phase, event.index)} "
                    f"{_word(self.lang, 'console_step', event.status)} {took}")
            if event.error:
                line += ("：" if self.lang == "zh" else ": ") + reason_text(self.lang, event.error)
            self._out(line)
        elif isinstance(event, jr.PhaseEnd) and event.status == "ok" and event.phase in (
                "precheck", "restore"):
            # the steady-state gate follows the pre-check, the after-check the restore
            key = "console_gate" if event.phase == "precheck" else "console_after_check"
            self._out(t(key))
        elif isinstance(event, jr.SteadyState) and event.when in ("gate", "after"):
            colon, sep = ("：", "；") if self.lang == "zh" else (": ", "; ")
            bad = [f"{c.gateway or c.check}{colon}{reason_text(self.lang, c.detail)}"
                   for c in event.checks if not c.ok]
            self._out("  " + ("✓ " if event.ok else "✗ ") + t(f"console_check_{event.when}")
                      + ("" if event.ok else colon + sep.join(bad[:_SHOWN])))
        elif isinstance(event, jr.Abort):
            self._out(t("console_abort", reason=reason_text(self.lang, event.reason)))


class LiveProgress:
    """One line per change of a wait (or every QUIET_PROGRESS_S): what, elapsed / timeout,
    who is down and who is still missing."""

    def __init__(self, lang: str = "en", stream: TextIO | None = None) -> None:
        self.lang = lang
        self.stream = stream
        self._last: tuple[str, str, tuple[str, ...], tuple[str, ...]] | None = None
        self._last_at = 0.0

    def update(self, phase: str, what: str, elapsed: float, target: float | None,
               down: Sequence[str], pending: Sequence[str]) -> None:
        state = (phase, what, tuple(down), tuple(pending))
        now = time.monotonic()
        if state == self._last and now - self._last_at < QUIET_PROGRESS_S:
            return
        self._last, self._last_at = state, now
        t = lambda key, **kw: say(self.lang, key, **kw)  # noqa: E731
        sep = "；" if self.lang == "zh" else "; "
        line = (f"      … {_word(self.lang, 'console_until', what)} {_secs(self.lang, elapsed)}"
                + (f" / {_secs(self.lang, target, 'g')}" if target else ""))
        if pending:
            line += sep + t("console_missing", who=_names(list(pending)))
        if down:
            line += sep + t("console_down", who=_names(list(down)))
        print(line, file=self.stream or sys.stderr, flush=True)

    def close(self) -> None:
        self._last = None
