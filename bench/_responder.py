"""Loopback responders for P2, in one separate process. Prints `{"ports": [...], "pid": N}`
on stdout once listening, and serves until its stdin closes (so it never outlives the
benchmark).

`python bench/_responder.py ADDRESS N`: N listening sockets on one 127.x address; accepts
and closes (P2 a).
`python bench/_responder.py monitors ADDRESS N`: N gateway monitors (the lab's own
`orchestrator.lab.monitor` code, one asyncio loop), half of which publish a burst of
four changes, each stamped as it is published, every 2 s (P2 b without the lab's 200
processes competing with drill for the CPU).
"""

from __future__ import annotations

import ipaddress
import json
import os
import selectors
import socket
import sys


def monitors(address: str, count: int) -> None:
    import asyncio
    import time
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from orchestrator.lab.monitor import EventStream, Monitor

    async def run() -> None:
        streams: list[EventStream] = []
        ports = []
        for i in range(count):
            events = EventStream()
            gid = f"gw{i:03d}"

            def snapshot(events=events, gid=gid) -> dict:
                return {"seq": events.seq, "ts_ns": time.time_ns(), "gateway": gid, "type": "snapshot",
                        "data": {"pid": os.getpid(), "state": "logged_in"}}

            mon = Monitor(lambda events=events: {"event_seq": events.seq, "pid": os.getpid(),
                                                  "state": "logged_in"}, events, snapshot)
            await mon.start(address, 0)
            ports.append(mon.server.sockets[0].getsockname()[1])
            streams.append(events)
        print(json.dumps({"ports": ports, "pid": os.getpid()}), flush=True)
        loop = asyncio.get_running_loop()
        stdin_closed = loop.create_future()
        loop.add_reader(sys.stdin.fileno(), lambda: os.read(sys.stdin.fileno(), 4096) or (
            stdin_closed.done() or stdin_closed.set_result(None)))
        flip = 0
        while not stdin_closed.done():
            await asyncio.wait([stdin_closed], timeout=2.0)
            flip ^= 1
            for i, events in enumerate(streams):
                if i % 2 == flip:
                    for type_ in ("link_down", "state", "md_source", "login"):
                        events.seq += 1
                        ns = time.time_ns()
                        events.publish({"seq": events.seq, "ts_ns": ns, "gateway": f"gw{i:03d}",
                                        "type": type_, "data": {}})

    asyncio.run(run())


def main() -> None:
    if sys.argv[1] == "monitors":
        if not ipaddress.ip_address(sys.argv[2]).is_loopback:
            raise SystemExit(f"{sys.argv[2]}: loopback addresses only")
        return monitors(sys.argv[2], int(sys.argv[3]))
    address, count = sys.argv[1], int(sys.argv[2])
    if not ipaddress.ip_address(address).is_loopback:
        raise SystemExit(f"{address}: loopback addresses only")
    sel = selectors.DefaultSelector()
    ports = []
    for _ in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((address, 0))
        s.listen(512)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        ports.append(s.getsockname()[1])
    sel.register(sys.stdin, selectors.EVENT_READ, data="stdin")
    print(json.dumps({"ports": ports, "pid": os.getpid()}), flush=True)
    while True:
        for key, _ in sel.select():
            if key.data == "stdin":
                if not os.read(sys.stdin.fileno(), 4096):
                    return
                continue
            lsock = key.fileobj
            while True:
                try:
                    conn, _ = lsock.accept()
                except (BlockingIOError, InterruptedError):
                    break
                conn.close()


if __name__ == "__main__":
    main()
