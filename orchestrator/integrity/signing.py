"""Sign a run's final journal digest with a key the firm holds (docs/integrity.md).

A hash chain alone can be recomputed by whoever edits the journal; a signature cannot be
redone without the private key. Keys are Ed25519, in OpenSSH (`ssh-keygen -t ed25519`)
or PEM/PKCS#8 form. The public half is copied into the archive as
`reports/keys/<fingerprint>.pub` so an auditor can check a run years later.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from orchestrator.adapters.atomic import write_atomic
from orchestrator.errors import InputError, Problem
from orchestrator.journal.chain import canonical
from orchestrator.journal.reader import read_start

SIG_FILE = "journal.sig"
KEYS_DIR = "keys"
_FORMAT = "drill-journal-sig-v1"


def _crypto():
    # Imported lazily: `drill --help` must not pay for cryptography.
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    return InvalidSignature, serialization, ed25519


def run_message(run_id: str, seq: int, digest: str) -> bytes:
    """What is signed: domain tag, run id, the sealed record's seq and its hash."""
    return f"{_FORMAT}\n{run_id}\n{seq}\n{digest}\n".encode()


def index_message(entry_hash: str) -> bytes:
    return f"drill-index-entry-v1\n{entry_hash}\n".encode()


def render_message(entry_hash: str) -> bytes:
    """A later render's record in renders.jsonl (orchestrator.renders)."""
    return f"drill-render-v1\n{entry_hash}\n".encode()


@dataclass(frozen=True)
class PublicKey:
    openssh: str  # "ssh-ed25519 AAAA…"
    fingerprint: str  # sha256 hex of the OpenSSH key blob; also the file name in keys/

    def verify(self, message: bytes, signature: bytes) -> bool:
        invalid, serialization, ed25519 = _crypto()
        key = serialization.load_ssh_public_key(self.openssh.encode())
        if not isinstance(key, ed25519.Ed25519PublicKey):
            return False
        try:
            key.verify(signature, message)
        except invalid:
            return False
        return True


@dataclass(frozen=True)
class Signer:
    path: Path
    public: PublicKey
    _key: object  # cryptography Ed25519PrivateKey

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)  # type: ignore[attr-defined]


def _public_of(key) -> PublicKey:
    _, serialization, _ = _crypto()
    text = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                         serialization.PublicFormat.OpenSSH).decode()
    return public_from_text(text)


def public_from_text(text: str) -> PublicKey:
    """Parse one OpenSSH public key line (`ssh-ed25519 AAAA… [comment]`)."""
    parts = text.strip().split()
    if len(parts) < 2 or parts[0] != "ssh-ed25519":
        raise ValueError("expected an `ssh-ed25519 AAAA…` public key")
    blob = b64decode_strict(parts[1])
    line = f"{parts[0]} {parts[1]}"
    return PublicKey(openssh=line, fingerprint=hashlib.sha256(blob).hexdigest())


def load_signer(path: Path, field: str = "--signing-key") -> Signer:
    """Load an Ed25519 private key. Passphrase from DRILL_SIGNING_PASSPHRASE if set."""
    _, serialization, ed25519 = _crypto()
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(Problem(str(path), None, field, f"cannot read key: {e.strerror}")) from None
    secret = os.environ.get("DRILL_SIGNING_PASSPHRASE")
    password = secret.encode() if secret else None
    try:
        if b"OPENSSH PRIVATE KEY" in data:
            key = serialization.load_ssh_private_key(data, password=password)
        else:
            key = serialization.load_pem_private_key(data, password=password)
    except (ValueError, TypeError) as e:
        raise InputError(Problem(str(path), None, field,
                                 f"expected an Ed25519 private key (OpenSSH or PEM): {e}")) from None
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise InputError(Problem(str(path), None, field,
                                 "expected an Ed25519 key; other key types are not supported"))
    return Signer(path=path, public=_public_of(key), _key=key)


def load_public_key(path: Path) -> PublicKey:
    """A trusted key for `drill verify --key`: a .pub file or the private key itself."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as e:
        raise InputError(Problem(str(path), None, "--key", f"cannot read key: {e.strerror}")) from None
    if "PRIVATE KEY" in text:
        return load_signer(path, "--key").public
    try:
        return public_from_text(text)
    except ValueError as e:
        raise InputError(Problem(str(path), None, "--key", str(e))) from None


def key_path_for(inventory_path: Path | None, cli_value: Path | None) -> Path | None:
    """The signing key: `--signing-key`, else inventory var `drill.signing.key` wherever
    Ansible finds it (relative to the inventory's folder), else None (runs are then hash-chained but unsigned)."""
    if cli_value is not None:
        return cli_value
    if inventory_path is None:
        return None
    from orchestrator.config.ansible_inventory import read_inventory
    from orchestrator.config.inventory import drill_variable

    try:
        source = read_inventory(inventory_path)
        drill, lines, base = drill_variable(source)
    except InputError:
        return None  # no drill variable to read a key from; validate reports why
    signing = drill.get("signing")
    value = signing.get("key") if isinstance(signing, dict) else None
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise InputError(lines.problem((*base, "signing", "key"), "expected a key file path",
                                       field="drill.signing.key"))
    key = Path(os.path.expanduser(value))
    return key if key.is_absolute() else source.folder / key


def configured_key(journal: Path) -> Path | None:
    """The key a finished run is signed with: DRILL_SIGNING_KEY (what `--signing-key`
    sets), else `drill.signing.key` of the inventory named in the run's run.start."""
    env = os.environ.get("DRILL_SIGNING_KEY")
    if env:
        return Path(os.path.expanduser(env))
    start = read_start(journal)
    path = start.inventory_path if start is not None else None
    if path is None or not Path(path).exists():
        return None
    try:
        return key_path_for(Path(path), None)
    except InputError:
        raise
    except Exception:  # an unreadable inventory is not this step's business
        return None


@dataclass(frozen=True)
class RunSignature:
    run: str
    seq: int
    digest: str
    key: str  # fingerprint
    public_key: str
    signature: bytes

    def to_bytes(self) -> bytes:
        # Canonical, like journal records, so that no byte can change unnoticed.
        return canonical({"format": _FORMAT, "algorithm": "ed25519", "run": self.run,
                          "seq": self.seq, "digest": self.digest, "key": self.key,
                          "public_key": self.public_key,
                          "signature": base64.b64encode(self.signature).decode()}) + b"\n"


def publish_key(reports_dir: Path, public: PublicKey) -> Path:
    """Keep the public key with the archive; never overwrite one already there."""
    folder = reports_dir / KEYS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{public.fingerprint}.pub"
    if not path.exists():
        # Unique temp name: two runs may publish the same key at once.
        tmp = folder / f".{public.fingerprint}.{os.getpid()}.{time.monotonic_ns()}.tmp"
        tmp.write_text(public.openssh + " drill-archive\n", encoding="utf-8")
        os.replace(tmp, path)
    return path


def sign_run(run_dir: Path, signer: Signer, reports_dir: Path, *, run_id: str, seq: int,
             digest: str) -> RunSignature:
    """Write `journal.sig` for the record (seq, digest), atomically and fsync'd."""
    sig = RunSignature(run=run_id, seq=seq, digest=digest, key=signer.public.fingerprint,
                       public_key=signer.public.openssh,
                       signature=signer.sign(run_message(run_id, seq, digest)))
    publish_key(reports_dir, signer.public)
    write_atomic(run_dir / SIG_FILE, sig.to_bytes())
    return sig


def read_signature(run_dir: Path) -> RunSignature | None:
    """The run's signature, None when absent; ValueError when unreadable."""
    path = run_dir / SIG_FILE
    if not path.exists():
        return None
    data = path.read_bytes()
    raw = json.loads(data)
    if not isinstance(raw, dict) or raw.get("format") != _FORMAT:
        raise ValueError("not a drill journal signature")
    if canonical(raw) + b"\n" != data:
        raise ValueError("not in canonical form")
    if not isinstance(raw.get("seq"), int):
        raise ValueError("seq is not an integer")
    return RunSignature(run=str(raw["run"]), seq=raw["seq"], digest=str(raw["digest"]),
                        key=str(raw["key"]), public_key=str(raw["public_key"]),
                        signature=b64decode_strict(raw["signature"]))


def b64decode_strict(text: object) -> bytes:
    """Base64 that re-encodes to the same text (unused low bits would hide a change)."""
    if not isinstance(text, str):
        raise ValueError("signature is not a string")
    data = base64.b64decode(text, validate=True)
    if base64.b64encode(data).decode() != text:
        raise ValueError("signature is not canonical base64")
    return data
