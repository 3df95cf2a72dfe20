"""Shared helpers for the hand-run benchmarks: timing stats and BENCHMARKS.md updates."""

from __future__ import annotations

import os
import platform
import re
import statistics
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "BENCHMARKS.md"
BIN = Path(sys.executable).parent


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": statistics.median(values),
        "p95": pct(values, 95),
        "max": max(values),
    }


def machine() -> str:
    cpu = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{platform.node()}: {os.cpu_count()} cores ({cpu}), {mem_gib:.0f} GiB, "
            f"Python {platform.python_version()}, {platform.system()} {platform.release()}")


def byte_compiled() -> str:
    """Byte-compile drill's own modules, as `pip install` leaves them, and say so. With
    PYTHONDONTWRITEBYTECODE=1 (this VM sets it) no run writes them, and every drill
    process compiled its imports again: about 0.15 s for the engine's alone."""
    import compileall

    for folder in ("orchestrator", "playbooks"):
        compileall.compile_dir(str(ROOT / folder), quiet=1)
    env = os.environ.get("PYTHONDONTWRITEBYTECODE")
    return ("drill's modules byte-compiled first (`compileall`, as `pip install` does)"
            + (f"; PYTHONDONTWRITEBYTECODE={env} in the environment" if env else ""))


def git_commit() -> str:
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                         capture_output=True, text=True)
    return out.stdout.strip() or "unknown"


def write_section(bench_id: str, body: str) -> None:
    """Replace (or add) the section of docs/BENCHMARKS.md between this bench's markers."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    block = (f"<!-- {bench_id}:begin -->\n{body.rstrip()}\n\n"
             f"_Measured {stamp} at commit {git_commit()} on {machine()}._\n<!-- {bench_id}:end -->")
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"<!-- {bench_id}:begin -->.*?<!-- {bench_id}:end -->", re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    DOC.write_text(text, encoding="utf-8")
    print(block)
