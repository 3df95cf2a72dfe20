"""Back-off (issue 18): a forward whose remote port refuses, and a monitor that does not
answer, are retried a few times a second at most, capped, saying what they wait for.

Against a local refusing port: `SshForward`'s retry path runs unchanged, with a pool whose
channel open is a plain TCP connect (what the bastion does for a direct-tcpip channel)."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from orchestrator.adapters.backoff import Backoff, BackoffPolicy
from orchestrator.adapters.hosts import HostUnreachable
from orchestrator.adapters.ssh import RETRY, SshForward
from orchestrator.probes.monitor import GatewayTracker, StreamWatcher


@pytest.fixture
def refusing_port():
    """A port on loopback that refuses connections (bound, never listening)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    yield s.getsockname()[1]
    s.close()


class DirectPool:
    """`SshPool.open_tcp` as the bastion carries it out, minus SSH: one TCP connect."""

    def __init__(self) -> None:
        self.opens = 0

    def open_tcp(self, via, address, port, timeout_s=None):
        self.opens += 1
        try:
            return socket.create_connection((address, port), timeout=1.0)
        except OSError as e:
            raise HostUnreachable(f"{via} could not connect to {address}:{port}: {e}") from None


def _hammer(local: tuple[str, int], seconds: float) -> int:
    """Connect to the forward as fast as a client can (as the old monitor follower did)."""
    tries, end = 0, time.monotonic() + seconds
    while time.monotonic() < end:
        tries += 1
        try:
            with socket.create_connection(local, timeout=1.0) as c:
                c.settimeout(1.0)
                c.recv(1)  # closed by the forward: b"" or a reset
        except OSError:
            pass
    return tries


def test_policy_doubles_to_its_cap():
    assert [RETRY.delay(n) for n in range(0, 8)] == [0, 0.25, 0.5, 1, 2, 4, 5, 5]


def test_backoff_claims_one_attempt_at_a_time_while_failing():
    now = [100.0]
    b = Backoff("x", BackoffPolicy(first_s=1, cap_s=4), clock=lambda: now[0])
    assert b.begin() and b.begin()  # healthy: concurrent attempts are fine
    b.failed("refused")
    assert not b.begin()
    now[0] += 1
    assert b.begin() and not b.begin()  # one attempt while failing
    b.failed("refused")
    assert "attempt 2 failed, next in 2.00s" in b.describe()
    now[0] += 2
    assert b.begin()
    assert b.succeeded() and b.failures == 0 and b.begin()


def test_forward_to_a_refusing_port_backs_off(refusing_port):
    pool, said = DirectPool(), []
    fw = SshForward(pool, "gw-host", ("127.0.0.1", refusing_port), say=said.append).start()
    try:
        seconds = 3.0
        tries = _hammer(fw.local, seconds)
    finally:
        fw.close()
    assert tries > 100, "the client did hammer the forward"
    # Default policy: attempts at 0, 0.25, 0.75, 1.75 s (+ scheduling slack).
    assert pool.opens <= 6, f"{pool.opens} channel opens in {seconds}s"
    assert pool.opens / seconds <= 3
    assert fw.turned_away >= tries - pool.opens - 2
    assert said and all("next in" in m for m in said)
    assert f"forward to 127.0.0.1:{refusing_port} via gw-host" in said[0]
    assert "could not connect" in said[0]


def test_forward_backoff_is_capped_and_keeps_trying(refusing_port):
    """With a small cap the forward keeps trying at the cap's rate, never faster."""
    pool = DirectPool()
    policy = BackoffPolicy(first_s=0.05, cap_s=0.2)
    fw = SshForward(pool, "gw-host", ("127.0.0.1", refusing_port), retry=policy,
                    say=lambda _m: None).start()
    try:
        seconds = 2.0
        _hammer(fw.local, seconds)
    finally:
        fw.close()
    # 0, .05, .15, .35, then one every .2 s: about 10 in 2 s.
    assert 6 <= pool.opens <= 13, pool.opens


def test_forward_that_recovers_says_so():
    pool, said = DirectPool(), []
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    port = server.getsockname()[1]  # bound, not listening: refuses
    fw = SshForward(pool, "gw-host", ("127.0.0.1", port),
                    retry=BackoffPolicy(first_s=0.05, cap_s=0.1), say=said.append).start()
    try:
        _hammer(fw.local, 0.3)
        assert fw.backoff.failures >= 1
        server.listen()
        end = time.monotonic() + 5
        while fw.backoff.failures and time.monotonic() < end:
            _hammer(fw.local, 0.05)
        assert fw.backoff.failures == 0
        assert said[-1].endswith("connected again")
    finally:
        fw.close()
        server.close()


def test_monitor_follower_backs_off_on_a_refusing_monitor(refusing_port):
    tracker = GatewayTracker([("W000000T", "trading")])
    watcher = StreamWatcher({"W000000T": ("127.0.0.1", refusing_port)}, tracker,
                            reconnect_s=0.05, reconnect_cap_s=1.0)

    async def follow(seconds: float) -> None:
        task = asyncio.ensure_future(watcher.run_one("W000000T"))
        await asyncio.sleep(seconds)  # the observation window itself
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    seconds = 3.0
    asyncio.run(follow(seconds))
    # 0, .05, .15, .35, .75, 1.55, 2.55 s: 7 attempts, where a fixed 50 ms made 60.
    attempts = watcher.attempts["W000000T"]
    assert 4 <= attempts <= 9, attempts
    assert not tracker.all_connected()
