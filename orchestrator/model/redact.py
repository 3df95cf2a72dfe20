"""Secret redaction for everything that is written down (journal, evidence, artifacts)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

REDACTED = "<redacted>"
# Shorter values are not treated as secrets: replacing them would garble ordinary text.
MIN_SECRET_LEN = 3
CENSORED = "<censored>"
# The one policy for secret-named keys, in the journal and in the Ansible artifacts alike:
# the union of what each used to scrub (`ansible_become_pass` was only scrubbed from the
# artifacts, `ssh_key` only from the journal). `pass` is any pass* key (`*_pass`,
# `password`, `passwd`) except the plain words that merely start with it (`passed`,
# `passing`, …), which name the journal's own results, never a credential.
SECRET_KEY = re.compile(
    r"(pass(?!ed(?![a-z])|ing(?![a-z])|ive|age|through)|secret|token|vault|credential"
    r"|(?<![a-z])key$|_key)",
    re.IGNORECASE)


def is_secret_key(name: object) -> bool:
    """True when a variable or field of this name holds a secret (its value is redacted)."""
    return SECRET_KEY.search(str(name)) is not None
VAULT_MARK = "$ANSIBLE_VAULT"


class Redactor:
    """Replace secret-named keys and known secret values, recursively.

    `values` are literal secrets known to the run (decrypted vault values, passwords from
    the inventory); any string containing one has it replaced.
    """

    def __init__(self, values: Iterable[str] = ()) -> None:
        self.values = sorted({v for v in values if isinstance(v, str) and len(v) >= MIN_SECRET_LEN},
                             key=len, reverse=True)

    def add(self, value: str) -> None:
        if isinstance(value, str) and len(value) >= MIN_SECRET_LEN and value not in self.values:
            self.values = sorted([*self.values, value], key=len, reverse=True)

    def __call__(self, obj: Any) -> Any:
        return self.redact(obj)

    def redact(self, obj: Any, key: str | None = None) -> Any:
        if key is not None and is_secret_key(key) and obj not in (None, "", REDACTED):
            return REDACTED
        if isinstance(obj, Mapping):
            return {k: self.redact(v, str(k)) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [self.redact(v) for v in obj]
        if isinstance(obj, str):
            return self.redact_text(obj)
        return obj

    def redact_text(self, text: str) -> str:
        if VAULT_MARK in text:
            return REDACTED
        for value in self.values:
            if value in text:
                text = text.replace(value, REDACTED)
        return text


def secret_values(obj: Any, key: str | None = None, inherited: bool = False) -> list[str]:
    """Every scalar under a secret-named key, at any depth below it (to feed a Redactor or
    the artifact scrubber): one policy for the journal and the Ansible artifacts."""
    hit = inherited or (key is not None and is_secret_key(key))
    found: list[str] = []
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            found.extend(secret_values(v, str(k), hit))
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            found.extend(secret_values(v, key, hit))
    # Plain scalars only: an undecrypted `!vault` value is ciphertext (its plaintext comes
    # from the vault reader), and a bool is never a secret.
    elif hit and isinstance(obj, str | int | float) and not isinstance(obj, bool) and obj != "":
        found.append(str(obj))
    return [v for v in found if len(v) >= MIN_SECRET_LEN]
