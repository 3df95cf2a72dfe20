"""What `drill verify` reports and trusts, shared by its checks (docs/integrity.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from orchestrator.journal.reader import JOURNAL

__all__ = ["DEFAULT_TRUST", "JOURNAL", "Finding", "RunCheck", "Trust", "safe_rel", "top"]


@dataclass(frozen=True)
class Finding:
    """One integrity problem: `where` is a file relative to the archive or run folder."""

    where: str
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.where}:{self.line}: {self.message}" if self.line else f"{self.where}: {self.message}"


@dataclass(frozen=True)
class Trust:
    """Which public keys a signature may come from. Empty `keys`: any key kept in the
    archive's keys/ folder (an archive-only check; pin the firm's key with --key)."""

    keys: frozenset[str] = frozenset()  # fingerprints
    require_signature: bool = False


DEFAULT_TRUST = Trust()


def safe_rel(path: str) -> bool:
    """A relative path inside its root that the OS can open (no NUL: an edited index or
    manifest must be a finding, never a crash)."""
    p = PurePosixPath(path)
    return bool(p.parts) and not p.is_absolute() and ".." not in p.parts and "\0" not in path


def top(path: str) -> str:
    """The first folder (or the file name) of a run-folder path."""
    parts = PurePosixPath(path).parts
    return parts[0] if parts else ""


@dataclass(frozen=True)
class RunCheck:
    """One run being checked: its findings and notes accumulate as the checks go."""

    dir: Path
    label: str
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def bad(self, where: str, message: str, line: int | None = None) -> None:
        self.findings.append(Finding(f"{self.label}/{where}", line, message))
