"""Parsing what users type: amounts per budget year and dates, with refusals that say why."""

from __future__ import annotations

from datetime import date

from workflow.budget import parse_euros
from workflow.errors import InvalidInput
from workflow.rows import Payload


def is_number(text: str) -> bool:
    """Whether `text` is a whole number in ASCII digits ("²" and "١٢" are digits to Python)."""
    return text.isascii() and text.isdigit()


def amounts_per_year(payload: Payload, key: str, label: str,
                     label_en: str | None = None) -> dict[int, int] | None:
    """`payload[key]` as cents per budget year ({"2021": "50000", ...}); None if absent.

    `label` names the amounts in German refusals, `label_en` (default: `label`) in English ones.
    """
    en = label_en or label
    raw = payload.get(key)
    if raw is None:
        return None
    if not isinstance(raw, dict) or not raw:
        raise InvalidInput(
            f"{label}: bitte Beträge je Haushaltsjahr angeben.",
            f"{en}: give amounts per budget year.",
            field=key,
        )
    out = {}
    for year, value in raw.items():
        if not (isinstance(year, int | str) and is_number(str(year)) and len(str(year)) == 4):
            raise InvalidInput(
                f"{label}: „{str(year)[:20]}“ ist kein Haushaltsjahr.",
                f"{en}: '{str(year)[:20]}' is not a budget year.",
                field=key,
            )
        y = int(year)
        out[y] = parse_euros(value, f"{label} {y}", f"{en} {y}")
    return out


def parse_date(value: object, label: str, key: str, label_en: str | None = None) -> date:
    """A date given as a date or as ISO text (YYYY-MM-DD); `label_en` names it in English."""
    try:
        return value if isinstance(value, date) else date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput(
            f"{label}: „{str(value)[:40]}“ ist kein Datum (JJJJ-MM-TT).",
            f"{label_en or label}: '{str(value)[:40]}' is not a date (YYYY-MM-DD).",
            field=key,
        ) from None
