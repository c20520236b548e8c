"""Money, dates and times as the recipient's language writes them (German by default)."""

from __future__ import annotations


def money(cents: int, language: str = "de") -> str:
    """1.234,50 € in German, €1,234.50 in English."""
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    if language == "en":
        return f"{sign}€{euros:,}.{rest:02d}"
    return f"{sign}{euros:,}".replace(",", ".") + f",{rest:02d} €"
