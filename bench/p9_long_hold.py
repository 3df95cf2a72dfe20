"""P9: a long hold on a 200-gateway lab: drill's memory, the run folder, report and verify.

Method: start a 200-gateway lab, run `drill run carrier-outage --set hold=H` as a fresh
process and read its resident memory (VmRSS of the `drill` process, not of the Ansible
children it starts) and the size of its run folder every 10 s. Growth rates are least-squares
slopes over the hold after its first 10 minutes (after its first half when the hold is
shorter). Then time `drill report --format html` and `drill verify` on the run, and judge
its interruption figures against the lab's ground truth as P1 does. The target is judged
only on a 2-hour hold; a shorter one is reported as such, its growth per hour projected.

Reproduce: `.venv/bin/python bench/p9_long_hold.py` (`--hold 2h`, `--gateways 200`).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import time
from pathlib import Path

from _common import BIN, ROOT, pct, write_section
from _drills import DrillRun, judge, lab, load_average, records
from p1_accuracy import MAX_MS, P95_MS

SAMPLE_S = 10.0
WARM_S = 600.0
TARGET_HOLD_S = 7200.0


def _seconds(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600}
    return float(text[:-1]) * units[text[-1]] if text[-1] in units else float(text)


def _rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _du_mb(path: Path | None) -> float:
    if path is None:
        return 0.0
    total = 0
    for p in path.rglob("*"):
        with contextlib.suppress(OSError):
            total += p.stat().st_size if p.is_file() else 0
    return total / 1e6


def _slope_per_h(points: list[tuple[float, float]]) -> float:
    if len(points) < 2:
        return float("nan")
    n = len(points)
    mx = sum(t for t, _ in points) / n
    my = sum(v for _, v in points) / n
    var = sum((t - mx) ** 2 for t, _ in points)
    return sum((t - mx) * (v - my) for t, v in points) / var * 3600 if var else float("nan")


def _timed(args: list[str]) -> tuple[int, float]:
    t0 = time.perf_counter()
    code = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=False).returncode
    return code, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gateways", type=int, default=200)
    ap.add_argument("--hold", default="2h")
    args = ap.parse_args()
    hold_s = _seconds(args.hold)
    load_before = load_average()
    with lab(args.gateways) as lb:
        before = set(lb.reports.glob("*/*/journal.jsonl"))
        cmd = [str(BIN / "drill"), "run", "carrier-outage", "--project", str(ROOT), "--inventory",
               str(lb.inventory), "--reports", str(lb.reports), "--set", f"hold={args.hold}"]
        env = dict(os.environ, DRILL_HOME=str(lb.home))
        t0 = time.monotonic()
        with open(lb.home.parent / "drill.out", "w+", encoding="utf-8") as out:
            proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
            rss: list[tuple[float, float]] = []
            size: list[tuple[float, float]] = []
            run_dir = None
            while proc.poll() is None:
                if run_dir is None and (new := sorted(set(lb.reports.glob("*/*/journal.jsonl")) - before)):
                    run_dir = new[-1].parent
                now = time.monotonic() - t0
                if (mb := _rss_mb(proc.pid)) is not None:
                    rss.append((now, mb))
                size.append((now, _du_mb(run_dir)))
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=SAMPLE_S)
            wall = time.monotonic() - t0
            out.seek(0)
            output = out.read()
        if run_dir is None:
            raise SystemExit(output[-3000:])
        recs = records(run_dir)
        folder_mb = _du_mb(run_dir)
        files = sorted(((p.relative_to(run_dir).as_posix(), p.stat().st_size / 1e6)
                        for p in run_dir.rglob("*") if p.is_file()), key=lambda f: -f[1])[:6]
        report_code, report_s = _timed([str(BIN / "drill"), "report", str(run_dir), "--format", "html",
                                        "--out", str(lb.home.parent / "p9.html")])
        verify_code, verify_s = _timed([str(BIN / "drill"), "verify", str(run_dir)])
        j = judge(DrillRun("p9", "carrier-outage", (f"hold={args.hold}",), args.gateways,
                           proc.returncode, wall, run_dir, output))
    start_s = rss[0][0] if rss else 0.0
    warm = WARM_S if hold_s >= 2 * WARM_S else hold_s / 2
    end_s = rss[-1][0] if rss else 0.0
    # the hold is the run's long middle: from warm-up after the start to a minute before the end
    window = [(t, v) for t, v in rss if start_s + warm <= t <= end_s - 60]
    swindow = [(t, v) for t, v in size if start_s + warm <= t <= end_s - 60]
    rss_rate, size_rate = _slope_per_h(window), _slope_per_h(swindow)
    peak = max((v for _, v in rss), default=float("nan"))
    errs = [abs(e.error_ms) for e in j.errors]
    p95, mx = pct(errs, 95), max(errs, default=float("nan"))
    ok_p1 = bool(errs) and p95 <= P95_MS and mx <= MAX_MS and not j.missed and not j.spurious
    full = hold_s >= TARGET_HOLD_S
    projected = folder_mb + (size_rate * (TARGET_HOLD_S - hold_s) / 3600 if not full else 0.0)

    def verdict(ok: bool) -> str:
        return ("met" if ok else "MISSED") if full else ("projected: within" if ok else "projected: over")

    status = recs[-1]["data"].get("status") if recs[-1]["kind"] == "run.end" else "unfinished"
    print(f"exit {proc.returncode} status {status} wall {wall:.0f}s rss peak {peak:.0f} MB, "
          f"growth {rss_rate:.1f} MB/h; folder {folder_mb:.1f} MB, {size_rate:.1f} MB/h; "
          f"report {report_s:.1f}s verify {verify_s:.1f}s; P1 p95 {p95:.2f} max {mx:.2f}", flush=True)
    body = (
        f"## P9: a {args.hold} hold on {args.gateways} lab gateways\n\n"
        + __doc__.split("\n\n", 1)[1].split("Reproduce")[0].strip()
        + f"\n\nReproduce: `.venv/bin/python bench/p9_long_hold.py --hold {args.hold}`. Load average before: "
        f"{load_before}; after: {load_average()}. Run: exit {proc.returncode}, status `{status}`, wall "
        f"{wall:.0f} s; {len(rss)} memory samples, growth fitted over {len(window)} of them.\n\n"
        "| measure | figure | target | verdict |\n|---|---|---|---|\n"
        f"| drill's RSS after warm-up | peak {peak:.0f} MB; growth {rss_rate:.1f} MB/h | < 5 MB/h "
        f"| {verdict(rss_rate < 5)} |\n"
        f"| run folder | {folder_mb:.1f} MB after the {args.hold} hold, growing {size_rate:.1f} MB/h"
        f"{'' if full else f'; {projected:.0f} MB projected for 2 h'} | ≤ 200 MB "
        f"| {verdict(projected <= 200)} |\n"
        f"| HTML report | {report_s:.1f} s (exit {report_code}) | ≤ 15 s "
        f"| {verdict(report_code == 0 and report_s <= 15)} |\n"
        f"| `drill verify` | {verify_s:.1f} s (exit {verify_code}) | ≤ 10 s "
        f"| {verdict(verify_code == 0 and verify_s <= 10)} |\n"
        f"| P1 on this run | {len(errs)} judged: p95 {p95:.2f} ms, max {mx:.2f} ms; missed {len(j.missed)}, "
        f"spurious {len(j.spurious)} | p95 ≤ {P95_MS:g} ms, max ≤ {MAX_MS:g} ms | {'met' if ok_p1 else 'MISSED'} |\n\n"
        "Largest files of the run folder: " + ", ".join(f"`{n}` {mb:.1f} MB" for n, mb in files) + "\n")
    write_section("P9", body)


if __name__ == "__main__":
    main()
