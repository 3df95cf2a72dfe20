"""`tcp` probe: a TCP connect to address:port (closed at once)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

from orchestrator.probes import Sample


@dataclass
class TcpProbe:
    address: str
    port: int
    timeout_s: float = 1.0
    kind: str = "tcp"

    @property
    def target(self) -> str:
        return f"{self.address}:{self.port}"

    async def sample(self) -> Sample:
        t_ns, mono = time.time_ns(), time.monotonic_ns()
        try:
            _reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self.address, self.port), self.timeout_s)
        except (OSError, TimeoutError) as e:
            return Sample(self.kind, self.target, t_ns, mono, False,
                          (time.monotonic_ns() - mono) / 1e6, None, type(e).__name__ + f": {e}")
        latency = (time.monotonic_ns() - mono) / 1e6
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return Sample(self.kind, self.target, t_ns, mono, True, latency)


async def connect_ok(address: str, port: int, timeout_s: float = 1.0) -> bool:
    return (await TcpProbe(address, port, timeout_s).sample()).ok
