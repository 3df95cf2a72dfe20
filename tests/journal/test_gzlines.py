"""The run folder's gzip JSON-lines evidence: what a killed run flushed stays readable."""

from __future__ import annotations

import os
import subprocess
import sys

from orchestrator.journal.gzlines import GzipLines, read_lines


def test_records_written_from_the_run_read_back_in_order(tmp_path):
    out = GzipLines(tmp_path / "e.jsonl.gz")
    for i in range(1000):
        out.write({"seq": i, "type": "transfer"})
    out.close()
    assert [r["seq"] for r in read_lines(tmp_path / "e.jsonl.gz")] == list(range(1000))


def test_a_killed_writer_leaves_every_record_it_flushed_readable(tmp_path):
    path = tmp_path / "e.jsonl.gz"
    code = (f"import os, time\nfrom orchestrator.journal import gzlines\nfrom pathlib import Path\n"
            f"gzlines.FLUSH_S = 0.0\nout = gzlines.GzipLines(Path({str(path)!r}))\n"
            f"for i in range(500): out.write({{'seq': i}})\nos.kill(os.getpid(), 9)\n")
    proc = subprocess.run([sys.executable, "-c", code], env={**os.environ}, check=False)
    assert proc.returncode == -9
    assert [r["seq"] for r in read_lines(path)] == list(range(500))

