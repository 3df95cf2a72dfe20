"""P8: the host observers against the exchange's ground truth on the netns bed (root only).

Method: the extended bed (tests/hostbed, `build(extended=True)`) with the vendor-style
gateway (tests/hostbed/vendorgw): a trading and a market-data gateway on `gw` (true clock)
and on `gw2` (its clock 2.5 s ahead under libfaketime), server order FT, NF. Drill's two
host sources follow them over SSH through the bastion while the bench alternately takes
CT's and CU's line down (`ip link set line0 down` on the carrier router) until every
gateway has logged in at the other centre, then brings it back up:

- the log source (`probes/host_observer.LogSource`: the gateway's GB18030 log followed
  with `tail -F`, read through tests/hostbed/vendorgw/profile.yaml, each host's clock
  offset measured once with `measure_clock_offset`);
- the socket source (`probes/host_socket.HostSocketObserver`, streaming the socket table
  every 0.1 s).

Truth: the exchange's `login_accepted` (trading and market-data logins, stamped at the
LOGON_OK it sends), `md_first_tick` (first TCP tick sent on a new market-data session) and
`mcast_tick` (the multicast datagram of the sequence the gateway's log names). Error =
measured − truth for each truth event matched to the same gateway's nearest measured
event of that kind (within 3 s).

    sudo .venv/bin/python bench/p8_observers.py [--cycles 6] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from _common import summary, write_section


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cycles", type=int, default=6)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("P8 needs root (network namespaces)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="drill-p8-") as tmp:
        results, load = run(Path(tmp), args.cycles)
    body = render(results, load, args.cycles)
    if args.no_write:
        print(body)
    else:
        write_section("P8", body)
    return 0


def run(root: Path, cycles: int):
    from hostbed import bed as bedlib
    from hostbed import vendor
    from hostbed.inventory import gateway_entries, trust_all, write_inventory

    from orchestrator.adapters.hosts import load_topology
    from orchestrator.adapters.ssh import SshPool
    from orchestrator.config.profile import load_profile
    from orchestrator.lab.truth import read_truth
    from orchestrator.model.inventory import Endpoint, Gateway
    from orchestrator.probes.host_observer import LogSource, SshLogAccess
    from orchestrator.probes.host_socket import HostSocketObserver, Watch

    load = [os.getloadavg()]
    bed = bedlib.build(root / "bed", extended=True)
    measured: list[tuple[str, str, str, dict]] = []  # (source, gateway, type, event fields)
    lock = threading.Lock()
    stop = threading.Event()
    try:
        inv = write_inventory(bed, root / "inv", gateways=gateway_entries(bed, {"W000000T": 17999}))
        trust_all(bed, inv)
        bed.start_centres(inv / "hosts.yml")
        gws = [vendor.gateway(bed, "W200000T", "trading", "gw", ("FT", "NF")),
               vendor.gateway(bed, "W200001Q", "market_data", "gw", ("FT", "NF")),
               vendor.gateway(bed, "W200002T", "trading", "gw2", ("FT", "NF")),
               vendor.gateway(bed, "W200003Q", "market_data", "gw2", ("FT", "NF"))]
        for g in gws:
            vendor.install(g)
            g.log.parent.mkdir(parents=True, exist_ok=True)
            g.log.touch()
        profile = load_profile(vendor.PROFILE)
        access = SshLogAccess(inv / "hosts.yml")
        pool = SshPool(load_topology(inv))
        centres = {f"{a}:{p}": c for c in ("FT", "NF") for a, p in
                   (vendor.server(c, s) for s in ("trading", "market_data"))}

        class Sink:
            def event(self, rec):
                with lock:
                    measured.append(("log", rec.gateway, rec.type, dict(rec.event)))

            def connected(self, gateway, up):
                pass

        sources, clocks = [], {}
        for g in gws:
            model = Gateway(g.id, g.service, g.host, Endpoint("127.0.0.1", 1), str(g.config),
                            observe="host", profile=str(vendor.PROFILE), log=str(g.log))
            clocks[g.host] = access.clock(model)
            src = LogSource(g.id, profile, access.follower(model, profile.encoding), f"{g.host}:{g.log}",
                            clocks[g.host], centres, g.service)
            src.start(Sink())
            sources.append(src)
        threads, observers = [], []
        for host in ("gw", "gw2"):
            watches = [Watch(g.id, g.service, {s: c for c, s in zip(("FT", "NF"), g.servers, strict=True)},
                             str(g.config), bedlib.SAT_GROUP if g.service == "market_data" else None)
                       for g in gws if g.host == host]
            obs = HostSocketObserver(pool, host, watches, period_s=0.1)
            observers.append(obs)

            def on_event(ev):
                with lock:
                    measured.append(("socket", ev.gateway, ev.type, ev.to_event() | {"unc": ev.uncertainty_ns}))

            t = threading.Thread(target=obs.run, args=(stop, on_event), daemon=True)
            t.start()
            threads.append(t)
        # the socket streams' first tables: the state before the gateways start
        bedlib.wait_for(lambda: all(o.tables > 0 for o in observers), 30, "the first socket tables")
        for g in gws:
            pool.run(g.host, f"{vendor.ctl(bed, g.host)} start {g.id}")

        def logins() -> int:
            return sum(1 for c in ("FT", "NF") for r in read_truth(bed.root / f"truth-{c}.jsonl")
                       if r["type"] == "login_accepted" and r["gateway"].startswith("W2000"))

        bedlib.wait_for(lambda: logins() >= len(gws), 30, "every gateway logged in")
        time.sleep(2)
        for i in range(cycles):
            router = "ct" if i % 2 == 0 else "cu"
            want = logins() + len(gws)
            bed.exec(router, "ip", "link", "set", "line0", "down")
            try:
                bedlib.wait_for(lambda w=want: logins() >= w, 40, f"cycle {i}: every gateway moved")
            finally:
                bed.exec(router, "ip", "link", "set", "line0", "up")
            time.sleep(2.5)
            load.append(os.getloadavg())
        time.sleep(1)
        stop.set()
        for t in threads:
            t.join(10)
        for s in sources:
            s.close()
        for g in gws:
            pool.run(g.host, f"{vendor.ctl(bed, g.host)} stop {g.id}")
        truth = [r for c in ("FT", "NF") for r in read_truth(bed.root / f"truth-{c}.jsonl")]
        mcast = {}
        for r in read_truth(bed.root / "truth-FT.jsonl"):
            if r["type"] == "mcast_tick":
                for sq in r["seqs"].values():
                    mcast.setdefault(sq, r["ts_ns"])
        access.close()
        pool.close()
        offsets = {h: (c.offset_ns, c.uncertainty_ns) for h, c in clocks.items()}
        return judge(gws, truth, mcast, measured, offsets), load
    finally:
        stop.set()
        bed.teardown()


def judge(gws, truth, mcast, measured, offsets):
    host_of = {g.id: g.host for g in gws}
    errs: dict[tuple[str, str, str], list[float]] = {}
    within: dict[str, list[bool]] = {}  # source -> |error| within the event's stated uncertainty
    unmatched: dict[tuple[str, str], int] = {}

    def nearest(source, gid, type_, want, t_ns, pick=lambda e: True):
        cands = [e for s, g, ty, e in measured
                 if s == source and g == gid and ty == type_ and pick(e) and abs(e["ts_ns"] - t_ns) < 3e9]
        if not cands:
            unmatched[(source, want)] = unmatched.get((source, want), 0) + 1
            return
        best = min(cands, key=lambda e: abs(e["ts_ns"] - t_ns))
        err = (best["ts_ns"] - t_ns) / 1e6
        errs.setdefault((source, want, host_of[gid]), []).append(err)
        unc = best.get("uncertainty_ms", (best.get("data") or {}).get("uncertainty_ms", 0.0))
        within.setdefault(source, []).append(abs(err) <= unc + 1.0)

    for r in truth:
        gid = r.get("gateway")
        if gid not in host_of:
            continue
        if r["type"] == "login_accepted":
            kind = "trading login" if r["service"] == "trading" else "market-data login"
            for source in ("log", "socket"):
                nearest(source, gid, "login", kind, r["ts_ns"])
        elif r["type"] == "md_first_tick" and not r.get("retransmit"):
            for source in ("log", "socket"):
                nearest(source, gid, "md_flow", "market data resumed, TCP", r["ts_ns"],
                        lambda e: (e.get("data") or {}).get("state", "flowing") == "flowing"
                        and (e.get("data") or {}).get("source") in (None, "tcp", "TCP"))
    # multicast: the log names the sequence; the socket source's flowing/multicast is matched to it
    for s, gid, ty, e in list(measured):
        line = e.get("line", "")
        if s == "log" and ty == "md_flow" and "组播" in line:
            m = re.search(r"序号[:：]\s*(\d+)", line)
            if m and int(m.group(1)) in mcast:
                t = mcast[int(m.group(1))]
                errs.setdefault(("log", "market data resumed, multicast", host_of[gid]), []).append(
                    (e["ts_ns"] - t) / 1e6)
                nearest("socket", gid, "md_flow", "market data resumed, multicast", t,
                        lambda e2: (e2.get("data") or {}).get("source") == "multicast")
    return {"errs": errs, "unmatched": unmatched, "offsets": offsets, "within": within}


def render(results, load, cycles) -> str:
    errs, unmatched, offsets = results["errs"], results["unmatched"], results["offsets"]
    rows = []
    for (source, kind, host) in sorted(errs):
        v = errs[(source, kind, host)]
        s = summary([abs(x) for x in v])
        signed = sorted(v)
        rows.append(f"| {kind} | {source} | {host}{' (skewed +2.5 s)' if host == 'gw2' else ''} | {s['n']} | "
                    f"{s['p50']:.1f} | {s['p95']:.1f} | {s['max']:.1f} | {signed[0]:+.1f} … {signed[-1]:+.1f} |")
    miss = ", ".join(f"{k[0]} {k[1]}: {n}" for k, n in sorted(unmatched.items())) or "none"
    inside = "; ".join(f"{src} {sum(v)} of {len(v)}" for src, v in sorted(results["within"].items()))
    offs = ", ".join(f"{h} {o / 1e6:+.1f} ms ± {u / 1e6:.1f}" for h, (o, u) in sorted(offsets.items()))

    def pooled(source, kinds):
        v = [abs(x) for (s, k, _), xs in errs.items() if s == source and k in kinds for x in xs]
        return summary(v) if v else None

    verdicts = []
    for label, kinds in (("trading", ("trading login",)),
                         ("market data", ("market-data login", "market data resumed, TCP",
                                          "market data resumed, multicast"))):
        for source in ("log", "socket"):
            s = pooled(source, kinds)
            if s is None:
                verdicts.append(f"| {label} | {source} | not measured | |")
                continue
            met = s["p95"] <= 20 and s["max"] <= 50
            verdicts.append(f"| {label} | {source} | p95 {s['p95']:.1f} ms, max {s['max']:.1f} ms (n {s['n']}) | "
                            f"{'met' if met else 'missed'}{'' if source == 'log' else ' (reported beside the log)'} |")
    return "\n".join([
        "## P8: host observers (gateway log, host socket) against the exchange's truth on the bed",
        "",
        "Method: `bench/p8_observers.py` (see its docstring): the extended netns bed, the vendor-style",
        f"gateway (2 trading + 2 market data, on `gw` and on the clock-skewed `gw2`), {cycles} line cuts",
        "alternating CT and CU, each held until every gateway logged in at the other centre; the log",
        "source (profile `tests/hostbed/vendorgw/profile.yaml`, clock offset measured once per host) and",
        "the socket source (table streamed every 0.1 s) both over SSH through the bastion. Error =",
        "measured − exchange truth (ms); |error| statistics.",
        "",
        f"Reproduce: `sudo .venv/bin/python bench/p8_observers.py --cycles {cycles}`. Clock offsets measured: {offs}. "
        f"Load average per cycle: {', '.join(f'{a[0]:.1f}' for a in load)}.",
        "",
        "| target: \\|error\\| p95 ≤ 20 ms, max ≤ 50 ms | source | figure | verdict |",
        "|---|---|---|---|",
        *verdicts,
        "",
        "| event | source | host | n | p50 | p95 | max | signed range |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"Truth events with no measured event within 3 s: {miss}. Matched events whose |error| lies",
        f"within their own stated uncertainty (+1 ms): {inside}.",
        "",
        'The socket source places an event between two tables: its error is bounded by the interval',
        'between tables (the 0.1 s pause plus the time one table takes on the host, about ten short',
        'processes: 0.3-1 s at load above 20), and a multicast phase shorter than that interval (the',
        "gateway is back on TCP at NF 0.5 s after it joined) is not seen. The log source's error is the",
        "gateway's own receive-and-log delay plus the offset estimate's error; its stated uncertainty",
        '(offset bound + 1 ms) does not include the former.',
    ])


if __name__ == "__main__":
    sys.exit(main())
