"""`tcp` probe: up when a TCP connect succeeds, down (with the reason) when it is refused."""

from __future__ import annotations

import asyncio
import socket

import pytest

from orchestrator.probes.tcp import TcpProbe, connect_ok


def _listener() -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    return s


def test_connect_to_a_listening_port_is_ok_and_reset_at_once():
    with _listener() as srv:
        port = srv.getsockname()[1]
        sample = asyncio.run(TcpProbe("127.0.0.1", port).sample())
        assert sample.ok and sample.error is None and sample.target == f"127.0.0.1:{port}"
        conn, _ = srv.accept()
        with conn:
            conn.settimeout(2)
            # closed with a reset (SO_LINGER 0): nothing left in TIME_WAIT per sample
            with pytest.raises(ConnectionResetError):
                conn.recv(1)


def test_refused_connect_is_a_failed_sample_naming_the_error():
    with _listener() as srv:
        port = srv.getsockname()[1]
    sample = asyncio.run(TcpProbe("127.0.0.1", port).sample())
    assert not sample.ok
    assert "ConnectionRefusedError" in sample.error


def test_host_names_are_resolved():
    with _listener() as srv:
        assert asyncio.run(connect_ok("localhost", srv.getsockname()[1]))
