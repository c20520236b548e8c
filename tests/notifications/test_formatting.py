"""Money, dates and timestamps in German and English: the texts the emails have always shown,
and exactly what Babel writes for the same explicit pattern."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import parse_pattern
from hypothesis import given
from hypothesis import strategies as st

from notifications.formatting import (
    BERLIN,
    DAY_PATTERNS,
    LOCALES,
    MOMENT_PATTERNS,
    MONEY_PATTERNS,
    day,
    moment,
    money,
)

NBSP = "\u00a0"
CENTS = st.integers(min_value=-10**15, max_value=10**15)


def babel_money(cents: int, language: str) -> str:
    return parse_pattern(MONEY_PATTERNS[language]).apply(
        Decimal(cents).scaleb(-2), Locale.parse(LOCALES[language]), currency="EUR")


def cents_of(text: str, language: str) -> int:
    """Read an amount back the way a reader of that language does."""
    sign = -1 if text.startswith("-") else 1
    if language == "de":
        assert text.endswith(" €")
        euros, rest = text.removesuffix(" €").lstrip("-").replace(".", "").split(",")
    else:
        assert text.lstrip("-").startswith("€")
        euros, rest = text.lstrip("-").removeprefix("€").replace(",", "").split(".")
    assert euros.isdigit() and len(rest) == 2 and rest.isdigit()
    return sign * (int(euros) * 100 + int(rest))


def test_money_in_german_and_english() -> None:
    assert money(2_000_000) == money(2_000_000, "de") == "20.000,00 €"
    assert money(2_000_000, "en") == "€20,000.00"
    assert money(123_450) == "1.234,50 €" and money(123_450, "en") == "€1,234.50"
    assert money(0) == "0,00 €" and money(0, "en") == "€0.00"
    assert money(5) == "0,05 €" and money(99_999, "en") == "€999.99"
    assert money(-2_000_000) == "-20.000,00 €" and money(-2_000_000, "en") == "-€20,000.00"
    assert money(-5, "en") == "-€0.05"


def test_unknown_language_is_german() -> None:
    assert money(2_000_000, "fr") == "20.000,00 €"
    assert day("2020-12-14", "fr") == "14.12.2020"
    assert moment("2020-12-14T09:00:00+00:00", "") == f"14.12.2020, 10:00{NBSP}Uhr"


@given(CENTS)
def test_money_reads_back_to_the_same_cents(cents: int) -> None:
    assert cents_of(money(cents, "de"), "de") == cents
    assert cents_of(money(cents, "en"), "en") == cents


@given(CENTS)
def test_money_is_what_babel_writes(cents: int) -> None:
    for language in ("de", "en"):
        assert money(cents, language) == babel_money(cents, language)


def test_dates_and_timestamps() -> None:
    assert day("2020-12-14") == "14.12.2020"
    assert day(date(2020, 12, 14), "en") == f"14{NBSP}December{NBSP}2020"
    assert day(date(2021, 5, 2)) == "02.05.2021"
    assert day(date(2021, 5, 2), "en") == f"2{NBSP}May{NBSP}2021"
    # 23:30 UTC on 14 December is already the 15th in Berlin; a naive timestamp means UTC.
    assert day("2020-12-14T23:30:00+00:00") == "15.12.2020"
    assert day(datetime(2020, 12, 14, 23, 30)) == "14.12.2020"
    assert day(datetime(2020, 12, 14, 23, 30, tzinfo=UTC), "en") == f"15{NBSP}December{NBSP}2020"
    assert moment("2020-12-14T09:00:00+00:00") == f"14.12.2020, 10:00{NBSP}Uhr"
    assert moment(datetime(2020, 12, 14, 9, 0), "en") == f"14{NBSP}December{NBSP}2020, 10:00"
    assert moment("2021-07-01T08:05:00+00:00", "en") == f"1{NBSP}July{NBSP}2021, 10:05"


@pytest.mark.parametrize("language", ["de", "en"])
def test_dates_are_what_babel_writes(language: str) -> None:
    locale = Locale.parse(LOCALES[language])
    start = datetime(2019, 12, 30, 22, 30, tzinfo=UTC)
    for step in range(0, 24 * 900, 7):  # every seventh hour for 900 days, both DST changes
        at = start + timedelta(hours=step, minutes=step % 60)
        assert moment(at.isoformat(), language) == format_datetime(
            at, MOMENT_PATTERNS[language], tzinfo=BERLIN, locale=locale)
        assert day(at.date(), language) == format_date(
            at.date(), DAY_PATTERNS[language], locale=locale)
