"""The journal writer when its disk fails (issue 18, fast; the whole drill on a full tmpfs is
tests/reliability/test_faults_lab.py). The kernel's own ENOSPC comes from /dev/full put
under the writer's file descriptor, as a full disk would answer its next write."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from pathlib import Path

import pytest

from orchestrator.journal.chain import Journal, complete_from, first_bad_record, read_records


def _on_full_disk(journal: Journal) -> None:
    full = os.open("/dev/full", os.O_WRONLY)
    try:
        os.dup2(full, journal._fd)
    finally:
        os.close(full)


@pytest.fixture
def other_disk(tmp_path):
    """A folder on another filesystem than tmp_path (/dev/shm is a tmpfs)."""
    shm = Path("/dev/shm")
    if not shm.is_dir() or os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("no /dev/shm on another filesystem")
    folder = shm / f"drill-test-{os.getpid()}-{tmp_path.name}"
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_a_full_disk_sends_the_rest_to_the_fallback_and_complete_from_joins_them(tmp_path, other_disk):
    said: list[str] = []
    path = tmp_path / "run" / "journal.jsonl"
    j = Journal(path, "run-x", fallback_dirs=(tmp_path / "same-disk", other_disk),
                on_fallback=said.append)
    j.append("run.start", {"n": 0})
    j.append("step.start", {"n": 1}, sync=False)  # written, not yet fsync'd
    _on_full_disk(j)
    j.append("step.end", {"n": 2})
    j.append("run.end", {"n": 3})
    j.close()
    # On the full disk: valid up to the last record that reached it, no torn line.
    assert first_bad_record(path) is None
    kept = [r.data["n"] for r in read_records(path)]
    assert kept in ([0], [0, 1])
    cont = other_disk / "run-x.journal.jsonl"
    assert j.fallback == cont and not (tmp_path / "same-disk").exists()
    assert len(said) == 1 and "No space left on device" in said[0] and str(cont) in said[0]
    assert "the disk mounted at" in said[0]
    # (/dev/full cannot be cut back: whatever reached the journal is not written twice)
    assert complete_from(path, cont) == 4 - len(kept)
    assert [r.data["n"] for r in read_records(path)] == [0, 1, 2, 3]
    assert first_bad_record(path) is None and not cont.exists()


def test_no_fallback_off_the_disk_raises_naming_the_disk(tmp_path):
    path = tmp_path / "journal.jsonl"
    j = Journal(path, "run-y", fallback_dirs=(tmp_path / "fallback",))
    j.append("run.start", {})
    _on_full_disk(j)
    with pytest.raises(OSError, match=r"no fallback could be written: .*same disk"):
        j.append("step.start", {})
    with contextlib.suppress(OSError):
        j.close()
    assert [r.kind for r in read_records(path)] == ["run.start"]


def test_a_continuation_that_does_not_carry_on_the_chain_is_refused(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    ja, jb = Journal(a, "run-z"), Journal(b, "run-z")
    ja.append("run.start", {"x": 1})
    jb.append("run.start", {"x": 2})
    jb.append("run.end", {})
    ja.close()
    jb.close()
    lines = b.read_bytes().splitlines(keepends=True)
    b.write_bytes(lines[1])  # seq 1, but its prev is b's first record, not a's
    with pytest.raises(ValueError, match="does not carry on"):
        complete_from(a, b)
    assert [json.loads(x)["seq"] for x in a.read_bytes().splitlines()] == [0]


def test_a_torn_last_line_is_cut_before_the_next_append(tmp_path):
    path = tmp_path / "journal.jsonl"
    j = Journal(path, "run-t")
    j.append("run.start", {})
    j.close()
    with open(path, "ab") as fh:
        fh.write(b'{"seq": 1, "torn')  # a crash mid-write
    j = Journal(path, "run-t")
    j.append("run.end", {})
    j.close()
    assert first_bad_record(path) is None
    assert [r.kind for r in read_records(path)] == ["run.start", "run.end"]
