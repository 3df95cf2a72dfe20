"""Run every benchmark, one after another (never in parallel: they would measure each
other), each updating its own section of docs/BENCHMARKS.md.

Reproduce: `.venv/bin/python bench/run_all.py` (`--only P1,P3` for some of them).
About 25 minutes on a 2-core machine.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = {"P1": "p1_accuracy.py", "P2": "p2_probes.py", "P3": "p3_ansible.py",
           "P4": "p4_end_to_end.py", "P5": "p5_startup.py", "P6": "p6_history.py",
           "P7": "p7_scale.py", "P10": "p10_big_estate.py"}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default=",".join(BENCHES))
    args = ap.parse_args()
    failed = []
    for bench_id in [b.strip().upper() for b in args.only.split(",") if b.strip()]:
        t0 = time.monotonic()
        print(f"=== {bench_id}: {BENCHES[bench_id]}", flush=True)
        rc = subprocess.run([sys.executable, str(HERE / BENCHES[bench_id])], cwd=HERE.parent).returncode
        print(f"=== {bench_id}: exit {rc} in {time.monotonic() - t0:.0f} s", flush=True)
        if rc:
            failed.append(bench_id)
    if failed:
        print(f"benchmarks that did not finish: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
