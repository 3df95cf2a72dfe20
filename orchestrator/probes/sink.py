"""A run's probe samples on disk, `evidence/probes.jsonl.gz` (docs/events.md, "Samples on
disk"): each change whole, the steady samples between changes run-length encoded."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from orchestrator.journal.gzlines import GzipLines
from orchestrator.probes import Sample


class SampleSink:
    """Writes the run's samples to a gzip JSON-lines file, from the probe thread. A change
    is kept at full resolution: the first sample of a state and the last before it changes
    are written whole. The samples between them, which repeat that state (a steady hold),
    become one `run` record at most every RUN_S: how many, their first and last times and
    their latency's min, mean and max (issue 19, "steady samples run-length encoded").
    A field that advances while all is well is kept by a run as its first and last value:
    the monitor's event counter (COUNTERS: each CCNET transfer is an event; the events
    themselves are in gateway-events.jsonl.gz) is not part of the state; the last tick's
    time (PROGRESS) is, as whether it advanced, so a stall is a change."""

    RUN_S = 10.0
    COUNTERS = ("event_seq",)
    PROGRESS = ("md_last_seq_time_ns",)

    def __init__(self, path: Path) -> None:
        self.path = path
        self._out = GzipLines(path)
        self._runs: dict[tuple[str, str], _Run] = {}
        self.count = 0  # samples taken, each written whole or counted in a run

    def write(self, sample: Sample) -> None:
        self.count += 1
        key = (sample.probe, sample.target)
        run = self._runs.get(key)
        state = _state(sample, run.newest() if run is not None else None, self.COUNTERS, self.PROGRESS)
        if run is None or run.state != state:
            if run is not None:
                run.close(self._out)
            self._out.write(sample.to_record())
            self._runs[key] = _Run(state, sample, self.COUNTERS + self.PROGRESS)
            return
        run.add(sample, self._out, self.RUN_S)

    def close(self) -> None:
        for run in self._runs.values():
            run.close(self._out)
        self._runs.clear()
        self._out.close()


def _progress(sample: Sample, fields: tuple[str, ...]) -> dict[str, Any]:
    value = sample.value if isinstance(sample.value, Mapping) else {}
    return {f: value[f] for f in fields if f in value}


def _state(sample: Sample, before: Sample | None, counters: tuple[str, ...],
           progress: tuple[str, ...]) -> str:
    value = sample.value
    moved = None
    if isinstance(value, Mapping):
        if any(f in value for f in progress):
            moved = before is not None and _progress(sample, progress) != _progress(before, progress)
        value = {k: v for k, v in value.items() if k not in counters and k not in progress}
    return json.dumps([sample.ok, value, sample.error, moved], sort_keys=True, default=str)


class _Run:
    """The samples repeating one target's state since its first: the last one held back
    (written whole when the state changes), the ones before it summed up."""

    def __init__(self, state: str, first: Sample, fields: tuple[str, ...]) -> None:
        self.state, self.fields, self.first = state, fields, first
        self.last: Sample | None = None
        self.n, self.lat_sum, self.lat_min, self.lat_max = 0, 0.0, 0.0, 0.0
        self.first_t = self.first_mono = self.last_t = self.last_mono = 0
        self.first_progress: dict[str, Any] = {}
        self.last_progress: dict[str, Any] = {}
        self.since = first.mono_ns

    def add(self, sample: Sample, out: GzipLines, run_s: float) -> None:
        if self.last is not None:
            held = self.last
            if self.n == 0:
                self.first_t, self.first_mono = held.t_ns, held.mono_ns
                self.lat_min = self.lat_max = held.latency_ms
                self.first_progress = _progress(held, self.fields)
            self.n += 1
            self.lat_sum += held.latency_ms
            self.lat_min, self.lat_max = min(self.lat_min, held.latency_ms), max(self.lat_max, held.latency_ms)
            self.last_t, self.last_mono = held.t_ns, held.mono_ns
            self.last_progress = _progress(held, self.fields)
            if (held.mono_ns - self.since) / 1e9 >= run_s:
                self._flush(out)
        self.last = sample

    def newest(self) -> Sample:
        return self.last or self.first

    def _flush(self, out: GzipLines) -> None:
        if self.n:
            one = self.first  # every sample of a run has its state: ok, value, error
            value = one.value
            progress = {f: [self.first_progress.get(f), self.last_progress.get(f)]
                        for f in self.first_progress}
            if progress and isinstance(value, Mapping):
                value = {k: v for k, v in value.items() if k not in self.fields}
            out.write({"probe": one.probe, "target": one.target, "ok": one.ok,
                       "value": value, "error": one.error,
                       "run": {"n": self.n, "t_ns": [self.first_t, self.last_t],
                               "mono_ns": [self.first_mono, self.last_mono],
                               "latency_ms": {"min": self.lat_min, "mean": round(self.lat_sum / self.n, 6),
                                              "max": self.lat_max},
                               **({"progress": progress} if progress else {})}})
            self.since = self.last_mono
        self.n, self.lat_sum = 0, 0.0

    def close(self, out: GzipLines) -> None:
        self._flush(out)
        if self.last is not None:
            out.write(self.last.to_record())
            self.last = None
