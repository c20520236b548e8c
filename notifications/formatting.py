"""Money, dates and timestamps as the recipient's language writes them (German unless English).

The locale data (separators, currency sign and its place, month names) comes from Babel, read
once at import. Babel's own formatters cost 6 to 14 µs a call, and an email formats a dozen
values inside its transition's database transaction, so each value is put together here from
that data with integer arithmetic instead (well under 1 µs). tests/notifications/test_formatting.py
holds every function to Babel's output for the same explicit pattern.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from babel import Locale
from babel.numbers import (
    get_currency_symbol,
    get_decimal_symbol,
    get_group_symbol,
    get_minus_sign_symbol,
    parse_pattern,
)

BERLIN = ZoneInfo("Europe/Berlin")
NBSP = "\u00a0"  # inside dates, so wrapping never splits "2 November 2020" or "10:00 Uhr"
CURRENCY = "EUR"

# Explicit patterns (Babel's syntax), so the text does not change with Babel's CLDR version.
# The German money pattern has an ordinary space before the sign, as workflow.budget writes it.
MONEY_PATTERNS = {"de": "#,##0.00 ¤", "en": "¤#,##0.00"}
DAY_PATTERNS = {"de": "dd.MM.y", "en": f"d{NBSP}MMMM{NBSP}y"}
MOMENT_PATTERNS = {"de": f"dd.MM.y, HH:mm'{NBSP}Uhr'", "en": f"d{NBSP}MMMM{NBSP}y, HH:mm"}
LOCALES = {"de": "de_DE", "en": "en_GB"}
DEFAULT_LANGUAGE = "de"


@dataclass(frozen=True, slots=True)
class _Money:
    """One language's money format, taken apart once: what Babel's pattern.apply puts around
    the digits, and the separators it puts between them."""

    prefixes: tuple[str, str]  # (positive, negative)
    suffixes: tuple[str, str]
    group: str
    decimal: str

    @classmethod
    def of(cls, pattern_text: str, locale: Locale) -> _Money:
        pattern = parse_pattern(pattern_text)
        # Python's "," format groups by three, as both patterns do.
        if pattern.grouping != (3, 3) or pattern.frac_prec != (2, 2):
            raise ValueError(f"{pattern_text!r}: only groups of three and two decimals are known")
        sign, minus = get_currency_symbol(CURRENCY, locale), get_minus_sign_symbol(locale)

        def affix(text: str) -> str:
            return text.replace("¤", sign).replace("-", minus)

        return cls(prefixes=(affix(pattern.prefix[0]), affix(pattern.prefix[1])),
                   suffixes=(affix(pattern.suffix[0]), affix(pattern.suffix[1])),
                   group=get_group_symbol(locale), decimal=get_decimal_symbol(locale))

    def format(self, cents: int) -> str:
        negative = cents < 0
        euros, rest = divmod(-cents if negative else cents, 100)
        digits = f"{euros:,}" if self.group == "," else f"{euros:,}".replace(",", self.group)
        return (f"{self.prefixes[negative]}{digits}{self.decimal}{rest:02d}"
                f"{self.suffixes[negative]}")


_LOCALES = {language: Locale.parse(name) for language, name in LOCALES.items()}
_MONEY = {language: _Money.of(MONEY_PATTERNS[language], locale)
          for language, locale in _LOCALES.items()}
# English month names by number (German dates are all digits).
MONTHS_EN = ("",) + tuple(_LOCALES["en"].months["format"]["wide"][m] for m in range(1, 13))


def parse_day(value: date | datetime | str) -> date:
    """The calendar day of a date, an ISO date, or a timestamp (in Berlin; naive means UTC)."""
    if isinstance(value, datetime):
        return value.astimezone(BERLIN).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    text = str(value)
    if "T" in text or " " in text:
        return parse_moment(text).date()
    return date.fromisoformat(text)


def parse_moment(value: datetime | str) -> datetime:
    """A timestamp or an ISO timestamp in Berlin time (naive means UTC)."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(BERLIN)


# Field by field rather than through strftime or Babel's pattern.apply, which cost as much again
# or more. (A year is not zero-padded, like Babel's "y"; no deadline falls before the year 1000.)
def _day_de(value: date | datetime | str) -> str:
    when = parse_day(value)
    return f"{when.day:02d}.{when.month:02d}.{when.year}"


def _day_en(value: date | datetime | str) -> str:
    when = parse_day(value)
    return f"{when.day}{NBSP}{MONTHS_EN[when.month]}{NBSP}{when.year}"


def _moment_de(value: datetime | str) -> str:
    when = parse_moment(value)
    return (f"{when.day:02d}.{when.month:02d}.{when.year}, "
            f"{when.hour:02d}:{when.minute:02d}{NBSP}Uhr")


def _moment_en(value: datetime | str) -> str:
    when = parse_moment(value)
    return (f"{when.day}{NBSP}{MONTHS_EN[when.month]}{NBSP}{when.year}, "
            f"{when.hour:02d}:{when.minute:02d}")


class Formatters(NamedTuple):
    """money, day and moment with the language bound: the filters of one language's emails."""

    money: Callable[[int], str]
    day: Callable[[date | datetime | str], str]
    moment: Callable[[datetime | str], str]


# The amounts of an application come back in each of its emails: a hit costs a tenth of a format.
_FORMATTERS = {
    "de": Formatters(lru_cache(maxsize=4096)(_MONEY["de"].format), _day_de, _moment_de),
    "en": Formatters(lru_cache(maxsize=4096)(_MONEY["en"].format), _day_en, _moment_en),
}


def formatters(language: str) -> Formatters:
    """The one-argument formatters of a language (German unless English)."""
    return _FORMATTERS.get(language) or _FORMATTERS[DEFAULT_LANGUAGE]


def money(cents: int, language: str = DEFAULT_LANGUAGE) -> str:
    """An amount of integer cents in euros: "20.000,00 €" in German, "€20,000.00" in English."""
    return formatters(language).money(cents)


def day(value: date | datetime | str, language: str = DEFAULT_LANGUAGE) -> str:
    """A date: "14.12.2020" in German, "14 December 2020" (no-break spaces) in English."""
    return formatters(language).day(value)


def moment(value: datetime | str, language: str = DEFAULT_LANGUAGE) -> str:
    """A timestamp in Berlin time: "14.12.2020, 10:00 Uhr" in German, "14 December 2020, 10:00"
    in English (no-break spaces inside the date and before "Uhr")."""
    return formatters(language).moment(value)
