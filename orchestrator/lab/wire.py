"""What the lab's exchange and gateways both need to know about the wire. Stdlib only."""

from __future__ import annotations

import hashlib

LOGIN_NOT_ALLOWED = "login not allowed now"
TEST_FILE = "test.dat"
_SM_KEY = b"drill-lab-sm4-stand-in"


def test_file(size: int) -> bytes:
    """The CCNET test file: deterministic bytes, so both ends can check its SHA-256."""
    out = bytearray()
    block = hashlib.sha256(b"drill-lab-settlement").digest()
    while len(out) < size:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:size])


def sm_cipher(data: bytes) -> bytes:
    """The SM variant's stand-in cipher (XOR with a SHA-256 keystream; its own inverse).

    Not SM4: the lab simulates the separate port, the variant handshake and an encrypted
    payload the gateway must decrypt to verify, not the national cipher itself.
    """
    stream = bytearray()
    counter = 0
    while len(stream) < len(data):
        stream += hashlib.sha256(_SM_KEY + counter.to_bytes(8, "big")).digest()
        counter += 1
    return (int.from_bytes(data, "big") ^ int.from_bytes(bytes(stream[:len(data)]), "big")
            ).to_bytes(len(data), "big")


def tick_lines(ticks: list[tuple[int, int, int]], sent_ns: int) -> bytes:
    """Market-data ticks `T channel seq send-time`, stamped `sent_ns` (the feed's send)."""
    return "".join(f"T {ch} {sq} {sent_ns}\n" for ch, sq, _ in ticks).encode()
