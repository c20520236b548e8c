"""A text shown to users, in German (the default) and English."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Label:
    de: str
    en: str

    def in_language(self, language: str) -> str:
        return self.en if language == "en" else self.de
