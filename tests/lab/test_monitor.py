"""The gateway monitor API (docs/monitor-api.md): snapshot, health and a live event stream."""

from __future__ import annotations

import json
import socket
import urllib.request

from lab_helpers import monitor_events, monitor_status


def _stream(lab, gid: str, since: int | None = None):
    gw = lab.inventory().gateway(gid)
    s = socket.create_connection((gw.monitor.address, gw.monitor.port), timeout=10)
    query = "" if since is None else f"?since={since}"
    s.sendall(f"GET /events{query} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    f = s.makefile("rb")
    headers = []
    while (line := f.readline()) not in (b"\r\n", b""):
        headers.append(line.decode().strip().lower())
    assert headers[0].startswith("http/1.1 200")
    assert "transfer-encoding: chunked" in headers
    assert "content-type: application/x-ndjson" in headers

    def next_event():
        size = int(f.readline().strip(), 16)
        event = json.loads(f.read(size))
        f.readline()
        return event

    return s, next_event


def test_health_and_status(lab):
    gw = lab.inventory().gateway("W00002JS")
    with urllib.request.urlopen(f"http://{gw.monitor}/health", timeout=5) as resp:
        assert resp.status == 200 and json.loads(resp.read()) == {"ok": True}
    st = monitor_status(lab, "W00002JS")
    assert st["gateway"] == "W00002JS" and st["kind"] == "settlement" and st["md"] is None
    assert st["state"] == "logged_in" and st["settlement"]["last_transfer_ok"] is True
    assert st["settlement"]["variant"] == "standard" and len(st["config"]["sha256"]) == 64


def test_stream_starts_with_a_snapshot_and_carries_live_changes(lab):
    gid = "W000000T"
    sock, next_event = _stream(lab, gid)
    try:
        first = next_event()
        assert first["type"] == "snapshot" and first["data"]["state"] == "logged_in"
        fault = lab.client.line_down("ct-ft", "shutdown")
        event = next_event()
        while event["type"] != "link_down":
            event = next_event()
        assert event["data"]["reason"] == "reset" and event["ts_ns"] >= fault["effective_ns"]
        while event["type"] != "login":
            event = next_event()
        assert event["data"]["centre"] == "NF" and event["seq"] > first["seq"]
    finally:
        sock.close()


def test_since_replays_only_later_events(lab):
    gid = "W000003T"
    everything = monitor_events(lab, gid, since=0)
    assert everything[0]["type"] == "snapshot"
    seqs = [e["seq"] for e in everything[1:]]
    assert seqs == list(range(1, len(seqs) + 1))
    cut = seqs[len(seqs) // 2]
    later = monitor_events(lab, gid, since=cut)
    assert [e["seq"] for e in later[1:]] == [s for s in seqs if s > cut]
