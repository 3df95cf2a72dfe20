"""A run's probe samples on disk (evidence/probes.jsonl.gz): every change at full
resolution, the steady samples between changes as run records that still account for each
sample (count, first and last times, latency min/mean/max), so a long hold stays small."""

from __future__ import annotations

import itertools

from orchestrator.journal.gzlines import read_lines
from orchestrator.probes import Sample
from orchestrator.probes.sink import SampleSink

UP = {"state": "logged_in", "centre": "FT", "event_seq": 4}
DOWN = {"state": "disconnected", "centre": None, "event_seq": 5}
PERIOD_NS = 50_000_000


def _sample(i: int, value, ok: bool = True, target: str = "W000000T") -> Sample:
    return Sample("http-json", target, 1_800_000_000_000_000_000 + i * PERIOD_NS, i * PERIOD_NS,
                  ok, 1.0 + (i % 7), value)


def _write(tmp_path, samples) -> list[dict]:
    sink = SampleSink(tmp_path / "probes.jsonl.gz")
    for s in samples:
        sink.write(s)
    assert sink.count == len(samples)
    sink.close()
    return list(read_lines(tmp_path / "probes.jsonl.gz"))


def test_a_change_keeps_the_last_sample_before_it_and_the_first_after_it_whole(tmp_path):
    samples = [_sample(i, UP) for i in range(100)] + [_sample(i, DOWN, ok=False) for i in range(100, 103)]
    recs = _write(tmp_path, samples)
    whole = [r for r in recs if "run" not in r]
    assert [r["t_ns"] for r in whole] == [samples[i].t_ns for i in (0, 99, 100, 102)]
    assert whole[1]["value"] == UP and whole[2]["value"] == DOWN and whole[2]["ok"] is False


def test_every_sample_is_accounted_for_with_its_times_and_latency_range(tmp_path):
    samples = [_sample(i, UP) for i in range(1000)] + [_sample(1000, DOWN, ok=False)]
    recs = _write(tmp_path, samples)
    runs = [r["run"] for r in recs if "run" in r]
    assert sum(r["n"] for r in runs) + sum(1 for r in recs if "run" not in r) == len(samples)
    assert runs[0]["t_ns"][0] == samples[1].t_ns and runs[-1]["t_ns"][1] == samples[998].t_ns
    assert all(b["t_ns"][0] - a["t_ns"][1] == PERIOD_NS for a, b in itertools.pairwise(runs))
    assert {r["latency_ms"]["min"] for r in runs} == {1.0} and {r["latency_ms"]["max"] for r in runs} == {7.0}
    # a run record at most every RUN_S of samples (a killed run loses no more than that)
    assert all((r["mono_ns"][1] - r["mono_ns"][0]) / 1e9 <= SampleSink.RUN_S for r in runs)
    assert len(runs) >= (999 * PERIOD_NS / 1e9) // SampleSink.RUN_S


def test_targets_are_run_length_encoded_apart(tmp_path):
    samples = [_sample(i, UP, target=t) for i in range(50) for t in ("A", "B")]
    recs = _write(tmp_path, samples)
    for t in ("A", "B"):
        mine = [r for r in recs if r["target"] == t]
        assert sum(r["run"]["n"] if "run" in r else 1 for r in mine) == 50


def _md(i: int, tick_ns: int) -> Sample:
    value = {"state": "logged_in", "centre": "FT", "event_seq": 6, "md_source": "tcp",
             "md_last_seq_time_ns": tick_ns}
    return Sample("http-json", "W00002TF", 1_800_000_000_000_000_000 + i * PERIOD_NS, i * PERIOD_NS,
                  True, 1.0, value)


def test_flowing_market_data_is_a_run_with_its_first_and_last_tick_and_a_stall_is_a_change(tmp_path):
    """The last tick's time advances with every sample while data flows: a run keeps where
    it went from and to; the same time twice (no tick between two samples) starts a new state."""
    ticks = [1000 + i for i in range(100)] + [1099] * 20 + [1200 + i for i in range(100)]
    samples = [_md(i, t) for i, t in enumerate(ticks)]
    recs = _write(tmp_path, samples)
    runs = [r for r in recs if "run" in r]
    assert sum(r["run"]["n"] for r in runs) + sum(1 for r in recs if "run" not in r) == len(samples)
    assert runs[0]["run"]["progress"] == {"md_last_seq_time_ns": [1002, 1098], "event_seq": [6, 6]}
    assert "md_last_seq_time_ns" not in runs[0]["value"]
    whole = [r["value"]["md_last_seq_time_ns"] for r in recs if "run" not in r]
    assert whole[:4] == [1000, 1001, 1099, 1099]  # the first, the flow's first and last, the stall's first
    assert 1200 in whole and len(recs) < 20


def test_the_monitors_event_counter_advancing_is_no_change_but_a_move_is(tmp_path):
    """Each CCNET transfer is a monitor event: a settlement gateway's counter advances every
    second while nothing changes. The run keeps its first and last; a new centre is a change."""
    def ccnet(i: int, centre: str) -> Sample:
        return Sample("http-json", "W00004JS", 1_800_000_000_000_000_000 + i * PERIOD_NS, i * PERIOD_NS,
                      True, 1.0, {"state": "logged_in", "centre": centre, "event_seq": 10 + i // 2})
    samples = [ccnet(i, "FT") for i in range(100)] + [ccnet(i, "NF") for i in range(100, 110)]
    recs = _write(tmp_path, samples)
    (first_run, *_) = [r for r in recs if "run" in r]
    assert first_run["run"]["n"] == 98 and first_run["run"]["progress"] == {"event_seq": [10, 59]}
    assert [r["value"]["centre"] for r in recs if "run" not in r] == ["FT", "FT", "NF", "NF"]
