"""The dashboard's figures of one call (issue 15): money per budget year and source, applications
by state, module and municipality, and submissions over time with the funding stop's moment.
Each figure is an exports.Table, so the page, its charts and the CSV/XLSX downloads show the same
rows. Aggregates only: no reference, organisation or assessment text ever leaves here."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from sqlmodel import Session, select

from notifications.formatting import BERLIN
from states.staff import HIDDEN_FROM_STAFF, AggregateDimension
from workflow import aggregates, payments
from workflow.applications import find_call
from workflow.exports import Table
from workflow.models import Application, Call
from workflow.rows import Actor


class Figure(StrEnum):
    """The dashboard's tables, as their downloads are named."""

    money = "mittel"
    states = "status"
    modules = "bausteine"
    municipalities = "kommunen"
    submissions = "eingaenge"


class Period(StrEnum):
    month = "monat"
    week = "woche"


MONEY_COLUMNS = ["Haushaltsjahr", "Quelle", "Budget (EUR)", "Gebunden (EUR)",
                 "Verfügbar (EUR)", "Gebunden (%)", "Ausgezahlt (EUR)", "Zurückgezahlt (EUR)"]
GROUP_COLUMNS = {Figure.states: "Status", Figure.modules: "Baustein",
                 Figure.municipalities: "Kommune"}
GROUP_BY = {Figure.states: AggregateDimension.state, Figure.modules: AggregateDimension.module,
            Figure.municipalities: AggregateDimension.municipality}
COUNT_COLUMNS = ["Anträge", "Beantragt (EUR)", "Bewilligt (EUR)"]
TITLES = {Figure.money: "Mittel", Figure.states: "Anträge nach Status",
          Figure.modules: "Anträge nach Baustein", Figure.municipalities: "Anträge nach Kommune",
          Figure.submissions: "Eingänge"}


@dataclass(frozen=True)
class Submissions:
    """Submitted applications per period (Berlin time), gaps filled with zero, and when the
    funding stop came into force (None: no stop)."""

    period: Period
    starts: list[date]
    counts: list[int]
    stop_since: datetime | None

    def table(self, code: str) -> Table:
        label = "Woche ab" if self.period == Period.week else "Monat"
        return Table(f"{TITLES[Figure.submissions]} {code}", [label, "Eingereichte Anträge"],
                     [[start, count] for start, count in zip(self.starts, self.counts,
                                                              strict=True)])


def _euros(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))


def _aware(moment: datetime) -> datetime:
    """SQLite gives timestamps back without their zone; they are UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _share(part: int, whole: int) -> int:
    return 0 if whole <= 0 else round(part * 100 / whole)


def money_table(session: Session, call: Call) -> Table:
    """Budget, committed, available, paid and repaid money per budget year and source, each
    year with its total line ("Summe")."""
    rows: list[list[object]] = []
    lines = payments.ledger_by_line(session, call.id)

    def row(year: int, source: str, money: dict[str, int]) -> list[object]:
        budget_cents, committed = money["budget_cents"], money["committed_cents"]
        return [year, source, _euros(budget_cents), _euros(committed),
                _euros(budget_cents - committed), _share(committed, budget_cents),
                _euros(money["paid_cents"]), _euros(money["repaid_cents"])]

    totals = payments.totals_by_year(lines)
    for year in sorted(totals):
        rows.extend(row(year, ln["source"], ln) for ln in lines if ln["year"] == year)
        rows.append(row(year, "Summe", totals[year]))
    return Table(f"{TITLES[Figure.money]} {call.code}", MONEY_COLUMNS, rows)


def group_table(session: Session, call: Call, figure: Figure) -> Table:
    """Applications (submitted at least once) by state, module or municipality."""
    groups = aggregates.aggregates(session, GROUP_BY[figure], call=call.code)
    return Table(f"{TITLES[figure]} {call.code}", [GROUP_COLUMNS[figure], *COUNT_COLUMNS],
                 [[g.label, g.applications, _euros(g.requested_cents),
                   _euros(g.approved_cents)] for g in groups])


def _period_start(day: date, period: Period) -> date:
    if period == Period.week:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def _next(start: date, period: Period) -> date:
    if period == Period.week:
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def submissions(session: Session, call: Call, period: Period = Period.month) -> Submissions:
    received = session.exec(select(Application.received_at).where(
        Application.call_id == call.id, Application.received_at.is_not(None),
        Application.state.not_in([s.value for s in HIDDEN_FROM_STAFF]))).all()
    days = Counter(_period_start(_aware(moment).astimezone(BERLIN).date(), period)
                   for moment in received)
    since = _aware(call.stop_since) if call.stop_since else None
    bounds = set(days) | ({stop_period(since, period)} if since and days else set())
    starts: list[date] = []
    if bounds:
        start, last = min(bounds), max(bounds)
        while start <= last:
            starts.append(start)
            start = _next(start, period)
    return Submissions(period, starts, [days.get(s, 0) for s in starts], since)


def stop_period(stop_since: datetime | None, period: Period) -> date | None:
    """The start of the period in which the funding stop came into force."""
    if stop_since is None:
        return None
    return _period_start(_aware(stop_since).astimezone(BERLIN).date(), period)


def figure_table(session: Session, actor: Actor, code: str, figure: Figure,
                 period: Period = Period.month) -> Table:
    """One figure of a call's dashboard as a table (for the downloads)."""
    aggregates.may_read(actor)
    call = find_call(session, code)
    if figure == Figure.money:
        return money_table(session, call)
    if figure == Figure.submissions:
        return submissions(session, call, period).table(call.code)
    return group_table(session, call, figure)
