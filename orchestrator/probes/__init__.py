"""Continuous asynchronous probes (docs/events.md, docs/journal.md).

All probes of a run share one asyncio loop in one thread (`ProbeRuntime`). Intervals use
`time.monotonic_ns()`; every sample also carries its UTC wall time. Samples go to
`evidence/probes.jsonl.gz`: each change whole, a steady stretch as runs (`probes/sink.py`).

Probe kinds live in a `ProbeRegistry` built per run by `default_registry()`: tcp,
http-json and log here; a module `orchestrator.probes.ssh` (the SSH kinds) is picked up
when present through its `register(registry)` function.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import threading
import time
import zlib
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sample:
    probe: str  # kind: tcp | http-json | log | ssh-command | …
    target: str  # gateway id or address:port
    t_ns: int  # UTC wall time of the sample (start of the attempt)
    mono_ns: int
    ok: bool
    latency_ms: float
    value: Mapping[str, Any] | None = None
    error: str | None = None

    @property
    def missed(self) -> bool:
        """A report of slots that passed unsampled: no observation of the target."""
        return isinstance(self.value, Mapping) and "missed" in self.value

    def to_record(self) -> dict[str, Any]:
        return asdict(self)


class Probe(Protocol):
    kind: str
    target: str

    async def sample(self) -> Sample: ...


ProbeFactory = Callable[..., Probe]


@dataclass
class ProbeRegistry:
    kinds: dict[str, ProbeFactory] = field(default_factory=dict)

    def register(self, kind: str, factory: ProbeFactory) -> None:
        self.kinds[kind] = factory

    def make(self, kind: str, **kwargs: Any) -> Probe:
        try:
            return self.kinds[kind](**kwargs)
        except KeyError:
            raise KeyError(f"unknown probe kind {kind!r}; known: {', '.join(sorted(self.kinds))}") from None


def default_registry() -> ProbeRegistry:
    from orchestrator.probes.log import LogProbe
    from orchestrator.probes.monitor import StatusProbe
    from orchestrator.probes.tcp import TcpProbe

    reg = ProbeRegistry()
    reg.register("tcp", TcpProbe)
    reg.register("http-json", StatusProbe)
    reg.register("log", LogProbe)
    for optional in ("orchestrator.probes.ssh",):
        try:
            module = importlib.import_module(optional)
        except ImportError:
            continue
        register = getattr(module, "register", None)
        if register is not None:
            register(reg)
    return reg


class ProbeRuntime:
    """One asyncio loop in a daemon thread, for every probe and stream of a run."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._main, name="drill-probes", daemon=True)
        self._tasks: list[asyncio.Task] = []
        self._started = threading.Event()

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(self._started.set)
        self.loop.run_forever()

    def start(self) -> ProbeRuntime:
        self._thread.start()
        self._started.wait(5)
        return self

    def spawn(self, factory: Callable[[], Awaitable[Any]]) -> None:
        def _create() -> None:
            self._tasks.append(self.loop.create_task(factory()))

        self.loop.call_soon_threadsafe(_create)

    def call(self, coro: Awaitable[Any], timeout: float | None = None) -> Any:
        """Run a coroutine on the probe loop from another thread and wait for it."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        if not self._thread.is_alive():
            return

        async def _cancel_all() -> None:
            # Cancelled until done: Python 3.11's wait_for can swallow one cancel().
            while left := [t for t in self._tasks if not t.done()]:
                for task in left:
                    task.cancel()
                await asyncio.wait(left, timeout=0.1)
            await asyncio.gather(*self._tasks, return_exceptions=True)

        with contextlib.suppress(Exception):
            self.call(_cancel_all(), timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        if self._thread.is_alive():
            return  # a callback is stuck; the daemon thread dies with the process
        # Anything the loop could not finish before it stopped is finished here, so no task
        # is destroyed while pending.
        pending = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            with contextlib.suppress(Exception):
                self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        with contextlib.suppress(Exception):
            self.loop.run_until_complete(self.loop.shutdown_default_executor())
        self.loop.close()


def spread_phase_ns(probe: Probe, period_ns: int) -> int:
    """Where in the period a probe's slots begin: a hash of its kind and target, so the
    probes of a run spread over the period instead of all connecting at the same instant
    (1,000 endpoints started together made every slot a burst of 1,000 connects, and the
    last of each burst a large part of a period late)."""
    return zlib.crc32(f"{probe.kind} {probe.target}".encode()) % period_ns


async def run_periodic(probe: Probe, period_s: float, on_sample: Callable[[Sample], None],
                       phase_s: float | None = None) -> None:
    """Sample `probe` once in every slot of a fixed monotonic grid: slot k is
    [origin + k·period, origin + (k+1)·period), origin = start + phase (default
    `spread_phase_ns`). Deadlines are absolute, so a late sample shifts no later one.

    Accounting is exact by the samples' own start times (`Sample.mono_ns`): every slot
    from the first sample on holds exactly one sample that started in it, or is counted in
    a `missed` sample reported before the next real one. A sample that overran slots, or a
    loop too busy to start one on time, both show up as reported misses, never as silence.
    """
    period_ns = int(period_s * 1e9)
    phase_ns = spread_phase_ns(probe, period_ns) if phase_s is None else int(phase_s * 1e9)
    origin = time.monotonic_ns() + phase_ns
    slot = 0  # the next slot owed a sample
    while True:
        deadline = origin + slot * period_ns
        while (now := time.monotonic_ns()) < deadline:  # timers may fire a little early
            await asyncio.sleep((deadline - now) / 1e9)
        sample = await probe.sample()
        started = max(slot, (sample.mono_ns - origin) // period_ns)
        if started > slot:
            _deliver(on_sample, probe, Sample(
                probe.kind, probe.target, time.time_ns(), time.monotonic_ns(), False, 0.0,
                {"missed": int(started - slot)}, "missed samples (probe or loop late)"))
        _deliver(on_sample, probe, sample)
        slot = started + 1


async def run_probes(probes: Iterable[Probe], period_s: float,
                     on_sample: Callable[[Sample], None]) -> None:
    """Sample every probe once a period until cancelled: `tcp` probes on numeric addresses
    together on one shared tick (`tcp_sweep.TcpSweep`, ~2.5× less CPU per sample), the
    others one `run_periodic` task each. Same slots and `missed` accounting either way."""
    from orchestrator.probes.tcp_sweep import TcpSweep, sweepable

    probes = list(probes)
    swept = [p for p in probes if sweepable(p)]
    runs = [run_periodic(p, period_s, on_sample) for p in probes if not sweepable(p)]
    if swept:
        runs.append(TcpSweep(swept, period_s, on_sample).run())
    await asyncio.gather(*runs)


def _deliver(on_sample: Callable[[Sample], None], probe: Probe, sample: Sample) -> None:
    try:
        on_sample(sample)
    except Exception:  # an observer's bug must not stop the sampling
        log.exception("sample handler failed for %s", probe.target)
