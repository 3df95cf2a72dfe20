"""P3: playbook step overhead, drill's Ansible adapter vs raw `ansible-playbook`.

Method: the same playbook, inventory and extra vars run alternately (interleaved, so the
machine's load hits both alike) through `orchestrator.ansible.run_playbook` (fresh
private data dir each run, as the engine does) and as `ansible-playbook -i INV PLAYBOOK
-e @vars.json` in a fresh process with its output piped and discarded. Wall time of the
call / from fork to exit. Two playbooks: a trivial local one (one `debug` task), and the
drill's real `repoint.yml` (gateways back to their home centres) on a running 5-gateway
lab. Ratio = median(adapter) / median(raw). CPU = user + system seconds of drill's process
(all threads) plus its children (`ansible-playbook` and its workers), which the machine's
load does not inflate as it does wall time.

Reproduce: `.venv/bin/python bench/p3_ansible.py` (`--runs N`).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from _common import BIN, ROOT, pct, write_section
from _drills import lab, load_average

TRIVIAL = """\
- name: Trivial
  hosts: drill_control
  gather_facts: false
  tasks:
    - name: Say hello
      ansible.builtin.debug:
        msg: hello
"""
TARGETS = {"trivial": 1.15, "repoint": 1.05}


def _cpu() -> float:
    """CPU seconds of this process (all threads) and of its waited-for children."""
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + kids.ru_utime + kids.ru_stime


def run_adapter(playbook: Path, inventory: Path, extravars: dict, scratch: Path, n: str) -> tuple[float, float]:
    from orchestrator.adapters.ansible import PlaybookRun, run_playbook

    pdd = scratch / f"adapter-{playbook.stem}-{n}"
    c0, t0 = _cpu(), time.perf_counter()
    res = run_playbook(PlaybookRun(playbook=playbook, inventory=inventory, extravars=extravars,
                                   private_data_dir=pdd, timeout_s=300))
    wall, cpu = time.perf_counter() - t0, _cpu() - c0
    if not res.ok:
        raise SystemExit(f"adapter run failed: {res.status} {[t.msg for t in res.failed_tasks]}")
    return wall, cpu


def run_raw(playbook: Path, inventory: Path, extravars: dict, scratch: Path) -> tuple[float, float]:
    vars_file = scratch / "vars.json"
    vars_file.write_text(json.dumps(extravars))
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    c0, t0 = _cpu(), time.perf_counter()
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(inventory), str(playbook),
                           "-e", f"@{vars_file}"], env=env, cwd=scratch, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - t0, _cpu() - c0
    if proc.returncode != 0:
        raise SystemExit(f"raw run failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return wall, cpu


def compare(name: str, playbook: Path, inventory: Path, extravars: dict, runs: int, scratch: Path) -> dict:
    adapter, raw, adapter_cpu, raw_cpu = [], [], [], []
    run_adapter(playbook, inventory, extravars, scratch, "warm-up")  # caches, .pyc
    run_raw(playbook, inventory, extravars, scratch)
    for i in range(runs):
        pair = [("a", lambda i=i: run_adapter(playbook, inventory, extravars, scratch, str(i))),
                ("r", lambda: run_raw(playbook, inventory, extravars, scratch))]
        if i % 2:
            pair.reverse()  # alternate which goes first
        for which, fn in pair:
            wall, cpu = fn()
            (adapter if which == "a" else raw).append(wall)
            (adapter_cpu if which == "a" else raw_cpu).append(cpu)
        print(f"{name} #{i}: adapter {adapter[-1]:.3f} s ({adapter_cpu[-1]:.2f} s CPU), "
              f"raw {raw[-1]:.3f} s ({raw_cpu[-1]:.2f} s CPU)", flush=True)
    ratio = statistics.median(adapter) / statistics.median(raw)
    # pairwise ratios show how much of the spread is the machine rather than the adapter
    pairs = sorted(a / r for a, r in zip(adapter, raw, strict=True))
    return {"name": name, "runs": runs, "adapter_p50": statistics.median(adapter),
            "raw_p50": statistics.median(raw), "adapter_min": min(adapter), "raw_min": min(raw),
            "ratio": ratio, "pair_p50": pct(pairs, 50), "min_ratio": min(adapter) / min(raw),
            "cpu_ratio": statistics.median(adapter_cpu) / statistics.median(raw_cpu),
            "adapter_cpu": statistics.median(adapter_cpu), "raw_cpu": statistics.median(raw_cpu)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--repoint-runs", type=int, default=20)  # repoint is ~2 s since batching
    args = ap.parse_args()
    load_before = load_average()
    results = []
    with tempfile.TemporaryDirectory(prefix="drill-bench-p3-") as tmp:
        scratch = Path(tmp)
        pb = scratch / "trivial.yml"
        pb.write_text(TRIVIAL)
        with lab(5) as lb:
            from orchestrator.config.inventory import load_inventory
            from orchestrator.lab.control import lab_state_dir

            env_name = load_inventory(lb.inventory).environment.name
            state = lab_state_dir(env_name, lb.home)
            inv = state / "inventory.yml"
            results.append(compare("trivial", pb, inv, {}, args.runs, scratch))
            gws = [g.id for g in load_inventory(inv).gateways]
            extravars = {"gateways": gws, "to": "home", "drill_run_id": "bench-p3",
                         "drill_environment": env_name, "drill_home": str(lb.home),
                         "drill_project": str(ROOT), "evidence_dir": str(scratch / "evidence")}
            results.append(compare("repoint", ROOT / "playbooks" / "repoint.yml", inv, extravars,
                                   args.repoint_runs, scratch))
    rows = ["| playbook | runs each | adapter p50 s | raw p50 s | ratio of medians | median of pair ratios "
            "| ratio of minima | CPU s adapter / raw (ratio) | target | verdict |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        target = TARGETS[r["name"]]
        rows.append(f"| {r['name']} | {r['runs']} | {r['adapter_p50']:.3f} | {r['raw_p50']:.3f} | "
                    f"{r['ratio']:.3f}× | {r['pair_p50']:.3f}× | {r['min_ratio']:.3f}× | "
                    f"{r['adapter_cpu']:.2f} / {r['raw_cpu']:.2f} ({r['cpu_ratio']:.3f}×) | ≤ {target}× | "
                    f"{'met' if r['ratio'] <= target else 'MISSED'} |")
    body = ("## P3: playbook step overhead\n\n" + __doc__.split("\n\n", 1)[1].split("Reproduce")[0].strip()
            + f"\n\nReproduce: `.venv/bin/python bench/p3_ansible.py`. Load average before: {load_before}; "
            f"after: {load_average()}.\n\n" + "\n".join(rows))
    write_section("P3", body)


if __name__ == "__main__":
    main()
