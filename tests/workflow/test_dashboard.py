"""workflow/dashboard.py: a call's figures (money per year and source, applications by group,
submissions per period with the funding stop) as tables, for the authority and the observer."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from tests.factories import NOW, application_in, make_world
from workflow import budget as budgets
from workflow import dashboard
from workflow.db import unit_of_work
from workflow.errors import NotPermitted
from workflow.models import Call


@pytest.fixture
def world(any_engine):
    with unit_of_work(any_engine) as s:
        return make_world(s)


def _code(s, world) -> str:
    return s.get(Call, world.call_id).code


def test_money_per_year_and_source_with_the_year_total(any_engine, world):
    with unit_of_work(any_engine) as s:
        table = dashboard.figure_table(s, world.observer, _code(s, world),
                                       dashboard.Figure.money)
        lines = budgets.budget_lines(s, world.call_id)
    assert table.columns[:5] == ["Haushaltsjahr", "Quelle", "Budget (EUR)", "Gebunden (EUR)",
                                 "Verfügbar (EUR)"]
    for year in {ln.year for ln in lines}:
        budget = sum(ln.budget_cents for ln in lines if ln.year == year)
        total = next(row for row in table.rows if row[:2] == [year, "Summe"])
        assert total[2:] == [Decimal(budget) / 100, Decimal("0.00"), Decimal(budget) / 100, 0,
                             Decimal("0.00"), Decimal("0.00")]
    assert table.columns[-2:] == ["Ausgezahlt (EUR)", "Zurückgezahlt (EUR)"]


def test_submissions_per_month_fill_gaps_and_the_stop_lies_on_the_axis(any_engine, world):
    with unit_of_work(any_engine) as s:
        for days in (0, 70):
            application_in(s, world, "submitted", now=NOW + timedelta(days=days))
        call = s.get(Call, world.call_id)
        call.stop_since = NOW + timedelta(days=100)
        found = dashboard.submissions(s, call)
    assert len(found.starts) == len(found.counts) >= 4
    assert sum(found.counts) == 2 and 0 in found.counts  # the empty month between is shown
    assert dashboard.stop_period(found.stop_since, found.period) == found.starts[-1]
    assert all(start.day == 1 for start in found.starts)
    weekly = dashboard.Period.week
    assert dashboard._period_start(date(2021, 2, 10), weekly) == date(2021, 2, 8)


def test_a_carrier_reads_no_figures(any_engine, world):
    with unit_of_work(any_engine) as s, pytest.raises(NotPermitted):
        dashboard.figure_table(s, world.carrier, _code(s, world), dashboard.Figure.states)
