"""Watching the gateways during a run: monitor streams, `/status` samples, the target's
session table, the evidence files they feed, and the live progress display."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

from orchestrator.engine import events as ev
from orchestrator.engine.safety import Safety
from orchestrator.engine.state import FAULT_PHASES, RunState
from orchestrator.journal import records as jr
from orchestrator.journal.runfolder import RunFolder
from orchestrator.model.inventory import Inventory
from orchestrator.model.stamp import Stamp
from orchestrator.targets import Target

SAMPLE_BUDGET_HZ = 400.0


def sample_period(inv: Inventory) -> float:
    """The `/status` sampling period: the inventory's, stretched so all gateways together
    stay under SAMPLE_BUDGET_HZ requests a second (the streams, not the samples, time
    the drill; 200 gateways polled 20 times a second would starve a small host)."""
    return max(inv.timing.probe_period, len(inv.gateways) / SAMPLE_BUDGET_HZ)


class Observation:
    """The probes of one run; `tracker` holds every gateway's event history."""

    def __init__(self, inv: Inventory, target: Target, state: RunState, safety: Safety,
                 emit: Callable[[ev.Event], None], *, blast_radius: bool, progress: bool,
                 lang: str = "en") -> None:
        self.inv = inv
        self.target = target
        self.state = state
        self.safety = safety
        self.emit = emit
        self.blast_radius = blast_radius
        self.progress = progress
        self.lang = lang
        self.tracker = None
        self.runtime = None
        self.sink = None
        self._events_fh = None
        self._display: Any = None  # None: not yet shown; False: disabled after an error

    def period(self) -> float:
        return sample_period(self.inv)

    def start(self, folder: RunFolder) -> None:
        from orchestrator.probes import ProbeRuntime, SampleSink, run_periodic
        from orchestrator.probes.monitor import GatewayTracker, StatusProbe, StreamWatcher

        self.tracker = GatewayTracker((g.id, g.kind) for g in self.inv.gateways)
        self.sink = SampleSink(folder.probes)
        self._events_fh = open(folder.gateway_events, "a", encoding="utf-8")  # noqa: SIM115
        endpoints = {g.id: (g.monitor.address, g.monitor.port) for g in self.inv.gateways}
        watcher = StreamWatcher(endpoints, self.tracker, self.on_gateway_event)
        self.runtime = ProbeRuntime().start()
        period = self.period()
        for g in self.inv.gateways:
            self.runtime.spawn(lambda gid=g.id: watcher.run_one(gid))
            probe = StatusProbe(g.monitor.address, g.monitor.port, gateway=g.id)
            self.runtime.spawn(lambda p=probe: run_periodic(p, period, self.on_sample))
        if self.target.sessions_visible:
            self.runtime.spawn(self._watch_sessions)
        deadline = time.monotonic() + 10
        while not self.tracker.all_connected() and time.monotonic() < deadline:
            time.sleep(0.02)

    def stop(self) -> None:
        if self.runtime is not None:
            self.runtime.stop()
            self.runtime = None
        if self.sink is not None:
            self.sink.close()
        if self._events_fh is not None:
            with contextlib.suppress(OSError):
                self._events_fh.close()
            self._events_fh = None
        if self._display:
            with contextlib.suppress(Exception):
                self._display.close()
        self._display = None

    def on_gateway_event(self, rec) -> None:
        """Probe thread: journal the event, write evidence, watch the blast radius."""
        if self._events_fh is not None:
            self._events_fh.write(json.dumps({**rec.event, "received_ns": rec.recv_ns},
                                             separators=(",", ":")) + "\n")
        if rec.type != "snapshot":
            self.emit(jr.GatewayEvent(rec.event, rec.recv_ns))
        self.safety.watch_event(self.inv, self.blast_radius, rec)

    def on_sample(self, sample) -> None:
        if self.sink is not None:
            self.sink.write(sample)
        st = self.state
        if (not sample.ok and not sample.missed and st.link_lost_ns is not None
                and sample.t_ns >= st.link_lost_ns and sample.target not in st.observed
                and st.phase in FAULT_PHASES):
            st.observed[sample.target] = sample.t_ns
            gw = self.inv.gateway(sample.target)
            self.emit(jr.ProbeTransition(
                gateway=sample.target, service=gw.service_name, probe=sample.probe,
                from_state="ok", to_state="fail",
                at=Stamp(sample.t_ns, "probe-sample", self.period() * 1000)))

    async def _watch_sessions(self) -> None:
        """The exchange's session table, for the no-double-login objective."""
        import asyncio

        while True:
            try:
                view = await asyncio.get_running_loop().run_in_executor(
                    None, self.target.environment_view)
                for gid, n in (view.sessions if view is not None else {}).items():
                    if n > self.state.max_sessions.get(gid, 0):
                        self.state.max_sessions[gid] = n
            except Exception:  # the target may be busy; the next look counts
                pass
            await asyncio.sleep(0.2)

    def show(self, what: str, elapsed: float, target: float | None, pending=()) -> None:
        if not self.progress or self._display is False:
            return
        try:
            if self._display is None:
                from orchestrator.engine.progress import LiveProgress

                self._display = LiveProgress(self.lang)
            views = self.tracker.views() if self.tracker else {}
            down = [gid for gid, v in views.items() if not v.service_up]
            self._display.update(self.state.phase, what, elapsed, target, down, list(pending))
        except Exception as e:  # the display is an observer: it never breaks the run
            self._display = False
            self.emit(jr.Note("progress display disabled", {"error": f"{type(e).__name__}: {e}"}))
