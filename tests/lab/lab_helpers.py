"""Shared helpers for the lab tests: a small running lab, raw exchange clients, monitors."""

from __future__ import annotations

import json
import socket
import time
import urllib.request
from collections.abc import Callable
from typing import Any

from support import TOLERANCE_S  # noqa: F401 - re-exported for the lab tests

from orchestrator.lab.control import LabHandle


def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except OSError:  # e.g. a restarting gateway's monitor not listening yet
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.1f}s waiting for {what}")
        time.sleep(0.05)


def monitor_status(lab: LabHandle, gateway: str) -> dict[str, Any]:
    gw = lab.inventory().gateway(gateway)
    with urllib.request.urlopen(f"http://{gw.monitor}/status", timeout=5) as resp:
        return json.loads(resp.read())


def monitor_events(lab: LabHandle, gateway: str, since: int = 0) -> list[dict[str, Any]]:
    """Events buffered by the gateway (replayed by /events?since=N), read off the live stream."""
    gw = lab.inventory().gateway(gateway)
    with socket.create_connection((gw.monitor.address, gw.monitor.port), timeout=5) as s:
        s.sendall(f"GET /events?since={since} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        f = s.makefile("rb")
        assert f.readline().startswith(b"HTTP/1.1 200")
        while f.readline() not in (b"\r\n", b""):
            pass
        events = []
        s.settimeout(0.3)
        try:
            while True:
                size = int(f.readline().strip(), 16)
                events.append(json.loads(f.read(size)))
                f.readline()
        except (TimeoutError, OSError, ValueError):
            pass
    return events


class ExchangeClient:
    """A raw client of the lab exchange, speaking the gateway protocol directly."""

    def __init__(self, address: str, port: int):
        self.sock = socket.create_connection((address, port), timeout=5)
        self.file = self.sock.makefile("rb")

    def send(self, line: str) -> None:
        self.sock.sendall(line.encode() + b"\n")

    def recv(self) -> str:
        return self.file.readline().decode().rstrip("\n")

    def logon(self, gateway: str, kind: str = "trading") -> str:
        self.send(f"LOGON {gateway} {kind} -")
        return self.recv()

    def close(self) -> None:
        self.file.close()
        self.sock.close()

    def __enter__(self) -> ExchangeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def by_gateway(status: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {g["id"]: g for g in status["gateways"]}


def truth_of(lab: LabHandle, type_: str, **match: Any) -> list[dict[str, Any]]:
    return [r for r in lab.truth()
            if r["type"] == type_ and all(r.get(k) == v for k, v in match.items())]
