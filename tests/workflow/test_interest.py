"""§ 49a VwVfG interest: a table of hand-computed cases (act/365, base rate + 5 points, split at
each change of the base rate, rounded half up to cents once at the end)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflow import interest
from workflow.errors import InvalidInput

TEN_THOUSAND = 1_000_000  # 10.000,00 € in cents


@pytest.mark.parametrize(("principal", "start", "end", "days", "cents"), [
    # 30 days at 3.62 + 5 = 8.62 %: 1 000 000 × 0.0862 × 30 / 365 = 7 084.93
    (TEN_THOUSAND, date(2024, 1, 1), date(2024, 1, 31), 30, 7085),
    # base rate change inside: 30 days at 8.62 % (7 084.93) + 31 days at 8.37 % (7 108.77)
    (TEN_THOUSAND, date(2024, 6, 1), date(2024, 8, 1), 61, 14194),
    # the leap year 2024, 366 days over 365: 182 d at 8.62 % (42 981.92) + 184 d at 8.37 %
    # (42 194.03) = 85 175.95
    (TEN_THOUSAND, date(2024, 1, 1), date(2025, 1, 1), 366, 85176),
    # a negative base rate (-0.88 %, 2016-07 to 2022): 1 day at 4.12 % = 112.88
    (TEN_THOUSAND, date(2022, 1, 1), date(2022, 1, 2), 1, 113),
    # over the new year 2023: 1 day at 4.12 % (112.88) + 1 day at 6.62 % (181.37) = 294.25
    (TEN_THOUSAND, date(2022, 12, 31), date(2023, 1, 2), 2, 294),
    # 123,45 € for one day at 1.27 + 5 = 6.27 %: 2.12 cents
    (12_345, date(2025, 7, 1), date(2025, 7, 2), 1, 2),
    # exactly half a cent rounds up (not to even): 5 475 000 × 0.0627 / 365 = 940.5
    (5_475_000, date(2025, 7, 2), date(2025, 7, 3), 1, 941),
    # no day, no interest
    (TEN_THOUSAND, date(2024, 5, 5), date(2024, 5, 5), 0, 0),
])
def test_hand_computed_cases(principal, start, end, days, cents) -> None:
    result = interest.interest(principal, start, end)
    assert result.days == days and result.cents == cents
    assert sum(s.days for s in result.stretches) == days


def test_the_stretches_name_their_rates() -> None:
    result = interest.interest(TEN_THOUSAND, date(2024, 6, 1), date(2024, 8, 1))
    assert [(s.start, s.end, s.base_rate, s.rate) for s in result.stretches] == [
        (date(2024, 6, 1), date(2024, 7, 1), Decimal("3.62"), Decimal("8.62")),
        (date(2024, 7, 1), date(2024, 8, 1), Decimal("3.37"), Decimal("8.37"))]


def test_money_not_used_within_two_months_bears_interest_after_them() -> None:
    # Paid 15 January 2024; two months end on 15 March; interest from 16 March: 30 days.
    late = interest.unused_money_interest(TEN_THOUSAND, date(2024, 1, 15), date(2024, 4, 15))
    assert (late.start, late.days, late.cents) == (date(2024, 3, 16), 30, 7085)
    in_time = interest.unused_money_interest(TEN_THOUSAND, date(2024, 1, 15), date(2024, 3, 15))
    assert in_time.cents == 0 and in_time.days == 0


def test_a_programme_can_add_a_base_rate() -> None:
    config = {"base_rates": {"2026-01-01": "2.00"}}
    result = interest.interest(TEN_THOUSAND, date(2026, 1, 1), date(2026, 1, 2), config)
    assert result.stretches[0].rate == Decimal("7.00")
    with pytest.raises(InvalidInput, match="kein Datum"):
        interest.base_rates({"base_rates": {"1.1.2026": "2"}})


def test_bad_input_is_refused() -> None:
    with pytest.raises(InvalidInput, match="vor dem Beginn"):
        interest.interest(100, date(2024, 2, 1), date(2024, 1, 1))
    with pytest.raises(InvalidInput, match="negativ"):
        interest.interest(-1, date(2024, 1, 1), date(2024, 2, 1))
    with pytest.raises(InvalidInput, match="kein Basiszinssatz"):
        interest.interest(100, date(2010, 1, 1), date(2010, 2, 1))


@given(st.integers(0, 10**10), st.dates(date(2017, 1, 1), date(2027, 12, 31)),
       st.integers(0, 800), st.integers(0, 800))
def test_splitting_a_period_changes_the_total_by_at_most_a_cent(
        principal: int, start: date, a: int, b: int) -> None:
    from datetime import timedelta
    middle, end = start + timedelta(days=a), start + timedelta(days=a + b)
    whole = interest.interest(principal, start, end)
    parts = interest.interest(principal, start, middle).cents + interest.interest(
        principal, middle, end).cents
    assert abs(whole.cents - parts) <= 1 and whole.cents >= 0
