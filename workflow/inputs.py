"""Parsing what users type: amounts per budget year and dates, with refusals that say why."""

from __future__ import annotations

from datetime import date

from workflow.budget import parse_euros
from workflow.errors import InvalidInput
from workflow.rows import Payload


def is_number(text: str) -> bool:
    """Whether `text` is a whole number in ASCII digits ("²" and "١٢" are digits to Python)."""
    return text.isascii() and text.isdigit()


def amounts_per_year(payload: Payload, key: str, label: str) -> dict[int, int] | None:
    """`payload[key]` as cents per budget year ({"2021": "50000", ...}); None if absent."""
    raw = payload.get(key)
    if raw is None:
        return None
    if not isinstance(raw, dict) or not raw:
        raise InvalidInput(
            f"{label}: bitte Beträge je Haushaltsjahr angeben.",
            f"{label}: give amounts per budget year.",
            field=key,
        )
    out = {}
    for year, value in raw.items():
        try:
            y = int(year)
        except (TypeError, ValueError):
            raise InvalidInput(
                f"{label}: „{year}“ ist kein Haushaltsjahr.",
                f"{label}: '{year}' is not a budget year.",
                field=key,
            ) from None
        out[y] = parse_euros(value, f"{label} {y}")
    return out


def parse_date(value: object, label: str, key: str) -> date:
    """A date given as a date or as ISO text (YYYY-MM-DD)."""
    try:
        return value if isinstance(value, date) else date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput(
            f"{label}: „{value}“ ist kein Datum (JJJJ-MM-TT).",
            f"{label}: '{value}' is not a date (YYYY-MM-DD).",
            field=key,
        ) from None
