"""drill_log_slice, the module the linux driver cuts each gateway log with for evidence,
through real ansible-runner on the local host: from where drill marked the log as the run
started (less the context, at a line start) to its end; a log rotated since, from its new
start; an unmarked one, its last max_bytes; a long run, its first max_bytes at a line end.
Every copy is byte for byte the log's bytes it says it holds."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from ansible_helpers import LOCAL_INVENTORY

from orchestrator.adapters.ansible import PlaybookRun, run_playbook

ROOT = Path(__file__).resolve().parents[2]


def _lines(first: int, n: int) -> bytes:
    return b"".join(b"2026-12-05 10:00:%02d.%03d W000000T line %d\n" % (i % 60, i % 1000, i)
                    for i in range(first, first + n))


@pytest.fixture(scope="module")
def cut(tmp_path_factory):
    """One run of the module over four logs, each prepared for one case."""
    tmp = tmp_path_factory.mktemp("slice")
    logs = {name: tmp / f"{name}.log" for name in ("marked", "rotated", "unmarked", "long")}
    for path in logs.values():
        path.write_bytes(_lines(0, 200))
    marks = {name: {"inode": p.stat().st_ino, "size": p.stat().st_size} for name, p in logs.items()}
    with logs["marked"].open("ab") as fh:
        fh.write(_lines(200, 10))
    logs["rotated"].rename(tmp / "rotated.log.1")
    logs["rotated"].write_bytes(_lines(500, 5))
    with logs["long"].open("ab") as fh:
        fh.write(_lines(1000, 400))
    specs = [{"id": name, "path": str(p), **(marks[name] if name != "unmarked" else {})}
             for name, p in logs.items()]
    pb = tmp / "pb.yml"
    pb.write_text(
        "- name: Test play\n  hosts: all\n  gather_facts: false\n  tasks:\n"
        "    - name: Cut\n      drill_log_slice:\n"
        f"        logs: {json.dumps(specs)}\n        context_bytes: 100\n        max_bytes: 3000\n"
        "      register: c\n"
        "    - name: Keep the result\n      ansible.builtin.copy:\n"
        "        content: \"{{ c | to_json }}\"\n"
        f"        dest: {tmp / 'out.json'}\n        mode: '0600'\n",
        encoding="utf-8")
    inv = tmp / "inv.yml"
    inv.write_text(LOCAL_INVENTORY)
    result = run_playbook(PlaybookRun(
        playbook=pb, inventory=inv, extravars={}, private_data_dir=tmp / "pdd", timeout_s=120,
        envvars={"ANSIBLE_LIBRARY": str(ROOT / "playbooks" / "library")}))
    assert result.ok, [(t.task, t.msg) for t in result.tasks]
    out = json.loads((tmp / "out.json").read_text())
    yield {c["id"]: c for c in out["logs"]}, logs, marks
    shutil.rmtree(out["folder"])


def _copy_is_exact(c: dict, log: Path) -> None:
    copied = Path(c["copy_path"]).read_bytes()
    assert copied == log.read_bytes()[c["start"]:c["end"]]
    assert c["sha256"] == hashlib.sha256(copied).hexdigest()


def test_a_marked_log_is_cut_from_a_line_start_just_before_the_mark_to_its_end(cut):
    cuts, logs, marks = cut
    c, mark = cuts["marked"], marks["marked"]["size"]
    assert c["from_mark"] and not c["rotated"] and not c["truncated"]
    assert mark - 100 <= c["start"] <= mark and c["end"] == logs["marked"].stat().st_size
    assert logs["marked"].read_bytes()[c["start"] - 1:c["start"]] == b"\n"
    _copy_is_exact(c, logs["marked"])


def test_a_log_rotated_since_the_mark_is_cut_from_its_new_start_and_says_so(cut):
    cuts, logs, _ = cut
    c = cuts["rotated"]
    assert c["rotated"] and not c["from_mark"] and c["start"] == 0
    _copy_is_exact(c, logs["rotated"])
    assert Path(c["copy_path"]).read_bytes() == _lines(500, 5)


def test_an_unmarked_log_keeps_its_last_max_bytes_from_a_line_start(cut):
    cuts, logs, _ = cut
    c = cuts["unmarked"]
    size = logs["unmarked"].stat().st_size
    assert not c["from_mark"] and c["end"] == size and 0 < size - c["start"] <= 3000
    assert logs["unmarked"].read_bytes()[c["start"] - 1:c["start"]] == b"\n"
    _copy_is_exact(c, logs["unmarked"])


def test_a_run_longer_than_max_bytes_keeps_its_first_bytes_to_a_line_end(cut):
    cuts, logs, marks = cut
    c = cuts["long"]
    assert c["from_mark"] and c["truncated"] and c["end"] - c["start"] <= 3000
    assert c["start"] <= marks["long"]["size"] < c["end"] < logs["long"].stat().st_size
    assert Path(c["copy_path"]).read_bytes().endswith(b"\n")
    _copy_is_exact(c, logs["long"])
