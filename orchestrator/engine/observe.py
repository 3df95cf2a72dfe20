"""Watching the gateways during a run: monitor streams and `/status` samples (`observe:
monitor`), the gateways' own logs on their hosts (`observe: host`, docs/observers.md), the
target's session table, the evidence files they feed, and the live progress display."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

from orchestrator.engine import events as ev
from orchestrator.engine.fold import EventFolder
from orchestrator.engine.safety import Safety
from orchestrator.engine.state import FAULT_PHASES, RunState
from orchestrator.journal import records as jr
from orchestrator.journal.gzlines import GzipLines
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
                 lang: str = "en", ssh: Callable[[], Any] | None = None) -> None:
        self.inv = inv
        self.ssh = ssh  # the run's SSH pool supplier (adapters/run_ssh.py)
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
        self._events: GzipLines | None = None  # every source's thread writes (it locks)
        self._display: Any = None  # None: not yet shown; False: disabled after an error
        self.sources: list[Any] = []  # probes.host_observer.GatewaySource, one per host gateway
        # the second source of host gateways: their hosts' socket tables (probes/socket_source.py),
        # kept apart from the log's events (docs/observers.md, "Two sources")
        self.socket_sources: list[Any] = []
        self.socket_tracker = None
        self.cannot_observe: dict[str, str] = {}  # gateway -> why drill cannot observe it
        self._access: Any = None
        self._pids: dict[str, Any] = {}  # gateway -> the process id its monitor last reported
        self.fold = EventFolder()  # like transfers: the journal counts them (engine/fold.py)

    def period(self) -> float:
        return sample_period(self.inv)

    def start(self, folder: RunFolder) -> None:
        from orchestrator.probes import ProbeRuntime, run_periodic
        from orchestrator.probes.monitor import GatewayTracker, StatusProbe, StreamWatcher
        from orchestrator.probes.sink import SampleSink

        self.tracker = GatewayTracker((g.id, g.kind) for g in self.inv.gateways)
        self.sink = SampleSink(folder.probes)
        self.fold = EventFolder()
        self._events = GzipLines(folder.gateway_events)
        monitored = [g for g in self.inv.gateways if g.observe != "host"]
        endpoints = {g.id: (g.monitor.address, g.monitor.port) for g in monitored}
        watcher = StreamWatcher(endpoints, self.tracker, self.on_gateway_event)
        self.runtime = ProbeRuntime().start()
        period = self.period()
        for g in monitored:
            self.runtime.spawn(lambda gid=g.id: watcher.run_one(gid))
            probe = StatusProbe(g.monitor.address, g.monitor.port, gateway=g.id)
            self.runtime.spawn(lambda p=probe: run_periodic(p, period, self.on_sample))
        self._start_hosts([g for g in self.inv.gateways if g.observe == "host"])
        if self.target.sessions_visible:
            self.runtime.spawn(self._watch_sessions)
        watched = [g.id for g in self.inv.gateways if g.id not in self.cannot_observe]
        deadline = time.monotonic() + 10
        while not self.tracker.all_connected(watched) and time.monotonic() < deadline:
            time.sleep(0.02)
        for g in monitored:
            if not self.tracker.view(g.id).connected:
                self.cannot_observe.setdefault(g.id, f"monitor {g.monitor} does not answer")

    def hear_again(self, gateways, timeout_s: float) -> None:
        """Until drill follows again the monitor stream of each of `gateways` (restarted by
        the failback: the stream's reconnect backs off to once a second), or `timeout_s`.
        Measured before, a gateway drill was about to hear would be "not measured"."""
        tracker = self.tracker
        if tracker is None:
            return
        ids = [g for g in gateways if g not in self.cannot_observe]
        deadline = time.monotonic() + timeout_s
        while not tracker.all_connected(ids) and (left := deadline - time.monotonic()) > 0:
            with tracker.changed:  # woken by any stream's change; 0.1 s bounds a missed one
                tracker.changed.wait(timeout=min(left, 0.1))

    def _start_hosts(self, gateways) -> None:
        """`observe: host` gateways: each one's log source, through the target's access
        (the lab's files, or SSH through the bastion); why not, for each one without."""
        if not gateways:
            return
        from orchestrator.config.profile import load_profile, profile_path
        from orchestrator.probes.host_observer import host_sources

        try:
            self._access = self.target.log_access(self.inv, self.ssh)
        except Exception as e:  # no way to the hosts: none of them can be observed
            self.cannot_observe.update({g.id: f"{type(e).__name__}: {e}" for g in gateways})
            return
        sources, why_not = host_sources(self.inv, self._access, gateways,
                                       lambda name: load_profile(profile_path(name, self.inv.path)))
        self.cannot_observe.update(why_not)
        for src in sources:
            src.start(self)
            self.sources.append(src)
        self._start_sockets([g for g in gateways if g.id not in why_not])

    def _start_sockets(self, gateways) -> None:
        """The host-socket second source of the gateways their log observes (SSH targets)."""
        from orchestrator.probes.monitor import GatewayTracker
        from orchestrator.probes.socket_source import socket_sources

        self.socket_tracker = GatewayTracker((g.id, g.kind) for g in gateways)
        try:
            self.socket_sources = socket_sources(self.inv, self._access, gateways)
        except Exception as e:  # the second source is missing: the log still measures
            self.emit(jr.Note("host-socket source not started", {"error": f"{type(e).__name__}: {e}"}))
            return
        for src in self.socket_sources:
            src.start(self)
        for src in self.socket_sources:
            if src.wait_tables(10):  # measured by this source (engine/measure.with_second_source)
                for gid in src.gateways:
                    self.socket_tracker.set_connected(gid, True)
            else:
                self.emit(jr.Note("host-socket: no socket table read", {
                    "host": src.host, "gateways": list(src.gateways), "error": src.error}))

    def socket_event(self, rec) -> None:
        """A host-socket event: journaled and kept as evidence beside the log's, never fed
        to the tracker the waits and the verdict read (the log is the primary source)."""
        if self.socket_tracker is not None:
            self.socket_tracker.apply(rec)
        self._write_event(rec)
        self._journal_event(rec)

    def _journal_event(self, rec) -> None:
        seq = rec.event.get("seq")
        whole, folded = self.fold.offer(rec.gateway, rec.type, rec.data, rec.ts_ns,
                                        seq if isinstance(seq, int) else None)
        for f in folded:
            self.emit(jr.GatewayEventsFolded.of(f))
        if whole:
            self.emit(jr.GatewayEvent(rec.event, rec.recv_ns))

    def _write_event(self, rec) -> None:
        if self._events is not None:  # a full disk stops the file: the event is still journaled
            self._events.write({**rec.event, "received_ns": rec.recv_ns})

    # the sink of the host sources (probes.host_observer.ObserverSink)
    def event(self, rec) -> None:
        self.tracker.apply(rec)
        try:
            self.on_gateway_event(rec)
        except Exception:  # an observer's bug must not stop the watch
            import logging

            logging.getLogger(__name__).exception("gateway event handler failed")

    def connected(self, gateway: str, up: bool) -> None:
        self.tracker.set_connected(gateway, up)

    def identity_problems(self, timeout_s: float = 5.0) -> list[str]:
        """Every host-observed gateway whose log declares another id, or none (the monitors'
        identity is probes.identity.mismatches)."""
        from orchestrator.probes.identity import reported_mismatch

        out = []
        deadline = time.monotonic() + timeout_s  # one wait for all of them
        for src in self.sources:
            reported = src.wait_identity(max(0.0, deadline - time.monotonic()))
            why = reported_mismatch(src.gateway, src.where, {"gateway": reported}, what="the log")
            if why is not None:
                out.append(why)
        return out

    def host_views(self) -> dict[str, Any]:
        """What the logs say of each host-observed gateway (steady-state checks); the
        gateways drill cannot observe are left to the monitor check (and refused first)."""
        if self.tracker is None:
            return {}
        hosted = {src.gateway for src in self.sources}
        return {gid: v for gid, v in self.tracker.views().items() if gid in hosted}

    def host_clock_offsets(self) -> dict[str, int]:
        """Each host-observed gateway's host clock minus drill's, as measured for its log: a
        playbook's stamp taken on that host (a restart) is corrected by it."""
        return {src.gateway: src.clock.offset_ns for src in self.sources if hasattr(src, "clock")}

    def session_judgement(self) -> tuple[str, bool]:
        """What no_double_login can rest on: the target's session table when it shows one;
        else the gateways' own logs, when every gateway is read through a profile that
        shows duplicate-logon refusals (their counts go into the run state); else nothing
        (not tested)."""
        from orchestrator.probes.host_observer import sessions_in_log

        if self.target.sessions_visible or self.tracker is None:
            return self.target.session_detail, self.target.sessions_visible
        by_log = {src.gateway: src for src in self.sources
                  if getattr(getattr(src, "profile", None), "detects_double_logon", False)}
        by_socket: dict[str, int] = {}
        for sock in self.socket_sources:
            by_socket.update(sock.max_sessions())
        if any(g.id not in by_log and g.id not in by_socket for g in self.inv.gateways):
            return self.target.session_detail, False
        refused = 0
        for gid in by_log:
            most, n = sessions_in_log(self.tracker.events(gid))
            self.state.max_sessions[gid] = max(self.state.max_sessions.get(gid, 0), most)
            refused += n
        for gid, most in by_socket.items():
            self.state.max_sessions[gid] = max(self.state.max_sessions.get(gid, 0), most)
        where = [w for w, n in (("the gateways' own logs (gateway-log; "
                                 f"{refused} duplicate logon(s) refused by the exchange)", len(by_log)),
                                ("their processes' sessions in the hosts' socket tables (host-socket)",
                                 len(by_socket))) if n]
        return "never more than one session per gateway id in " + " and ".join(where), True

    def stop(self) -> None:
        if self.runtime is not None:
            self.runtime.stop()
            self.runtime = None
        for src in [*self.sources, *self.socket_sources]:
            with contextlib.suppress(Exception):
                src.close()
        self.sources = []
        self.socket_sources = []
        if self._access is not None:
            with contextlib.suppress(Exception):
                self._access.close()
            self._access = None
        for f in self.fold.drain():  # no source is left to add to them
            self.emit(jr.GatewayEventsFolded.of(f))
        if self.sink is not None:
            with contextlib.suppress(OSError):  # the run folder's disk is full: evidence as written
                self.sink.close()
        if self._events is not None:
            with contextlib.suppress(OSError):
                self._events.close()
            self._events = None
        if self._display:
            with contextlib.suppress(Exception):
                self._display.close()
        self._display = None

    def on_gateway_event(self, rec) -> None:
        """Probe thread: journal the event, write evidence, watch the blast radius."""
        self._write_event(rec)
        if rec.type != "snapshot":
            self._journal_event(rec)
        else:  # a new process behind the monitor: the gateway died and was started again
            pid, old = rec.data.get("pid"), self._pids.get(rec.gateway)
            self._pids[rec.gateway] = pid
            if old is not None and pid is not None and pid != old \
                    and self.safety.watch_restart(self.blast_radius, rec.gateway, old, pid):
                self.emit(jr.GatewayEvent(rec.event, rec.recv_ns))  # the evidence of the abort
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
