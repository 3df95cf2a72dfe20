"""One SSCC centre on a test-bed centre host: the lab's exchange, serving that centre only.

    python centre.py INVENTORY CENTRE TRUTH_LOG [GROUP:PORT@IFADDR]

Runs `orchestrator.lab.exchange.Exchange` (the same trading/market-data/CCNET servers
the lab uses) for one centre's service addresses, with the heartbeats, ticks and session
expiry the lab supervisor drives. Each centre host runs its own, so FT and NF keep
separate session tables here (the lab shares one); the gateways still log in once.
With GROUP:PORT@IFADDR (FT on the extended bed) the centre also broadcasts every tick to
that IP multicast group out of the interface holding IFADDR (the satellite feed), and
records each datagram's sequence and send time in the truth log (`mcast_tick`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import signal
import socket
import sys
from pathlib import Path

from orchestrator.config.inventory import load_inventory
from orchestrator.lab.exchange import Exchange
from orchestrator.lab.state import LabState
from orchestrator.lab.truth import TruthLog
from orchestrator.model.inventory import Endpoint, LabSettings


def multicast_sender(spec: str, truth: TruthLog):
    """A tick listener sending each tick batch to GROUP:PORT out of IFADDR's interface."""
    group_port, _, ifaddr = spec.partition("@")
    group, _, port = group_port.rpartition(":")
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(ifaddr))
    sock.setblocking(False)

    def send(msg: bytes, ticks: list[tuple[int, int, int]]) -> None:
        try:
            sock.sendto(msg, (group, int(port)))
        except OSError as e:
            truth.write("exchange", "mcast_error", error=str(e))
            return
        truth.write("exchange", "mcast_tick", ts_ns=ticks[0][2],
                    seqs={str(ch): sq for ch, sq, _ in ticks})

    return send


async def main(inventory: Path, centre: str, truth_path: Path, mcast: str | None = None) -> None:
    inv = load_inventory(inventory)
    inv = dataclasses.replace(
        inv, centres=tuple(c for c in inv.centres if c.id == centre),
        lab=inv.lab or LabSettings(router=Endpoint("127.0.0.1", 0)))
    lab = LabState(inv, TruthLog(truth_path))
    ex = Exchange(lab, lambda _peer: None)
    if mcast:
        ex.tick_listeners.append(multicast_sender(mcast, lab.truth))
    await ex.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    async def every(period: float, fn) -> None:
        while True:
            await asyncio.sleep(period)
            fn()

    tasks = [loop.create_task(every(p, f)) for p, f in (
        (1.0 / ex.rate_hz, ex.tick),
        (inv.timing.heartbeat_interval, ex.heartbeat),
        (0.01, lambda: ex.expire(inv.timing.server_session_timeout)),
    )]
    print(f"centre {centre} serving {len(ex.servers)} services", flush=True)
    await stop.wait()
    for t in tasks:
        t.cancel()
    ex.close()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), *sys.argv[4:5]))
