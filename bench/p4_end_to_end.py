"""P4: end to end, `drill run carrier-outage` on a 5-gateway lab, wall time vs intrinsic waits.

Method: run the shipped drill (default parameters: blackhole, hold 5 s) N times as a fresh
`drill run` process; wall time from fork to exit. Intrinsic time is what the drill must
wait whatever the tool: the hold, the worst failover interruption (heartbeat timeout +
reconnect + login: the gateways' own failover time) and the worst failback interruption.
The journal's `step.end` records break the rest down: time inside Ansible playbooks,
time in waits, and the engine's own time outside steps (start-up, gate, measuring,
reports, archive).

Reproduce: `.venv/bin/python bench/p4_end_to_end.py` (`--runs N`).
"""

from __future__ import annotations

import argparse
import statistics
from collections import defaultdict

from _common import byte_compiled, write_section
from _drills import lab, load_average, records, run_drill, step_breakdown

SLACK_S = 5.0


def intrinsic(run_dir, hold_s: float) -> float:
    measures = [r["data"] for r in records(run_dir) if r["kind"] == "measure"]

    def worst(phase: str) -> float:
        return max((m["interruption_s"] or 0.0 for m in measures
                    if m["phase"] == phase and m["affected"]), default=0.0)

    return hold_s + worst("failover") + worst("failback")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--gateways", type=int, default=5)
    args = ap.parse_args()
    compiled = byte_compiled()
    load_before = load_average()
    rows, steps_all = [], defaultdict(list)
    with lab(args.gateways) as lb:
        for i in range(args.runs):
            run = run_drill(lb, f"p4#{i}", "carrier-outage")
            if run.run_dir is None:
                raise SystemExit(run.output[-3000:])
            intr = intrinsic(run.run_dir, 5.0)
            steps = step_breakdown(run.run_dir)
            in_steps = sum(s for _, _, s in steps)
            playbooks = sum(s for (phase, name, s), r in zip(steps, _kinds(run.run_dir), strict=True)
                            if r == "playbook")
            waits = in_steps - playbooks
            for phase, name, s in steps:
                steps_all[f"{phase}: {name}"].append(s)
            rows.append((run.exit_code, run.wall_s, intr, playbooks, waits, run.wall_s - in_steps))
            print(f"run {i}: exit {run.exit_code}, wall {run.wall_s:.1f} s, intrinsic {intr:.1f} s, "
                  f"playbooks {playbooks:.1f} s, waits {waits:.1f} s, outside steps "
                  f"{run.wall_s - in_steps:.1f} s", flush=True)
    table = ["| run | exit | wall s | intrinsic s | target (intrinsic + 5 s) | Ansible playbooks s | waits s "
             "| engine outside steps s | verdict |", "|---|---|---|---|---|---|---|---|---|"]
    for i, (code, wall, intr, pb, wt, out) in enumerate(rows):
        table.append(f"| {i} | {code} | {wall:.1f} | {intr:.1f} | ≤ {intr + SLACK_S:.1f} | {pb:.1f} | {wt:.1f} | "
                     f"{out:.1f} | {'met' if wall <= intr + SLACK_S else 'MISSED'} |")
    over = statistics.median(wall - intr for _, wall, intr, *_ in rows)
    verdict = (f"Median over the {len(rows)} runs: wall {statistics.median(r[1] for r in rows):.1f} s, "
               f"**{over:.1f} s over intrinsic** against ≤ {SLACK_S:.0f} s: "
               f"**{'met' if over <= SLACK_S else 'missed'}**.")
    steps = ["| step | median s |", "|---|---|"] + [
        f"| {name} | {statistics.median(v):.2f} |" for name, v in steps_all.items()]
    body = ("## P4: end to end\n\n" + __doc__.split("\n\n", 1)[1].split("Reproduce")[0].strip()
            + f"\n\nReproduce: `.venv/bin/python bench/p4_end_to_end.py`. {compiled}. "
            f"Load average before: {load_before}; after: {load_average()}.\n\n" + "\n".join(table)
            + "\n\n" + verdict + "\n\nWhere the time goes (per step):\n\n" + "\n".join(steps) + "\n")
    write_section("P4", body)


def _kinds(run_dir) -> list[str]:
    return [r["data"]["step_kind"] for r in records(run_dir) if r["kind"] == "step.end"]


if __name__ == "__main__":
    main()
