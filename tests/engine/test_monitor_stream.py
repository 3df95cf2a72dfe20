"""Monitor change streams: every event reaches the watcher in order, however the bytes are cut."""

from __future__ import annotations

import asyncio
import json
import os
import time

import pytest

from orchestrator.lab.monitor import EventStream, Monitor, _chunk
from orchestrator.probes.monitor import GatewayTracker, HttpError, NdjsonBody, StreamWatcher, get_json

LINES = [json.dumps({"seq": i, "type": "state", "data": {"to": f"s{i}"}}).encode() for i in range(1, 6)]


def _chunked() -> bytes:
    return b"".join(_chunk(line + b"\n") for line in LINES) + b"0\r\n\r\n"


@pytest.mark.parametrize("cut", [1, 3, 7, 10_000])
def test_chunked_body_gives_every_line_once_whatever_the_reads(cut):
    raw, body, got = _chunked(), NdjsonBody(chunked=True), []
    for i in range(0, len(raw), cut):
        got += body.feed(raw[i:i + cut])
    assert got == LINES and body.ended


def test_sized_body_ends_at_its_length_without_a_final_newline():
    raw = b"\n".join(LINES)
    body = NdjsonBody(chunked=False, length=len(raw))
    assert body.feed(raw + b"junk after the body") == LINES and body.ended


def test_bad_chunk_framing_is_an_error_not_a_silent_skip():
    with pytest.raises(ValueError):
        NdjsonBody(chunked=True).feed(b"zz\r\nabc\r\n")


def test_watcher_sees_every_published_change_in_order_stamped_after_it():
    events, received = EventStream(), []
    tracker: GatewayTracker | None = None

    def emit(type_: str, **data) -> None:
        events.seq += 1
        ns = time.time_ns()
        events.publish({"seq": events.seq, "ts_ns": ns, "gateway": "gw1", "type": type_, "data": data})

    def snapshot() -> dict:
        return {"seq": events.seq, "ts_ns": time.time_ns(), "gateway": "gw1", "type": "snapshot",
                "data": {"pid": os.getpid(), "state": "logged_in"}}

    async def go() -> None:
        mon = Monitor(lambda: {"event_seq": events.seq, "pid": os.getpid()}, events, snapshot)
        await mon.start("127.0.0.1", 0)
        port = mon.server.sockets[0].getsockname()[1]
        nonlocal tracker
        tracker = GatewayTracker([("gw1", "trading")])
        watcher = StreamWatcher({"gw1": ("127.0.0.1", port)}, tracker, received.append)
        task = asyncio.create_task(watcher.run_one("gw1"))
        try:
            deadline = time.monotonic() + 10
            while not events.watchers and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            for i in range(50):  # a burst: many changes written at once
                emit("state", to=f"s{i}")
            while len([r for r in received if r.type != "snapshot"]) < 50 and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            mon.close()

    asyncio.run(go())
    changes = [r for r in received if r.type != "snapshot"]
    assert [r.event["seq"] for r in changes] == list(range(1, 51))
    assert all(r.recv_ns >= r.ts_ns for r in changes)
    assert tracker is not None and tracker.view("gw1").state == "s49"  # the tracker applied them


def test_status_is_read_whole_from_a_real_monitor_and_errors_are_http_errors():
    events = EventStream()
    status = {"event_seq": 0, "pid": os.getpid(), "state": "logged_in", "pad": "x" * 200_000}

    async def go():
        mon = Monitor(lambda: status, events, dict)
        await mon.start("127.0.0.1", 0)
        port = mon.server.sockets[0].getsockname()[1]
        try:
            body = await get_json("127.0.0.1", port, "/status")
            with pytest.raises(HttpError, match="HTTP 404"):
                await get_json("127.0.0.1", port, "/nowhere")
            return body
        finally:
            mon.close()

    assert asyncio.run(go()) == status  # larger than one read: the whole body, once


def test_a_steady_settlement_gateway_keeps_two_transfers_in_memory_and_its_timing():
    # a transfer a second for a 2-hour hold must not grow drill's memory (issue 19, P9)
    from orchestrator.engine.timing import measure_gateway
    from orchestrator.probes.monitor import Received

    tracker = GatewayTracker([("W000002J", "settlement")])

    def event(seq, type_, **data):
        tracker.apply(Received("W000002J", {"type": type_, "seq": seq, "ts_ns": seq * 10**9,
                                            "data": data}, seq * 10**9))

    for seq in range(1, 101):
        event(seq, "transfer", ok=True, centre="FT")
    event(101, "link_down", centre="FT")
    for seq in range(102, 105):
        event(seq, "transfer", ok=False, centre="FT")
    event(105, "login", centre="NF")
    for seq in range(106, 3000):
        event(seq, "transfer", ok=True, centre="NF")
    kept = [(e.event["seq"], e.type) for e in tracker.events("W000002J")]
    assert kept == [(1, "transfer"), (100, "transfer"), (101, "link_down"), (102, "transfer"),
                    (104, "transfer"), (105, "login"), (106, "transfer"), (2999, "transfer")]
    m = measure_gateway(gateway="W000002J", kind="settlement", service="settlement", affected=True,
                        link_lost_ns=100_500_000_000, window_end_ns=None,
                        events=tracker.events("W000002J"), observed_ns=None, probe_period_s=0.1,
                        target_s=60.0, centre_before="FT")
    assert m.restored is not None and m.restored.ns == 106 * 10**9 and m.interruption_s == 5.5
