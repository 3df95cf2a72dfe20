"""Secrets out of the Ansible artifacts kept: events, stdout and every file of the run folder.

Values under extra-var keys that look secret, plus the values the caller names (inventory
secrets, Vault plaintexts), are replaced wherever they appear, also JSON-escaped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from orchestrator.model.redact import REDACTED
from orchestrator.model.redact import secret_values as _policy_values


def secret_values(extravars: Mapping[str, object]) -> set[str]:
    """Values under secret-looking extra-var keys (the journal's policy, model/redact)."""
    return set(_policy_values(extravars))


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
