"""What a Chinese reader sees of a zh render: its visible text outside code, and the ASCII
words in it that the allow-list (docs/zh-allowlist.txt) does not name."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

ALLOWLIST = Path(__file__).resolve().parents[2] / "docs" / "zh-allowlist.txt"
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_+./:-]*[A-Za-z0-9+]|[A-Za-z]")
# Elements whose text is code or data, not prose: identifiers, hashes, raw tool output.
_SKIP = {"style", "script", "code", "title"}


class _Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.stack: list[bool] = []
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("br", "meta", "link", "img", "rect", "line"):
            return
        skip = tag in _SKIP or "hash" in (dict(attrs).get("class") or "").split()
        self.stack.append(skip)
        self.depth += skip

    def handle_endtag(self, tag):
        if tag in ("br", "meta", "link", "img", "rect", "line") or not self.stack:
            return
        self.depth -= self.stack.pop()

    def handle_data(self, data):
        if not self.depth:
            self.parts.append(data)


def visible_text(html: str) -> str:
    p = _Visible()
    p.feed(html)
    return " ".join(p.parts)


def allowed() -> tuple[set[str], list[re.Pattern[str]]]:
    words, patterns = set(), []
    for line in ALLOWLIST.read_text(encoding="utf-8").splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("re:"):
            patterns.append(re.compile(line[3:].strip()))
        else:
            words.add(line)
    return words, patterns


def foreign_words(text: str, extra: set[str] = frozenset()) -> list[str]:
    """ASCII words in `text` that are neither in the allow-list nor in `extra` (the run's
    own identifiers: gateway and line ids)."""
    words, patterns = allowed()
    out = []
    for w in WORD.findall(text):
        if w in words or w in extra or any(p.fullmatch(w) for p in patterns):
            continue
        out.append(w)
    return out
