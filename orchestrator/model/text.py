"""The one bilingual string: drill titles, step names, centre and carrier names."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Text:
    zh: str
    en: str

    def get(self, lang: str) -> str:
        """The text in `lang`, falling back to the other language when it is empty."""
        return (self.zh if lang == "zh" else self.en) or self.en or self.zh

    def to_record(self) -> dict[str, str]:
        return {"zh": self.zh, "en": self.en}

    @classmethod
    def of(cls, value: Any) -> Text:
        """From a journal/inventory value: {zh, en} (either may be missing) or plain text."""
        if isinstance(value, Mapping):
            zh, en = str(value.get("zh") or ""), str(value.get("en") or "")
            return cls(zh or en, en or zh)
        text = "" if value is None else str(value)
        return cls(text, text)
