"""A gateway's HTTP JSON monitor (docs/monitor-api.md): /status, /health, /events?since=N.

Stdlib only: it runs inside every lab gateway process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

BUFFERED_EVENTS = 10_000
_MAX_BACKLOG = 8 << 20


def _chunk(line: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(line), line)


class EventStream:
    """Numbered events, kept for replay, pushed to every open /events stream."""

    def __init__(self) -> None:
        self.seq = 0
        self.buffer: deque[tuple[int, bytes]] = deque(maxlen=BUFFERED_EVENTS)
        self.watchers: set[asyncio.StreamWriter] = set()

    def publish(self, event: dict[str, Any]) -> None:
        line = json.dumps(event, separators=(",", ":")).encode() + b"\n"
        self.buffer.append((event["seq"], line))
        chunk = _chunk(line)
        for w in list(self.watchers):
            if w.transport.is_closing() or w.transport.get_write_buffer_size() > _MAX_BACKLOG:
                self.watchers.discard(w)  # a watcher that cannot keep up reconnects with since=N
                w.transport.abort()
                continue
            w.write(chunk)


class Monitor:
    def __init__(self, status: Callable[[], dict[str, Any]], events: EventStream,
                 snapshot_event: Callable[[], dict[str, Any]]):
        self.status = status
        self.events = events
        self.snapshot_event = snapshot_event
        self.server: asyncio.base_events.Server | None = None

    async def start(self, address: str, port: int) -> None:
        self.server = await asyncio.start_server(self._serve, address, port, reuse_address=True,
                                                 backlog=256)

    def close(self) -> None:
        if self.server:
            self.server.close()
        for w in list(self.events.watchers):
            w.transport.abort()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await reader.readline()
            while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                pass
            parts = request.decode(errors="replace").split()
            if len(parts) < 2 or parts[0] not in ("GET", "HEAD"):
                return self._reply(writer, 405, {"ok": False, "error": "GET only"})
            url = urlsplit(parts[1])
            if url.path == "/health":
                return self._reply(writer, 200, {"ok": True})
            if url.path == "/status":
                return self._reply(writer, 200, self.status())
            if url.path == "/events":
                since = parse_qs(url.query).get("since", [None])[0]
                return await self._stream(reader, writer, int(since) if since else None)
            return self._reply(writer, 404, {"ok": False, "error": f"no such path {url.path}"})
        except (ConnectionError, ValueError):
            writer.transport.abort()

    def _reply(self, writer: asyncio.StreamWriter, code: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        reason = {200: "OK", 404: "Not Found", 405: "Method Not Allowed"}[code]
        writer.write(f"HTTP/1.1 {code} {reason}\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode() + data)
        writer.close()

    async def _stream(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                      since: int | None) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\n"
                     b"Transfer-Encoding: chunked\r\nCache-Control: no-store\r\n\r\n")
        snap = json.dumps(self.snapshot_event(), separators=(",", ":")).encode() + b"\n"
        writer.write(_chunk(snap))
        if since is not None:
            for seq, line in self.events.buffer:
                if seq > since:
                    writer.write(_chunk(line))
        self.events.watchers.add(writer)
        try:
            while await reader.read(4096):
                pass  # the watcher sends nothing; EOF means it left
        except ConnectionError:
            pass
        finally:
            self.events.watchers.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()
