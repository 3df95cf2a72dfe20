"""`drill history` reads the archive through the archive scan and its cache: the same
runs, figures and table with or without the cache, and a corrupt cache is only ignored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.archive import history
from orchestrator.archive.runs import scan_runs
from orchestrator.cli import main
from orchestrator.journal.chain import Journal, stamp

S = 1_000_000_000


def _run(reports: Path, run_id: str, records: list[tuple[str, dict]], torn: bool = False) -> Path:
    folder = reports / run_id[:4] / run_id
    j = Journal(folder / "journal.jsonl", run_id)
    for kind, data in records:
        j.append(kind, data, sync=False)
    j.close()
    if torn:
        with open(folder / "journal.jsonl", "ab") as fh:
            fh.write(b'{"seq": 99, "kind": "run.e')  # crash mid-write
    return folder


def _start(drill: str, tz: str = "Asia/Shanghai") -> tuple[str, dict]:
    return ("run.start", {"drill": {"id": drill, "title": {"zh": drill, "en": drill}}, "params": {},
                          "inventory": {"environment": "lab", "kind": "lab", "timezone": tz},
                          "started": stamp(1_700_000_000 * S, "engine")})


def _measure(service: str, seconds: float, phase: str = "failover") -> tuple[str, dict]:
    return ("measure", {"gateway": "W1", "service": service, "affected": True,
                        "interruption_s": seconds, "phase": phase})


def _end(status: str, **extra) -> tuple[str, dict]:
    return ("run.end", {"status": status, "exit_code": {"passed": 0, "failed": 1}.get(status, 3),
                        "artifacts": {}, **extra})


@pytest.fixture
def archive(tmp_path) -> Path:
    """Every kind of run history meets: rto_s in run.end, in its summary, only in measure
    records, unfinished, torn, plus folders that are not runs."""
    reports = tmp_path / "reports"
    _run(reports, "20250301T000000Z-single-line-000001",
         [_start("single-line"), _measure("trading", 2.5), _end("passed", rto_s={"trading": 2.5})])
    _run(reports, "20260105T000000Z-single-line-000002",
         [_start("single-line", "UTC"), _measure("trading", 4.0),
          _end("failed", summary={"rto_s": {"trading": 4.0}})])
    _run(reports, "20260106T000000Z-carrier-outage-000003",
         [_start("carrier-outage"), _measure("trading", 3.0), _measure("trading", 7.0, "failback"),
          _measure("settlement", 1.5), _end("aborted")])
    _run(reports, "20260107T000000Z-carrier-outage-000004",
         [_start("carrier-outage"), _measure("market_data", 0.75)], torn=True)
    (reports / "2026" / "not-a-run").mkdir()
    bad = reports / "2026" / "bad-run"
    bad.mkdir()
    (bad / "journal.jsonl").write_text('{"kind": "measure"}\n', encoding="utf-8")
    return reports


def test_history_reads_what_each_journal_says(archive):
    runs = {r.run_id[-6:]: r for r in history.scan(archive)}
    assert sorted(runs) == ["000001", "000002", "000003", "000004"]
    assert (runs["000001"].status, runs["000001"].rto_s) == ("passed", {"trading": 2.5})
    assert (runs["000002"].status, runs["000002"].timezone) == ("failed", "UTC")
    assert runs["000002"].rto_s == {"trading": 4.0}
    # No rto_s in run.end: the worst failover interruption from the measure records.
    assert runs["000003"].rto_s == {"trading": 3.0, "settlement": 1.5}
    assert (runs["000004"].status, runs["000004"].ended_ns) == ("unfinished", None)
    assert runs["000004"].rto_s == {"market_data": 0.75}


def test_same_history_with_and_without_the_cache(archive, tmp_path):
    cache = tmp_path / "cache"
    plain = history.scan(archive)
    assert history.scan(archive, cache_dir=cache) == plain  # cold: fills the cache
    assert list(cache.glob("archive-*.json"))
    assert history.scan(archive, cache_dir=cache) == plain  # warm
    assert history.history_table(plain, 0) == history.history_table(
        history.scan(archive, cache_dir=cache), 0)


def test_cli_history_output_is_the_same_warm_and_cold(archive, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("DRILL_HOME", str(tmp_path / "home"))
    outs = []
    for args in (["history"], ["history", "--json"], ["history", "single-line", "--last", "1"]) * 2:
        assert main([*args, "--reports", str(archive), "--include-test"]) == 0  # lab runs
        outs.append(capsys.readouterr())
    assert outs[:3] == outs[3:]
    assert "single-line (2 runs, newest 1 shown)" in outs[2].out


@pytest.mark.parametrize("garbage", [b"{not json", b"[]", b'{"version": 1, "runs": []}',
                                     b'{"version": 1, "runs": {"x": 1}}'])
def test_corrupt_cache_is_ignored_and_rewritten(archive, tmp_path, garbage):
    cache = tmp_path / "cache"
    plain = history.scan(archive, cache_dir=cache)
    (file,) = cache.glob("archive-*.json")
    file.write_bytes(garbage)
    assert history.scan(archive, cache_dir=cache) == plain
    assert len(json.loads(file.read_text(encoding="utf-8"))["runs"]) == 3  # the finished runs


def test_tampered_cache_entry_is_read_again(archive, tmp_path):
    cache = tmp_path / "cache"
    plain = history.scan(archive, cache_dir=cache)
    (file,) = cache.glob("archive-*.json")
    blob = json.loads(file.read_text(encoding="utf-8"))
    for key, row in blob["runs"].items():
        blob["runs"][key] = row[:-1]  # a row of another shape is not trusted
    file.write_text(json.dumps(blob), encoding="utf-8")
    assert history.scan(archive, cache_dir=cache) == plain
    # Nor is a row of the right shape with the wrong kinds of value in it.
    blob = json.loads(file.read_text(encoding="utf-8"))
    for row in blob["runs"].values():
        row[2:] = [str(v) for v in row[2:]]
    file.write_text(json.dumps(blob), encoding="utf-8")
    assert history.scan(archive, cache_dir=cache) == plain


def test_deleted_run_leaves_history_and_the_cache(archive, tmp_path):
    import shutil

    cache = tmp_path / "cache"
    history.scan(archive, cache_dir=cache)
    gone = archive / "2026" / "20260105T000000Z-single-line-000002"
    shutil.rmtree(gone)
    assert [r.run_id[-6:] for r in history.scan(archive, cache_dir=cache)] == \
        ["000001", "000003", "000004"]
    (file,) = cache.glob("archive-*.json")
    assert str(gone) not in json.loads(file.read_text(encoding="utf-8"))["runs"]


def test_one_year_scan_keeps_the_other_years_cached(archive, tmp_path, monkeypatch):
    from orchestrator.archive import runs as archive_scan

    cache = tmp_path / "cache"
    everything = scan_runs(archive, cache_dir=cache)
    assert [r.run_id for r in scan_runs(archive, year=2026, cache_dir=cache)] == \
        [r.run_id for r in everything if r.year == 2026]
    reads = []
    real = archive_scan._read
    monkeypatch.setattr(archive_scan, "_read", lambda folder, *a: reads.append(folder) or real(folder, *a))
    assert scan_runs(archive, cache_dir=cache) == everything
    # Only what is not a settled run is read again; 2025's run is still cached.
    assert sorted(Path(f).name for f in reads) == \
        ["20260107T000000Z-carrier-outage-000004", "bad-run", "not-a-run"]


def test_finished_journal_that_grows_is_read_again(archive, tmp_path):
    """A cached run whose journal changes (records appended, sealed again) is re-read."""
    cache = tmp_path / "cache"
    before = {r.run_id[-6:]: r for r in history.scan(archive, cache_dir=cache)}
    assert before["000001"].status == "passed"
    folder = archive / "2025" / "20250301T000000Z-single-line-000001"
    j = Journal(folder / "journal.jsonl", folder.name)
    j.append(*_end("failed", rto_s={"trading": 9.0}), sync=False)
    j.close()
    after = {r.run_id[-6:]: r for r in history.scan(archive, cache_dir=cache)}
    assert (after["000001"].status, after["000001"].rto_s) == ("failed", {"trading": 9.0})
