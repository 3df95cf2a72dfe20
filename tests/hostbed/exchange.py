"""A minimal SSCC-side responder for the test bed's centre hosts.

Listens on every address:port given and answers a line protocol: `LOGIN <gateway>` →
`OK <centre> <session-id>`, `HB` → `HB`. Every accepted login is logged with a UTC
timestamp to stdout, so a test can read from the centre's side when a gateway logged in.
Usage: python exchange.py CENTRE ADDR:PORT [ADDR:PORT …]
"""

from __future__ import annotations

import asyncio
import itertools
import sys
import time
from datetime import UTC, datetime


def _now() -> str:
    ns = time.time_ns()
    return datetime.fromtimestamp(ns // 10**9, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{ns % 10**9:09d}Z"


async def main(centre: str, endpoints: list[str]) -> None:
    sessions = itertools.count(1)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        try:
            while line := await reader.readline():
                words = line.decode(errors="replace").split()
                if words[:1] == ["LOGIN"] and len(words) == 2:
                    sid = f"{centre}-{next(sessions):06d}"
                    print(f"{_now()} login accepted gateway={words[1]} session={sid} peer={peer[0]}", flush=True)
                    writer.write(f"OK {centre} {sid}\n".encode())
                elif words[:1] == ["HB"]:
                    writer.write(b"HB\n")
                else:
                    writer.write(b"ERR\n")
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    servers = []
    for ep in endpoints:
        host, _, port = ep.rpartition(":")
        servers.append(await asyncio.start_server(handle, host, int(port), reuse_address=True))
    print(f"{_now()} listening {' '.join(endpoints)}", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2:]))
