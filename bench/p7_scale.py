"""P7: `drill run carrier-outage` on a 200-gateway lab.

Method: start a 200-gateway lab, run the shipped drill once (default parameters:
blackhole, hold 5 s) as a fresh `drill run` process, then check that the journal has a
failover `measure` record for every gateway, that every gateway on the failed path has an
interruption figure, and judge those figures against the lab's ground truth exactly as P1
does.

Reproduce: `.venv/bin/python bench/p7_scale.py` (`--gateways N`).
"""

from __future__ import annotations

import argparse

from _common import pct, write_section
from _drills import judge, lab, load_average, records, run_drill, step_breakdown
from p1_accuracy import MAX_MS, P95_MS


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gateways", type=int, default=200)
    args = ap.parse_args()
    load_before = load_average()
    with lab(args.gateways) as lb:
        run = run_drill(lb, f"{args.gateways}gw/carrier-outage", "carrier-outage")
        if run.run_dir is None:
            raise SystemExit(run.output[-3000:])
        # read everything before the lab and its temporary folder go
        recs = records(run.run_dir)
        j = judge(run)
        breakdown = step_breakdown(run.run_dir)
    ends = [r["data"] for r in recs if r["kind"] in ("abort", "run.end")]
    why = "; ".join(str(d.get("reason") or d.get("summary") or "") for d in ends)[:600]
    if run.exit_code not in (0, 1):
        print(run.output[-3000:])
    failover = [r["data"] for r in recs if r["kind"] == "measure" and r["data"]["phase"] == "failover"]
    failback = [r["data"] for r in recs if r["kind"] == "measure" and r["data"]["phase"] == "failback"]
    gateways = {m["gateway"] for m in failover}
    affected = [m for m in failover if m["affected"]]
    figures = [m for m in affected if m["interruption_s"] is not None]
    status = recs[-1]["data"].get("status") if recs[-1]["kind"] == "run.end" else "unfinished"
    errs = [abs(e.error_ms) for e in j.errors]
    p95, mx = pct(errs, 95), max(errs, default=float("nan"))
    ok_p1 = bool(errs) and p95 <= P95_MS and mx <= MAX_MS and not j.missed and not j.spurious
    complete = len(gateways) == args.gateways and len(figures) == len(affected) and status is not None
    steps = "\n".join(f"| {phase}: {name} | {s:.1f} |" for phase, name, s in breakdown)
    print(f"exit {run.exit_code} status {status}, {len(gateways)} gateways measured, {len(affected)} affected, "
          f"{len(figures)} with figures, P1 p95 {p95:.2f} max {mx:.2f}", flush=True)
    body = (
        "## P7: scale, carrier-outage on 200 gateways\n\n"
        + __doc__.split("\n\n", 1)[1].split("Reproduce")[0].strip()
        + f"\n\nReproduce: `.venv/bin/python bench/p7_scale.py`. Load average before: {load_before}; "
        f"after: {load_average()}.\n\n"
        "| measure | figure | target | verdict |\n|---|---|---|---|\n"
        f"| completes | exit {run.exit_code}, status `{status}`, wall {run.wall_s:.1f} s | completes "
        f"| {'met' if run.exit_code in (0, 1) and status != 'unfinished' else 'MISSED'} |\n"
        f"| timings for all | {len(gateways)} gateways measured; {len(affected)} on the failed path, "
        f"{len(figures)} with an interruption figure; {len(failback)} failback figures | all {args.gateways} "
        f"| {'met' if complete else 'MISSED'} |\n"
        f"| P1 on this run | {len(errs)} judged: p50 {pct(errs, 50):.2f} ms, p95 {p95:.2f} ms, max {mx:.2f} ms; "
        f"missed {len(j.missed)}, spurious {len(j.spurious)}, switched without stall {len(j.unstalled_md)} "
        f"| p95 ≤ {P95_MS:g} ms, max ≤ {MAX_MS:g} ms | {'met' if ok_p1 else 'MISSED'} |\n\n"
        f"Outcome: {why or '-'}\n\n"
        "| step | s |\n|---|---|\n" + steps + "\n")
    write_section("P7", body)


if __name__ == "__main__":
    main()
