"""Shared helpers for the lab tests: a small running lab, raw exchange clients, monitors."""

from __future__ import annotations

import json
import socket
import time
import urllib.request
from collections.abc import Callable
from typing import Any

from support import TOLERANCE_S  # also re-exported for the lab tests

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
    """The truth records so far. The lab writes a record after it acts (an exchange answers
    LOGON_OK, then writes `login_accepted`), so a test that just saw the effect waits for
    the record with `truth_when`, never reads it once."""
    return [r for r in lab.truth()
            if r["type"] == type_ and all(r.get(k) == v for k, v in match.items())]


def recovery_deadline(lab: LabHandle, cycles: int = 3) -> float:
    """Seconds to allow for the lab to settle after a change: `cycles` times losing a link
    and logging in again at the lab's configured timing (heartbeat timeout, server session
    timeout, reconnect interval), plus the suite's tolerance. Follows the inventory, so a
    lab with slower timing gets a longer deadline rather than a flake."""
    t = lab.inventory().timing
    cycle = max(t.heartbeat_timeout, t.server_session_timeout) + t.reconnect_interval
    return cycles * cycle + 4 * TOLERANCE_S


def truth_when(lab: LabHandle, type_: str, done: Callable[[list[dict[str, Any]]], Any] = bool,
               timeout: float | None = None, what: str | None = None,
               **match: Any) -> list[dict[str, Any]]:
    """The truth records of `type_` matching `match`, once `done(records)` holds (default:
    at least one), waiting with a deadline (default `recovery_deadline`)."""
    return wait_for(lambda: (lambda recs: [recs] if done(recs) else None)(truth_of(lab, type_, **match)),
                    recovery_deadline(lab) if timeout is None else timeout,
                    what or f"truth {type_} {match}")[0]
