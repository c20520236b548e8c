"""Interest under § 49a VwVfG: five percentage points above the base rate (Basiszinssatz,
§ 247 BGB) per year, on a repayment claim from the day the revocation takes effect (para. 3), and
for money not used within two months of its payment (para. 4).

Day count: actual days / 365 ("act/365", tagegenau), also in leap years. German authorities
compute § 49a interest by the calendar day at the yearly rate divided by 365 (the "Zinsrechner"
practice of the Länder and the Bund), and a fixed divisor keeps a day of interest worth the same
in every year; act/act would make a day in 2024 cheaper than one in 2023 for no legal reason.
Interest runs from `start` (the first day it bears, inclusive) to `end` (the day the money comes
in, exclusive). Each stretch takes the base rate in force on its days – the period is split where
the rate changes (1 January, 1 July). Amounts are integer cents; the computation is exact in
Decimal and rounded once, half up, to whole cents at the end.

The base rates are a dated table in configuration: `workflow/data/base_rates.json` (the Deutsche
Bundesbank's published values), extended or corrected by a programme's `config["base_rates"]`
({"YYYY-MM-DD": "percent"}).
"""

from __future__ import annotations

import json
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

from notifications import formatting
from workflow.deadlines import add_months
from workflow.errors import InvalidInput

POINTS_ABOVE_BASE = Decimal(5)
DAYS_PER_YEAR = Decimal(365)
CENT = Decimal(1)
_DATA = Path(__file__).parent / "data" / "base_rates.json"


@dataclass(frozen=True)
class Stretch:
    """Days of one base rate: interest on `principal_cents` from `start` to `end` (exclusive)."""

    start: date
    end: date
    base_rate: Decimal  # percent
    rate: Decimal  # percent: base rate + 5 points
    interest: Decimal  # cents, unrounded

    @property
    def days(self) -> int:
        return (self.end - self.start).days


@dataclass(frozen=True)
class Interest:
    principal_cents: int
    start: date
    end: date
    stretches: tuple[Stretch, ...]
    cents: int  # the total, rounded half up to whole cents

    @property
    def days(self) -> int:
        return (self.end - self.start).days


@lru_cache(maxsize=1)
def _default_rates() -> tuple[tuple[date, Decimal], ...]:
    return _parse(json.loads(_DATA.read_text(encoding="utf-8"))["rates"])


def _parse(table: dict[str, Any]) -> tuple[tuple[date, Decimal], ...]:
    rows = []
    for day, rate in table.items():
        try:
            rows.append((date.fromisoformat(day), Decimal(str(rate))))
        except (ValueError, InvalidOperation):
            raise InvalidInput(
                f"Basiszinssatz: „{day}: {rate}“ ist kein Datum JJJJ-MM-TT mit einem Prozentsatz.",
                f"Base rate: '{day}: {rate}' is not a date YYYY-MM-DD with a percentage.",
                field="base_rates") from None
    return tuple(sorted(rows))


def base_rates(config: dict[str, Any] | None = None) -> tuple[tuple[date, Decimal], ...]:
    """The dated table: the defaults, with a programme's `config["base_rates"]` over them."""
    overrides = (config or {}).get("base_rates") or {}
    if not overrides:
        return _default_rates()
    merged = {d.isoformat(): r for d, r in _default_rates()}
    merged.update({str(k): v for k, v in overrides.items()})
    return _parse(merged)


def base_rate_on(day: date, table: tuple[tuple[date, Decimal], ...]) -> Decimal:
    i = bisect_right([d for d, _ in table], day)
    if i == 0:
        raise InvalidInput(
            f"Für den {formatting.day(day)} ist kein Basiszinssatz hinterlegt.",
            f"No base rate is on record for {formatting.day(day, 'en')}.", field="base_rates")
    return table[i - 1][1]


def interest(principal_cents: int, start: date, end: date,
             config: dict[str, Any] | None = None) -> Interest:
    """§ 49a interest on `principal_cents` from `start` (inclusive) to `end` (exclusive)."""
    if principal_cents < 0:
        raise InvalidInput("Der Betrag darf nicht negativ sein.",
                           "The amount must not be negative.", field="principal")
    if end < start:
        raise InvalidInput(
            f"Das Ende ({formatting.day(end)}) liegt vor dem Beginn ({formatting.day(start)}).",
            f"The end ({formatting.day(end, 'en')}) is before the start "
            f"({formatting.day(start, 'en')}).", field="end")
    table = base_rates(config)
    changes = [d for d, _ in table if start < d < end]
    bounds = [start, *changes, end]
    stretches = []
    for a, b in zip(bounds, bounds[1:], strict=False):
        if a == b:
            continue
        base = base_rate_on(a, table)
        rate = base + POINTS_ABOVE_BASE
        amount = Decimal(principal_cents) * rate / 100 * (b - a).days / DAYS_PER_YEAR
        stretches.append(Stretch(a, b, base, rate, amount))
    total = sum((s.interest for s in stretches), Decimal(0))
    cents = int(total.quantize(CENT, rounding=ROUND_HALF_UP))
    return Interest(principal_cents, start, end, tuple(stretches), cents)


def unused_money_interest(principal_cents: int, paid_on: date, used_on: date,
                          config: dict[str, Any] | None = None) -> Interest:
    """§ 49a (4): money paid out and not used within two months of the payment bears interest
    from the end of those two months until it is used (or repaid)."""
    grace_ends = add_months(paid_on, 2)  # the same month arithmetic as every deadline
    start = min(grace_ends + timedelta(days=1), used_on)
    return interest(principal_cents, start, used_on, config)
