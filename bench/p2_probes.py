"""P2: probe scale for 60 s, with the engine's own probe classes.

(a) `tcp` probe (`orchestrator.probes.tcp.TcpProbe`) on 1,000 loopback endpoints at 10 Hz,
    driven by `orchestrator.probes.run_probes` (all on one shared tick, `TcpSweep`) on
    one `ProbeRuntime` loop. The endpoints belong to `bench/_responder.py`, a separate
    process (accept and close). Measured: this process's CPU (all threads) over the
    window, period jitter (|interval between the starts of samples in consecutive slots
    − 100 ms|), and per endpoint whether every 100 ms slot of its grid holds a sample that
    started in it or is counted in a reported `missed` sample (checked against the
    clock, not only the counts).
(b) `gateway-monitor` change streams (`orchestrator.probes.monitor.StreamWatcher`) on a
    200-gateway lab, plus the engine's `/status` `http-json` sampling at its budgeted
    period, while a line flaps (shutdown mode) every 10 s and settlement gateways report
    transfers every second. Measured: receive time − the event's own stamp, per change.
    Then the same streams and sampling against 200 monitors in one separate process (no
    lab), which separates drill's own delay from the lab's 200 processes on the same 2 cores.

Reproduce: `.venv/bin/python bench/p2_probes.py` (`--only a` or `--only b`, `--seconds N`,
`--compare`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from _common import ROOT, pct, write_section
from _drills import lab, load_average

sys.path.insert(0, str(ROOT))

from orchestrator.probes import ProbeRuntime, Sample, run_periodic, run_probes
from orchestrator.probes.monitor import GatewayTracker, StatusProbe, StreamWatcher
from orchestrator.probes.tcp import TcpProbe

PERIOD_S = 0.1
JITTER_P99_MS = 10.0
STREAM_MAX_MS = 10.0
RESPONDER_ADDR = "127.88.0.1"


def _proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_tcp(endpoints: int, seconds: float, driver: str = "sweep") -> dict:
    resp = subprocess.Popen([sys.executable, str(Path(__file__).with_name("_responder.py")),
                             RESPONDER_ADDR, str(endpoints)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        info = json.loads(resp.stdout.readline())
        lock = threading.Lock()
        # (start, ok, missed) per sample: plain tuples of ints, which the garbage collector
        # stops tracking, so keeping 600,000 of them adds no collector pauses to the loop
        # (keeping the Sample objects did: full collections over millions of objects).
        samples: dict[str, list[tuple[int, bool, int]]] = {}

        def on_sample(s: Sample) -> None:
            missed = int(s.value["missed"]) if s.value and "missed" in s.value else 0
            with lock:
                samples.setdefault(s.target, []).append((s.mono_ns, s.ok, missed))

        rt = ProbeRuntime().start()
        cpu0, wall0, rcpu0 = time.process_time(), time.monotonic(), _proc_cpu_s(resp.pid)
        probes = [TcpProbe(RESPONDER_ADDR, port, timeout_s=1.0) for port in info["ports"]]
        if driver == "sweep":  # one shared tick for all of them
            rt.spawn(lambda: run_probes(probes, PERIOD_S, on_sample))
        else:  # one task each
            for probe in probes:
                rt.spawn(lambda p=probe: run_periodic(p, PERIOD_S, on_sample))
        end = wall0 + seconds
        while time.monotonic() < end:
            time.sleep(0.5)  # the benchmark's fixed measuring window
        cpu1, wall1, rcpu1 = time.process_time(), time.monotonic(), _proc_cpu_s(resp.pid)
        rt.stop()
    finally:
        resp.stdin.close()
        resp.wait(10)
    jitter: list[float] = []
    failures = reported = unreported = real = 0
    with lock:
        per = {k: list(v) for k, v in samples.items()}
    period_ns = int(PERIOD_S * 1e9)
    for _target, ss in per.items():
        # Slot index of each real sample by the records alone (one per sample plus the
        # `missed` count reported before it), then checked against the clock: with the
        # latest grid origin that no sample precedes, a sample more than its reported
        # misses after the one before it left slots unaccounted.
        k, reals, gaps = -1, [], []
        for mono, ok, missed in ss:
            if missed:
                k += missed
                reported += missed
                if gaps:  # between the last real sample and the next
                    gaps[-1] += missed
            else:
                k += 1
                reals.append((k, mono, ok))
                gaps.append(0)
        real += len(reals)
        failures += sum(1 for _, _, ok in reals if not ok)
        if not reals:
            continue
        origin = min(mono - i * period_ns for i, mono, _ in reals)
        for (_, a, _), (_, b, _), m in zip(reals, reals[1:], gaps, strict=False):
            if m == 0:
                jitter.append(abs((b - a) / 1e6 - PERIOD_S * 1000))
            passed = (b - origin) // period_ns - (a - origin) // period_ns - 1
            unreported += max(0, passed - m)
    return {"endpoints": len(per), "seconds": wall1 - wall0, "cpu_cores": (cpu1 - cpu0) / (wall1 - wall0),
            "responder_cores": (rcpu1 - rcpu0) / (wall1 - wall0), "samples": real,
            "expected": int(endpoints * (wall1 - wall0) / PERIOD_S), "failures": failures,
            "missed_reported": reported, "missed_unreported": unreported,
            "jitter_p50": pct(jitter, 50), "jitter_p99": pct(jitter, 99), "jitter_max": max(jitter, default=0)}


def bench_streams(gateways: int, seconds: float) -> dict:
    from orchestrator.config.inventory import load_inventory
    from orchestrator.lab.control import LabClient

    lat: list[float] = []
    types: dict[str, int] = {}
    lock = threading.Lock()

    def on_event(rec) -> None:
        if rec.type == "snapshot":
            return
        with lock:
            lat.append((rec.recv_ns - rec.ts_ns) / 1e6)
            types[rec.type] = types.get(rec.type, 0) + 1

    with lab(gateways) as lb:
        state_dir = Path(lb.home) / "lab"
        state_dir = next(p for p in state_dir.iterdir() if (p / "control.sock").exists())
        inv = load_inventory(state_dir / "inventory.yml")
        tracker = GatewayTracker((g.id, g.kind) for g in inv.gateways)
        endpoints = {g.id: (g.monitor.address, g.monitor.port) for g in inv.gateways}
        watcher = StreamWatcher(endpoints, tracker, on_event)
        rt = ProbeRuntime().start()
        period = max(inv.timing.probe_period, len(inv.gateways) / 400)  # engine's budget
        for g in inv.gateways:
            rt.spawn(lambda gid=g.id: watcher.run_one(gid))
            probe = StatusProbe(g.monitor.address, g.monitor.port, gateway=g.id)
            rt.spawn(lambda p=probe: run_periodic(p, period, lambda s: None))
        deadline = time.monotonic() + 30
        while not tracker.all_connected() and time.monotonic() < deadline:
            time.sleep(0.05)
        client = LabClient(state_dir)
        cpu0, t0 = time.process_time(), time.monotonic()
        flaps = 0
        while time.monotonic() - t0 < seconds:
            cycle_end = time.monotonic() + 10
            client.line_down("ct-ft", "shutdown")
            while time.monotonic() < cycle_end - 5:
                time.sleep(0.1)
            client.line_up("ct-ft")
            flaps += 1
            while time.monotonic() < min(cycle_end, t0 + seconds):
                time.sleep(0.1)
        cpu = (time.process_time() - cpu0) / (time.monotonic() - t0)
        rt.stop()
    with lock:
        values = list(lat)
    return {"gateways": gateways, "events": len(values), "types": dict(types), "flaps": flaps,
            "p50": pct(values, 50), "p99": pct(values, 99), "max": max(values, default=0),
            "over": sum(1 for v in values if v > STREAM_MAX_MS), "cpu_cores": cpu,
            "status_period_s": period}


def bench_streams_alone(gateways: int, seconds: float) -> dict:
    """(b) with the monitors in one process (`_responder.py monitors`) instead of the lab's
    200: what drill's own loop adds, with the same streams and `/status` sampling."""
    resp = subprocess.Popen([sys.executable, str(Path(__file__).with_name("_responder.py")), "monitors",
                             RESPONDER_ADDR, str(gateways)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    lat: list[float] = []
    lock = threading.Lock()

    def on_event(rec) -> None:
        if rec.type != "snapshot":
            with lock:
                lat.append((rec.recv_ns - rec.ts_ns) / 1e6)

    try:
        info = json.loads(resp.stdout.readline())
        ids = [f"gw{i:03d}" for i in range(len(info["ports"]))]
        tracker = GatewayTracker((gid, "trading") for gid in ids)
        watcher = StreamWatcher({gid: (RESPONDER_ADDR, port) for gid, port in zip(ids, info["ports"], strict=True)},
                                tracker, on_event)
        rt = ProbeRuntime().start()
        period = len(ids) / 400  # the engine's budget
        for gid, port in zip(ids, info["ports"], strict=True):
            rt.spawn(lambda gid=gid: watcher.run_one(gid))
            probe = StatusProbe(RESPONDER_ADDR, port, gateway=gid)
            rt.spawn(lambda p=probe: run_periodic(p, period, lambda s: None))
        deadline = time.monotonic() + 30
        while not tracker.all_connected() and time.monotonic() < deadline:
            time.sleep(0.05)
        with lock:
            lat.clear()
        cpu0, t0 = time.process_time(), time.monotonic()
        while time.monotonic() - t0 < seconds:
            time.sleep(0.5)  # the benchmark's fixed measuring window
        cpu = (time.process_time() - cpu0) / (time.monotonic() - t0)
        rt.stop()
    finally:
        resp.stdin.close()
        resp.wait(10)
    with lock:
        values = list(lat)
    return {"gateways": gateways, "events": len(values), "p50": pct(values, 50), "p99": pct(values, 99),
            "max": max(values, default=0), "over": sum(1 for v in values if v > STREAM_MAX_MS),
            "cpu_cores": cpu, "status_period_s": period}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", choices=["a", "b"])
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--endpoints", type=int, default=1000)
    ap.add_argument("--gateways", type=int, default=200)
    ap.add_argument("--compare", action="store_true",
                    help="(a) also with one run_periodic task per endpoint, just before")
    args = ap.parse_args()
    command = "bench/p2_probes.py" + (" --compare" if args.compare else "")
    parts = ["## P2: probe scale\n\n" + __doc__.split("\n\n", 1)[1].split("Reproduce")[0].strip()
             + f"\n\nReproduce: `.venv/bin/python {command}`. Load average before: {load_average()}.\n"]
    if args.only in (None, "a"):
        t = bench_tcp(args.endpoints, args.seconds, driver="tasks") if args.compare else None
        a = bench_tcp(args.endpoints, args.seconds)
        print(t, a, flush=True)
        ok_cpu, ok_jit = a["cpu_cores"] <= 1.0, a["jitter_p99"] < JITTER_P99_MS
        ok_miss = a["missed_unreported"] == 0
        parts.append(
            "| (a) probe kind `tcp` | figure | target | verdict |\n|---|---|---|---|\n"
            f"| CPU, drill's process | {a['cpu_cores']:.2f} cores (responder process: {a['responder_cores']:.2f}) "
            f"| ≤ 1 core | {'met' if ok_cpu else 'MISSED'} |\n"
            f"| period jitter | p50 {a['jitter_p50']:.2f} ms, p99 {a['jitter_p99']:.2f} ms, "
            f"max {a['jitter_max']:.1f} ms "
            f"| p99 < {JITTER_P99_MS:g} ms | {'met' if ok_jit else 'MISSED'} |\n"
            f"| samples | {a['samples']:,} taken of {a['expected']:,} slots on {a['endpoints']} endpoints "
            f"in {a['seconds']:.1f} s; {a['failures']} failed; {a['missed_reported']:,} missed and reported; "
            f"{a['missed_unreported']} missed unreported | none unreported | {'met' if ok_miss else 'MISSED'} |\n")
        if t is not None:
            parts[-1] += (
                f"| for comparison, just before: one `run_periodic` task per endpoint | {t['cpu_cores']:.2f} cores; "
                f"jitter p50 {t['jitter_p50']:.2f} ms, p99 {t['jitter_p99']:.2f} ms; {t['samples']:,} of "
                f"{t['expected']:,} slots sampled, {t['missed_reported']:,} missed and reported, "
                f"{t['missed_unreported']} unreported | - | - |\n")
    if args.only in (None, "b"):
        b = bench_streams(args.gateways, args.seconds)
        print(b, flush=True)
        ok = b["over"] == 0
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(b["types"].items()))
        parts.append(
            "| (b) probe kind `gateway-monitor` stream | figure | target | verdict |\n|---|---|---|---|\n"
            f"| receive − stamp, {b['events']:,} changes from {b['gateways']} gateways ({kinds}; "
            f"{b['flaps']} line flaps) | p50 {b['p50']:.2f} ms, p99 {b['p99']:.2f} ms, max {b['max']:.1f} ms; "
            f"{b['over']} over {STREAM_MAX_MS:g} ms | every change ≤ {STREAM_MAX_MS:g} ms | "
            f"{'met' if ok else 'MISSED'} |\n"
            f"| CPU, drill's process (streams + `/status` every {b['status_period_s']:.2f} s) | "
            f"{b['cpu_cores']:.2f} cores | - | - |\n")
        c = bench_streams_alone(args.gateways, min(args.seconds, 30))
        print(c, flush=True)
        parts[-1] += (
            f"| the same streams and `/status` sampling against {c['gateways']} monitors in one process "
            f"(`_responder.py monitors`: no lab; every 2 s, 100 of them publish 4 changes each at once), "
            f"{c['events']:,} changes | p50 {c['p50']:.2f} ms, p99 {c['p99']:.2f} ms, max {c['max']:.1f} ms; "
            f"{c['over']} over {STREAM_MAX_MS:g} ms; drill's CPU {c['cpu_cores']:.2f} cores | "
            f"every change ≤ {STREAM_MAX_MS:g} ms | {'met' if c['over'] == 0 else 'MISSED'} |\n")
    parts.append(f"Load average after: {load_average()}.")
    write_section("P2", "\n".join(parts))


if __name__ == "__main__":
    main()
