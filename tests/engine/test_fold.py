"""The journal keeps the first of a run of like transfers whole and counts the rest
(engine/fold.py, issue 19 P9): nothing a figure reads is dropped, nothing is lost."""

from __future__ import annotations

from orchestrator.engine.fold import EventFolder

S = 10**9


def _transfer(ok=True, centre="FT"):
    return "transfer", {"ok": ok, "centre": centre}


def test_a_run_of_like_transfers_is_its_first_whole_and_a_count_of_the_rest():
    fold = EventFolder()
    whole = [fold.offer("G", *_transfer(), ns=i * S, seq=10 + i)[0] for i in range(30)]
    assert whole == [True] + [False] * 29
    [f] = fold.drain()
    assert (f.gateway, f.type, dict(f.like), f.count) == ("G", "transfer", {"ok": True, "centre": "FT"}, 29)
    assert (f.first_ns, f.last_ns, f.first_seq, f.last_seq) == (S, 29 * S, 11, 39)


def test_a_change_ends_the_count_before_it_and_is_journaled_whole():
    fold = EventFolder()
    for i in range(5):
        fold.offer("G", *_transfer(), ns=i * S, seq=i)
    whole, folded = fold.offer("G", "link_down", {}, ns=5 * S, seq=5)
    assert whole and [f.count for f in folded] == [4]
    # a failed transfer, then ok ones at the other centre: each change whole
    assert fold.offer("G", *_transfer(ok=False), ns=6 * S, seq=6) == (True, [])
    assert fold.offer("G", *_transfer(centre="NF"), ns=7 * S, seq=7) == (True, [])
    assert fold.offer("G", *_transfer(centre="NF"), ns=8 * S, seq=8) == (False, [])
    assert fold.offer("G", *_transfer(centre="FT"), ns=9 * S, seq=9)[0] is True


def test_only_transfers_fold_and_each_gateway_folds_alone():
    fold = EventFolder()
    assert fold.offer("G", "login", {"centre": "FT"}, ns=1, seq=1)[0]
    assert fold.offer("G", "login", {"centre": "FT"}, ns=2, seq=2)[0]
    assert fold.offer("G", *_transfer(), ns=3, seq=3)[0]
    assert fold.offer("H", *_transfer(), ns=4, seq=1)[0]  # H's first: whole
    assert not fold.offer("G", *_transfer(), ns=5, seq=4)[0]
    assert not fold.offer("H", *_transfer(), ns=6, seq=2)[0]
    assert sorted((f.gateway, f.count) for f in fold.drain()) == [("G", 1), ("H", 1)]
    assert fold.drain() == []


def test_a_long_run_is_counted_in_records_no_longer_than_the_span():
    """A killed run loses at most one span of its count."""
    fold = EventFolder(span_ns=10 * S)
    out = []
    for i in range(36):
        _whole, folded = fold.offer("G", *_transfer(), ns=i * S, seq=i)
        out += folded
    out += fold.drain()
    assert all(f.last_ns - f.first_ns < 10 * S for f in out)
    assert sum(f.count for f in out) == 35
    assert [(f.first_seq, f.last_seq) for f in out] == [(1, 10), (11, 20), (21, 30), (31, 35)]
