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


# The leap year 2028 with base rates a programme configures (2.00 % from 1.1., 2.50 % from
# 1.7.; before 2028 the Bundesbank's 1.27 % of 1.7.2025 holds). act/365 as interest.py does it:
# a leap year has 366 days of interest, each worth 1/365 of the yearly rate.
RATES_2028 = {"base_rates": {"2028-01-01": "2.00", "2028-07-01": "2.50"}}


@pytest.mark.parametrize(("start", "end", "days", "cents"), [
    # the whole leap year: 182 d (1.1.–30.6., with 29.2.) at 7.00 %: 1 000 000 × 0.07 × 182 / 365
    # = 34 904.11; 184 d at 7.50 %: 1 000 000 × 0.075 × 184 / 365 = 37 808.22; 72 712.33
    (date(2028, 1, 1), date(2029, 1, 1), 366, 72712),
    # 29 February alone: 1 day at 7.00 % = 191.78
    (date(2028, 2, 29), date(2028, 3, 1), 1, 192),
    # 28 February to 1 March in a leap year are 2 days: 383.56
    (date(2028, 2, 28), date(2028, 3, 1), 2, 384),
    # a change inside the period: 31 d of December 2027 at 6.27 % (5 325.21) + 30 d of January
    # 2028 at 7.00 % (5 753.42) = 11 078.63
    (date(2027, 12, 1), date(2028, 1, 31), 61, 11079),
    # the change on 1 July: 30.6. at 7.00 % (191.78) + 1.7. at 7.50 % (205.48) = 397.26
    (date(2028, 6, 30), date(2028, 7, 2), 2, 397),
])
def test_hand_computed_cases_in_the_leap_year_2028(start, end, days, cents) -> None:
    result = interest.interest(TEN_THOUSAND, start, end, RATES_2028)
    assert result.days == days and result.cents == cents


def test_unused_money_over_the_end_of_february_2028() -> None:
    # Paid 31.12.2027: two months end on 29.2.2028 (the month's last day), interest from
    # 1.3.2028 to the use on 15.3.2028: 14 days at 7.00 % = 1 000 000 × 0.07 × 14 / 365 = 2 684.93
    result = interest.unused_money_interest(TEN_THOUSAND, date(2027, 12, 31), date(2028, 3, 15),
                                            RATES_2028)
    assert (result.start, result.days, result.cents) == (date(2028, 3, 1), 14, 2685)
