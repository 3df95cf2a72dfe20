"""P5: start-up time of `drill --help` and `drill list`, and that neither imports Ansible.

Method: run each command N times as a fresh process (interleaved, after 3 warm-ups),
wall time from fork to exit; then run each once under `python -X importtime` and look
for ansible, jinja2-heavy renderers, paramiko and weasyprint in the import list.
"""

from __future__ import annotations

import subprocess
import sys
import time

from _common import BIN, ROOT, summary, write_section

TARGET_S = 0.25
COMMANDS = {"drill --help": ["--help"], "drill list": ["list"]}
HEAVY = ("ansible", "ansible_runner", "paramiko", "weasyprint")


def run_once(args: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run([str(BIN / "drill"), *args], cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - t0


def heavy_imports(args: list[str]) -> list[str]:
    code = f"import sys; sys.argv=['drill', *{args!r}]; from orchestrator.cli import main; main()"
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", code], cwd=ROOT,
                         capture_output=True, text=True)
    names = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in out.stderr.splitlines()
             if line.startswith("import time:")}
    return sorted(n for n in names if n in HEAVY)


def main(n: int = 30) -> None:
    samples: dict[str, list[float]] = {k: [] for k in COMMANDS}
    for _ in range(3):
        for args in COMMANDS.values():
            run_once(args)
    for _ in range(n):
        for name, args in COMMANDS.items():
            samples[name].append(run_once(args))
    rows = ["| command | p50 s | p95 s | max s | target | heavy imports | verdict |",
            "|---|---|---|---|---|---|---|"]
    for name, args in COMMANDS.items():
        s = summary(samples[name])
        heavy = heavy_imports(args)
        ok = s["p95"] <= TARGET_S and not heavy
        rows.append(f"| `{name}` | {s['p50']:.3f} | {s['p95']:.3f} | {s['max']:.3f} | "
                    f"≤ {TARGET_S} s, no Ansible | {', '.join(heavy) or 'none'} | "
                    f"{'met' if ok else 'MISSED'} |")
    body = ("## P5: start-up\n\n"
            f"Method: each command run {n} times as a fresh process, interleaved, after 3 "
            "warm-ups; wall time fork to exit. Imports checked with `python -X importtime`.\n"
            f"Reproduce: `.venv/bin/python bench/p5_startup.py`.\n\n" + "\n".join(rows))
    write_section("P5", body)


if __name__ == "__main__":
    main()
