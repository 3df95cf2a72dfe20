"""P6: `drill due` and `drill history` over 10,000 archived runs.

Method: generate N run folders (journals written with orchestrator.journal.Journal per
docs/journal.md: run.start, measure records, run.end with `rto_s` as the engine writes it)
spread over three years for the shipped drills, then time each command 5 times as a fresh process (after one warm-up).
"""

from __future__ import annotations

import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _common import BIN, ROOT, summary, write_section

sys.path.insert(0, str(ROOT))
from orchestrator.journal.chain import Journal, stamp

TARGET_S = 1.0
DRILLS = ["single-line", "carrier-outage", "centre-outage", "beijing-cutover", "md-multicast-fallback"]


def generate(reports: Path, n: int, seed: int = 8) -> None:
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for i in range(n):
        when = start + timedelta(minutes=rng.randrange(0, 3 * 365 * 24 * 60))
        drill = rng.choice(DRILLS)
        run_id = f"{when:%Y%m%dT%H%M%SZ}-{drill}-{i:06x}"
        run_dir = reports / str(when.year) / run_id
        j = Journal(run_dir / "journal.jsonl", run_id)
        ns = int(when.timestamp() * 1e9)
        j.append("run.start", {"drill": {"id": drill, "title": {"zh": drill, "en": drill}},
                               "params": {}, "inventory": {"environment": "lab", "kind": "lab",
                                                            "timezone": "Asia/Shanghai"},
                               "started": stamp(ns, "engine")}, sync=False)
        rto = round(rng.uniform(1.5, 6.0), 3)
        j.append("measure", {"gateway": "W000000T", "service": "trading", "affected": True,
                             "interruption_s": rto, "target_s": 30.0, "passed": True}, sync=False)
        status = rng.choices(["passed", "failed", "aborted"], [8, 1, 1])[0]
        j.append("run.end", {"status": status, "exit_code": {"passed": 0, "failed": 1, "aborted": 3}[status],
                             "rto_s": {"trading": rto},
                             "ended": stamp(ns + 60_000_000_000, "engine"), "artifacts": {}}, sync=False)
        j.close()


def time_cmd(args: list[str], runs: int = 5) -> list[float]:
    subprocess.run([str(BIN / "drill"), *args], cwd=ROOT, capture_output=True)
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([str(BIN / "drill"), *args], cwd=ROOT, capture_output=True)
        out.append(time.perf_counter() - t0)
    return out


def main(n: int = 10_000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        reports = Path(tmp) / "reports"
        t0 = time.perf_counter()
        generate(reports, n)
        gen_s = time.perf_counter() - t0
        rows = ["| command | p50 s | max s | target | verdict |", "|---|---|---|---|---|"]
        for name, args in {"drill due": ["due", "--reports", str(reports)],
                           "drill history": ["history", "--reports", str(reports)]}.items():
            s = summary(time_cmd(args))
            rows.append(f"| `{name}` ({n:,} runs) | {s['p50']:.3f} | {s['max']:.3f} | "
                        f"≤ {TARGET_S} s | {'met' if s['max'] <= TARGET_S else 'MISSED'} |")
    body = ("## P6: history over 10,000 runs\n\n"
            f"Method: {n:,} generated run folders ({gen_s:.0f} s to generate) over three years "
            "and five drills; each command timed 5 times as a fresh process after a warm-up.\n"
            "Reproduce: `.venv/bin/python bench/p6_history.py`.\n\n" + "\n".join(rows))
    write_section("P6", body)


if __name__ == "__main__":
    main()
