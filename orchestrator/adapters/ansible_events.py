"""ansible-runner task events → TaskResult: status, timing, message and `effective_ns`."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from orchestrator.adapters.scrub import redact_in_place

TASK_EVENTS = {
    "runner_on_ok": "ok",
    "runner_on_failed": "failed",
    "runner_on_skipped": "skipped",
    "runner_on_unreachable": "unreachable",
}
CENSORED_MSG = "censored (no_log)"


@dataclass(frozen=True)
class TaskResult:
    host: str
    task: str
    action: str
    status: str  # ok | changed | failed | skipped | unreachable
    started_ns: int
    ended_ns: int
    effective_ns: int | None
    msg: str
    no_log: bool

    @property
    def duration_ns(self) -> int:
        return self.ended_ns - self.started_ns


class Collector:
    """Turns runner events into TaskResults; redacts secrets before runner writes an event."""

    def __init__(self, on_task: Callable[[TaskResult], None] | None, secrets: set[str]):
        self._on_task = on_task
        self._secrets = secrets
        self._starts: dict[tuple[str, str], int] = {}
        # Messages of failed loop items: ansible-core 2.21 no longer marks them `failed`
        # inside the final result's `results`, so they are taken from the item events.
        self._item_failures: dict[tuple[str, str], list[str]] = {}
        self._tasks: list[TaskResult] = []
        self._lock = threading.Lock()

    def listen(self, on_task: Callable[[TaskResult], None] | None) -> None:
        """Who hears of each task from now (a run started ahead learns it at its turn)."""
        self._on_task = on_task

    def tasks(self) -> tuple[TaskResult, ...]:
        with self._lock:
            return tuple(self._tasks)

    def handle(self, event: dict) -> bool:
        if self._secrets:
            redact_in_place(event, self._secrets)
        kind = event.get("event")
        data = event.get("event_data") or {}
        if kind == "runner_on_start":
            self._starts[(data.get("host", ""), data.get("task_uuid", ""))] = _event_ns(event)
        elif kind == "runner_item_on_failed":
            res = data.get("res") or {}
            if not (res.get("_ansible_no_log") or "censored" in res):
                self._item_failures.setdefault(
                    (data.get("host", ""), data.get("task_uuid", "")), []).append(_message(res))
        elif kind in TASK_EVENTS:
            result = self._result(kind, event, data)
            with self._lock:
                self._tasks.append(result)
            if self._on_task is not None:
                self._on_task(result)
        return True  # runner writes the (redacted) event to artifacts/job_events

    def _result(self, kind: str, event: dict, data: dict) -> TaskResult:
        res = data.get("res") or {}
        host = data.get("host", "")
        ended = _iso_ns(data.get("end")) or _event_ns(event)
        started = (_iso_ns(data.get("start"))
                   or self._starts.get((host, data.get("task_uuid", "")), ended))
        no_log = bool(res.get("_ansible_no_log")) or "censored" in res
        status = TASK_EVENTS[kind]
        if status == "ok" and res.get("changed"):
            status = "changed"
        if no_log:
            msg, effective = CENSORED_MSG, None
        else:
            msg, effective = _message(res), _effective_ns(res)
            items = self._item_failures.pop((host, data.get("task_uuid", "")), None)
            if kind == "runner_on_failed" and items:
                msg = "; ".join(items)[:2000]
            if kind == "runner_on_failed" and data.get("ignore_errors"):
                msg = f"(ignored) {msg}"
        return TaskResult(host=host, task=data.get("task", ""),
                          action=data.get("resolved_action") or data.get("task_action", ""),
                          status=status, started_ns=started, ended_ns=ended,
                          effective_ns=effective, msg=msg, no_log=no_log)


def _message(res: Mapping) -> str:
    # A loop that failed says "One or more items failed": the items say what failed.
    failed_items = [r for r in res.get("results") or () if isinstance(r, Mapping) and r.get("failed")]
    if failed_items:
        return "; ".join(_message(r) for r in failed_items)[:2000]
    for key in ("msg", "stderr", "stdout"):
        value = res.get(key)
        if value:
            return str(value)[:2000]
    return ""


def _effective_ns(res: Mapping) -> int | None:
    """`effective_ns` of the JSON objects printed on stdout (docs/drill-format.md): one object,
    or one per line (a batch command, one per target); loops: per item. The earliest."""
    found: list[int] = []
    items = [res, *(r for r in res.get("results") or () if isinstance(r, Mapping))]
    for item in items:
        found.extend(doc["effective_ns"] for doc in stdout_objects(item.get("stdout")))
    return min(found) if found else None


def stdout_objects(out: object) -> list[dict]:
    """JSON objects with an integer `effective_ns` in a task's stdout: the whole stdout as one
    object (possibly indented), else one object per line (other lines ignored)."""
    if not isinstance(out, str) or "effective_ns" not in out:
        return []
    try:
        docs = [json.loads(out)]
    except ValueError:
        docs = []
        for line in out.splitlines():
            line = line.strip()
            if line.startswith("{") and "effective_ns" in line:
                with contextlib.suppress(ValueError):
                    docs.append(json.loads(line))
    return [d for d in docs if isinstance(d, dict) and isinstance(d.get("effective_ns"), int)
            and not isinstance(d.get("effective_ns"), bool)]


def _iso_ns(value: object) -> int | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        return None
    return int(dt.timestamp()) * 1_000_000_000 + dt.microsecond * 1000


def _event_ns(event: Mapping) -> int:
    return _iso_ns(event.get("created")) or time.time_ns()


def ok_results(private_data_dir) -> list[Mapping]:
    """Every ok task result a playbook run left in its kept job events (ansible-runner's
    `artifacts/*/job_events/*.json`), a loop's items one by one, in file order."""
    from pathlib import Path

    out: list[Mapping] = []
    if private_data_dir is None:
        return out
    for path in sorted(Path(private_data_dir).glob("artifacts/*/job_events/*.json")):
        try:
            event = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if event.get("event") not in ("runner_item_on_ok", "runner_on_ok"):
            continue
        res = (event.get("event_data") or {}).get("res") or {}
        out += [r for r in [res, *(res.get("results") or ())] if isinstance(r, Mapping)]
    return out
