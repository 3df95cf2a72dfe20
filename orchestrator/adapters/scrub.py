"""Secrets out of the Ansible artifacts kept: events, stdout and every file of the run folder.

Values under extra-var keys that look secret, plus the values the caller names (inventory
secrets, Vault plaintexts), are replaced wherever they appear, also JSON-escaped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

# Extra-var keys whose values are secrets: scrubbed from every artifact kept.
SECRET_KEY_RE = re.compile(r"pass|secret|token|vault|private_key|api_key|credential", re.I)
REDACTED = "********"


def secret_values(extravars: Mapping[str, object], secret: bool = False) -> set[str]:
    """Values (3+ characters) under secret-looking keys, at any depth."""
    out: set[str] = set()
    for key, value in extravars.items():
        hit = secret or bool(SECRET_KEY_RE.search(str(key)))
        if isinstance(value, Mapping):
            out |= secret_values(value, hit)
        elif isinstance(value, list | tuple):
            for v in value:
                if isinstance(v, Mapping):
                    out |= secret_values(v, hit)
                elif hit and v not in (None, ""):
                    out.add(str(v))
        elif hit and value not in (None, "") and not isinstance(value, bool):
            out.add(str(value))
    return {s for s in out if len(s) >= 3}


def redact_in_place(event: dict, secrets: set[str]) -> None:
    text = json.dumps(event)
    new = text
    for s in sorted(secrets, key=len, reverse=True):
        new = new.replace(json.dumps(s)[1:-1], REDACTED)
    if new != text:
        event.clear()
        event.update(json.loads(new))


def scrub_tree(root: Path, secrets: set[str]) -> None:
    """Rewrite every text file under `root` with the secrets (raw or JSON-escaped) replaced."""
    if not secrets or not root.exists():
        return
    needles = sorted({n for s in secrets for n in (s, json.dumps(s)[1:-1])}, key=len, reverse=True)
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        new = text
        for n in needles:
            new = new.replace(n, REDACTED)
        if new != text:
            path.write_text(new, encoding="utf-8")


class Redacting:
    """A text sink (the plain-text stdout artifact) that writes with secret values replaced."""

    def __init__(self, handle, secrets: set[str]):
        self._h = handle
        self._secrets = sorted(secrets, key=len, reverse=True)

    def write(self, data: str) -> None:
        for s in self._secrets:
            data = data.replace(s, REDACTED)
        self._h.write(data)

    def flush(self) -> None:
        self._h.flush()

    def close(self) -> None:
        self._h.flush()
