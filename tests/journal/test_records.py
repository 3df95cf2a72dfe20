"""Typed journal records read back the fixture journals and write them byte-identically."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.journal.chain import Journal, canonical, read_records
from orchestrator.journal.reader import read_ends, read_journal, read_start, read_strict, typed
from orchestrator.journal.records import RECORD_TYPES, Measure, RunEnd, StepEnd
from orchestrator.model.results import worst_rto

RUNS = sorted((Path(__file__).parents[1] / "fixtures" / "runs" / "2026").iterdir())
GOLDEN = json.loads((Path(__file__).parents[1] / "fixtures" / "golden_record_keys.json").read_text())


@pytest.mark.parametrize("run", RUNS, ids=lambda p: p.name)
def test_every_record_round_trips(run: Path) -> None:
    kinds = set()
    for rec in read_records(run / "journal.jsonl"):
        record = typed(rec)
        assert record is not None, f"no typed record for {rec.kind}"
        assert canonical(record.to_record()) == canonical(rec.data), rec.kind
        kinds.add(rec.kind)
    assert {"run.start", "run.end", "step.start", "step.end", "measure", "objective"} <= kinds


def test_every_golden_kind_has_a_type() -> None:
    kinds = {k for drill in GOLDEN.values() for k in drill}
    assert kinds <= set(RECORD_TYPES)


def test_records_written_from_types_keep_the_golden_keys(tmp_path: Path) -> None:
    """A journal written by Journal from typed records has the golden kinds and keys."""
    src = RUNS[0]
    golden = GOLDEN[read_start(src / "journal.jsonl").drill_id]
    journal = Journal(tmp_path / "journal.jsonl", "run-x")
    for rec in read_records(src / "journal.jsonl"):
        journal.append(rec.kind, typed(rec).to_record(), sync=False)
    journal.close()
    for rec in read_records(tmp_path / "journal.jsonl"):
        keys = {k for k in rec.raw} | {f"data.{k}" for k in rec.data}
        assert keys <= set(golden[rec.kind]), rec.kind


def test_reader_views_agree_with_the_raw_journal() -> None:
    run = RUNS[1]
    j = read_journal(run / "journal.jsonl")
    first, last = read_ends(run / "journal.jsonl")
    assert j.records[0].raw == first and j.records[-1].raw == last
    assert j.finished and j.start.drill_id == "beijing-cutover"
    assert j.end == RunEnd.from_record(last["data"])
    assert j.worst_rto() == j.end.rto_s == worst_rto(j.of(Measure))
    assert all(isinstance(s, StepEnd) for s in j.of(StepEnd))
    strict, problem = read_strict(run / "journal.jsonl")
    assert problem is None and strict == list(j.records)


def test_read_strict_names_a_record_of_the_wrong_shape(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl", "run-x")
    journal.append("run.start", {})
    journal.close()
    line = json.loads((tmp_path / "journal.jsonl").read_text())
    line["kind"] = 7
    (tmp_path / "journal.jsonl").write_bytes(canonical(line) + b"\n")
    records, problem = read_strict(tmp_path / "journal.jsonl")
    assert records == [] and problem == (1, "field 'kind' missing or not str")


def test_torn_tail_is_not_read(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl", "run-x")
    journal.append("run.start", {"drill": {"id": "d"}})
    journal.append("note", {"message": "m", "detail": {}})
    journal.close()
    with open(tmp_path / "journal.jsonl", "ab") as fh:
        fh.write(b'{"seq": 2, "kin')
    first, last = read_ends(tmp_path / "journal.jsonl")
    assert first["kind"] == "run.start" and last["kind"] == "note"
    assert [r.kind for r in read_journal(tmp_path / "journal.jsonl").records] == ["run.start", "note"]
