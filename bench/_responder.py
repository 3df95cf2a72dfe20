"""Loopback TCP responder for P2: N listening sockets on one 127.x address; accepts and
closes. Prints `{"ports": [...], "pid": N}` on stdout once listening, and serves until its
stdin closes (so it never outlives the benchmark).

Run: `python bench/_responder.py ADDRESS N` (ADDRESS must be in 127.0.0.0/8).
"""

from __future__ import annotations

import ipaddress
import json
import os
import selectors
import socket
import sys


def main() -> None:
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
