"""The named SQL statements of the firing path and the money ledger, and the one place that keeps
ORM objects current after they run.

Every statement is built once (Core, not ORM: a firing reads and writes with about a quarter of
the CPU of ORM queries and flushes, bench/engine.py). Functions take the caller's connection and
return typed rows (`workflow.rows`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from functools import cache

from sqlalchemy import (
    Connection,
    FromClause,
    Update,
    bindparam,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlalchemy.sql import ColumnElement, Select
from sqlmodel import Session

from states import DeadlineStatus
from states.staff import REVIEW_WORK_TRIGGERS
from workflow.models import (
    Application,
    ApplicationYear,
    BudgetLine,
    Call,
    Deadline,
    FinancePlanLine,
    LedgerEntry,
    Programme,
    TransitionRecord,
    User,
)
from workflow.rows import (
    ApplicationRow,
    ApplicationSummary,
    BudgetLineRow,
    CallRow,
    DeadlineRow,
    JsonValue,
    Loaded,
    ProgrammeRow,
    UserRow,
    YearRow,
)

_A, _C, _P, _U = Application.__table__, Call.__table__, Programme.__table__, User.__table__
_Y, _D, _TR = ApplicationYear.__table__, Deadline.__table__, TransitionRecord.__table__
_L, _E = BudgetLine.__table__, LedgerEntry.__table__


def connection(session: Session) -> Connection:
    """The session's connection for Core statements, after flushing pending ORM changes."""
    if session.new or session.dirty or session.deleted:
        session.flush()
    return session.connection()


def sync(session: Session, model: type, pk: int, values: Mapping[str, object]) -> None:
    """After a Core write: bring an instance the session has already loaded up to date (without
    marking it dirty). Every Core write of a firing passes through here."""
    obj = session.identity_map.get(identity_key(model, pk))
    if obj is not None:
        for name, value in values.items():
            set_committed_value(obj, name, value)


# ---------------------------------------------------------------- the context of one firing

_CARRIER, _OFFICER = _U.alias("carrier_user"), _U.alias("officer_user")
_PARTS: tuple[tuple[type, FromClause, str], ...] = (
    (ApplicationRow, _A, "app"),
    (CallRow, _C, "call"),
    (ProgrammeRow, _P, "programme"),
    (UserRow, _CARRIER, "carrier"),
    (UserRow, _OFFICER, "officer"),
)
_SPANS: list[tuple[type, int, int]] = []
_at = 0
for _row_type, _table, _prefix in _PARTS:
    _SPANS.append((_row_type, _at, _at + len(_row_type.columns())))
    _at += len(_row_type.columns())
_YEAR_FIELDS = YearRow.columns()
_DEADLINE_FIELDS = ("id", "kind", "period", "due_date", "status")


def _json_rows(dialect: str, table: FromClause, names: tuple[str, ...]) -> ColumnElement:
    """(SELECT a JSON array of [column, …] per row of `table` belonging to the application)."""
    columns = [table.c[name] for name in names]
    if dialect == "postgresql":
        rows = func.json_agg(func.json_build_array(*columns))
    else:
        rows = func.json_group_array(func.json_array(*columns))
    return select(rows).where(table.c.application_id == _A.c.id).scalar_subquery()


@cache
def _context_statement(dialect: str, by_reference: bool, lock: bool) -> Select:
    columns = [
        table.c[name].label(f"{prefix}_{name}")
        for row_type, table, prefix in _PARTS
        for name in row_type.columns()
    ]
    query = select(
        *columns,
        _json_rows(dialect, _Y, _YEAR_FIELDS).label("years"),
        _json_rows(dialect, _D, _DEADLINE_FIELDS).label("deadlines"),
    ).select_from(
        _A.join(_C, _C.c.id == _A.c.call_id)
        .join(_P, _P.c.id == _C.c.programme_id)
        .outerjoin(_CARRIER, _CARRIER.c.id == _A.c.created_by_id)
        .outerjoin(_OFFICER, _OFFICER.c.id == _A.c.case_officer_id)
    ).where((_A.c.reference if by_reference else _A.c.id) == bindparam("key"))
    # Money changes lock the call row (PostgreSQL; SQLite holds the write lock since BEGIN).
    return query.with_for_update(of=_C) if lock else query


def _json_list(value: str | list[list[JsonValue]] | None) -> list[list[JsonValue]]:
    """A JSON array from the driver: parsed already (psycopg) or text (SQLite); NULL is []."""
    if value is None:
        return []
    return json.loads(value) if isinstance(value, str) else value


def load_context(conn: Connection, key: int | str, lock: bool = False) -> Loaded | None:
    """Application, call, programme, carrier contact, case officer, years and deadlines of one
    application (by id or reference), with one statement; None if there is no such application."""
    by_reference = isinstance(key, str)
    row = conn.execute(_context_statement(conn.dialect.name, by_reference, lock),
                       {"key": key}).first()
    if row is None:
        return None
    app, call, programme, carrier, officer = (
        row_type(*row[start:end]) for row_type, start, end in _SPANS
    )
    years = sorted((YearRow(*values) for values in _json_list(row[-2])), key=lambda y: y.year)
    deadlines = [
        DeadlineRow(id_, kind, period, date.fromisoformat(due), status)
        for id_, kind, period, due, status in _json_list(row[-1])
    ]
    deadlines.sort(key=lambda d: (d.due_date, d.id))
    return Loaded(
        app, call, programme,
        carrier if carrier.id is not None else None,
        officer if officer.id is not None else None,
        {y.year: y for y in years},
        deadlines,
    )


# ---------------------------------------------------------------- the application

@cache
def _update_application(names: tuple[str, ...]) -> Update:
    """UPDATE application SET … WHERE id = :_id AND version = :_seen, for these columns."""
    return (
        update(_A)
        .where(_A.c.id == bindparam("_id"), _A.c.version == bindparam("_seen"))
        .values({name: bindparam(f"v_{name}") for name in names})
    )


def update_application(conn: Connection, app_id: int, seen_version: int,
                       values: dict[str, object]) -> bool:
    """Write `values` if the row still has the version the firing read; False if it changed."""
    result = conn.execute(
        _update_application(tuple(values)),
        {"_id": app_id, "_seen": seen_version, **{f"v_{k}": v for k, v in values.items()}},
    )
    return result.rowcount == 1


_VERSION = select(_A.c.version).where(_A.c.id == bindparam("id"))


def current_version(conn: Connection, app_id: int) -> int | None:
    return conn.execute(_VERSION, {"id": app_id}).scalar()


_INSERT_RECORD = insert(_TR).returning(_TR.c.id)


def insert_record(conn: Connection, values: dict[str, object]) -> int:
    return conn.execute(_INSERT_RECORD, values).scalar_one()


# The transitions the table marks as review work and the staff acts that are (the Prüfvermerk).
_REVIEW_TRIGGERS = REVIEW_WORK_TRIGGERS
_REVIEWERS = select(_TR.c.actor_id).where(
    _TR.c.application_id == bindparam("app"), _TR.c.trigger.in_(_REVIEW_TRIGGERS)
)


def reviewers(conn: Connection, app_id: int) -> set[int | None]:
    """Everyone who did review work on the application (four-eyes)."""
    return set(conn.execute(_REVIEWERS, {"app": app_id}).scalars().all())


_SET_YEAR = {
    name: update(_Y).where(_Y.c.id == bindparam("_id")).values({name: bindparam("value")})
    for name in ("approved_cents", "spent_cents")
}


def set_year_column(conn: Connection, name: str, values: dict[int, int]) -> None:
    """One money column of application years: `values` maps year row id to cents."""
    if values:
        conn.execute(_SET_YEAR[name], [{"_id": i, "value": v} for i, v in values.items()])


_YEARS = select(*(_Y.c[n] for n in _YEAR_FIELDS)).where(
    _Y.c.application_id == bindparam("app")).order_by(_Y.c.year)


def years_of(conn: Connection, app_id: int) -> dict[int, YearRow]:
    return {row.year: YearRow(*row) for row in conn.execute(_YEARS, {"app": app_id})}


_USER = select(*(_U.c[n] for n in UserRow.columns())).where(_U.c.id == bindparam("id"))


def user(conn: Connection, user_id: int | None) -> UserRow | None:
    row = conn.execute(_USER, {"id": user_id}).first() if user_id else None
    return UserRow(*row) if row else None


_F = FinancePlanLine.__table__
# The plan's lines and, as rows of kind "", the budget years of the call: one round trip.
_PLAN_AND_YEARS = (
    select(_F.c.year, _F.c.kind, _F.c.heading, _F.c.cents)
    .where(_F.c.application_id == bindparam("app"))
    .union_all(select(_L.c.year, literal(""), literal(""), literal(0))
               .where(_L.c.call_id == bindparam("call")).distinct())
)


def plan_and_budget_years(conn: Connection, app_id: int, call_id: int
                          ) -> tuple[list[tuple[int, str, str, int]], set[int]]:
    """An application's finance plan lines (year, kind, heading, cents) and its call's budget
    years."""
    lines, years = [], set()
    for year, kind, heading, cents in conn.execute(_PLAN_AND_YEARS,
                                                   {"app": app_id, "call": call_id}):
        if kind:
            lines.append((year, kind, heading, cents))
        else:
            years.add(year)
    return lines, years


# ---------------------------------------------------------------- the call and its money

_CALL = select(*(_C.c[n] for n in CallRow.columns())).where(_C.c.id == bindparam("id"))


def call(conn: Connection, call_id: int, lock: bool = False) -> CallRow | None:
    row = conn.execute(_CALL.with_for_update() if lock else _CALL, {"id": call_id}).first()
    return CallRow(*row) if row else None


_SET_STOP = update(_C).where(_C.c.id == bindparam("_id")).values(
    stop_kind=bindparam("kind"), stop_since=bindparam("since"), stop_reason=bindparam("reason"))


def set_stop(conn: Connection, call_id: int, kind: str | None, since: datetime | None,
             reason: str | None) -> None:
    conn.execute(_SET_STOP, {"_id": call_id, "kind": kind, "since": since, "reason": reason})


_LINES = (select(*(_L.c[n] for n in BudgetLineRow.columns()))
          .where(_L.c.call_id == bindparam("call")).order_by(_L.c.year, _L.c.priority, _L.c.id))


def budget_lines(conn: Connection, call_id: int) -> list[BudgetLineRow]:
    """The call's budget lines, by year and priority."""
    return [BudgetLineRow(*row) for row in conn.execute(_LINES, {"call": call_id})]


_COMMIT = (
    update(_L)
    .where(_L.c.id == bindparam("_id"),
           _L.c.committed_cents + bindparam("cents") <= _L.c.budget_cents,
           _L.c.committed_cents + bindparam("cents") >= 0)
    .values(committed_cents=_L.c.committed_cents + bindparam("cents"))
    .returning(_L.c.committed_cents)
)


def add_committed(conn: Connection, line_id: int, cents: int) -> int | None:
    """committed += cents if it stays within 0..budget (the database decides); the new sum, or
    None if the line lacks the room."""
    row = conn.execute(_COMMIT, {"_id": line_id, "cents": cents}).first()
    return None if row is None else row[0]


_CHANGE = (
    update(_L)
    .where(_L.c.id == bindparam("_id"),
           _L.c.budget_cents + bindparam("delta") >= _L.c.committed_cents)
    .values(budget_cents=_L.c.budget_cents + bindparam("delta"))
    .returning(_L.c.budget_cents, _L.c.committed_cents)
)


def add_budget(conn: Connection, line_id: int, delta: int) -> tuple[int, int] | None:
    """budget += delta unless that falls below what is committed; (budget, committed) or None."""
    row = conn.execute(_CHANGE, {"_id": line_id, "delta": delta}).first()
    return None if row is None else (row[0], row[1])


_ENTRY = insert(_E)


def insert_ledger(conn: Connection, entries: list[dict[str, object]]) -> None:
    if entries:
        conn.execute(_ENTRY, entries)


_HELD = (select(_E.c.budget_line_id, func.sum(_E.c.committed_delta_cents),
                func.sum(_E.c.paid_delta_cents - _E.c.repaid_delta_cents))
         .where(_E.c.application_id == bindparam("app")).group_by(_E.c.budget_line_id))


def commitments(conn: Connection, app_id: int) -> dict[int, int]:
    """Net committed cents of one application per budget line id."""
    return {line: c for line, (c, _) in holdings(conn, app_id).items() if c}


def holdings(conn: Connection, app_id: int) -> dict[int, tuple[int, int]]:
    """Net committed and net paid (paid less repaid) cents of one application per budget line
    id, with one statement."""
    return {line: (int(committed or 0), int(paid or 0))
            for line, committed, paid in conn.execute(_HELD, {"app": app_id})}


# ---------------------------------------------------------------- the waiting list

def _in_state(state: str) -> Select:
    return select(_A.c.id).where(_A.c.call_id == bindparam("call"), _A.c.state == state)


@cache
def _waiting(state: str) -> Select:
    return _in_state(state).limit(1)


def anyone_in_state(conn: Connection, call_id: int, state: str) -> bool:
    return conn.execute(_waiting(state), {"call": call_id}).first() is not None


@cache
def _in_order_of_receipt(state: str) -> Select:
    return _in_state(state).order_by(_A.c.received_at, _A.c.id)


def in_order_of_receipt(conn: Connection, call_id: int, state: str) -> list[int]:
    return list(conn.execute(_in_order_of_receipt(state), {"call": call_id}).scalars())


@cache
def _offered_again(state: str) -> Select:
    return _in_state(state).where(_A.c.waitlisted_at.is_not(None))


def offered_again(conn: Connection, call_id: int, state: str) -> list[int]:
    """Applications that waited and are back in `state`: they have first claim on the money."""
    return list(conn.execute(_offered_again(state), {"call": call_id}).scalars())


_CONTACTS = (
    select(_A.c.id, _A.c.reference, _A.c.title, _A.c.state,
           *(_U.c[n].label(f"user_{n}") for n in UserRow.columns()))
    .join(_U, _U.c.id == _A.c.created_by_id)
    .where(_A.c.call_id == bindparam("call"), _A.c.state.in_(bindparam("states", expanding=True)))
    .order_by(_A.c.id)
)


def carrier_contacts(conn: Connection, call_id: int, states: list[str]
                     ) -> list[tuple[ApplicationSummary, UserRow]]:
    """The call's applications in `states`, each with its carrier contact."""
    return [(ApplicationSummary(*row[:4]), UserRow(*row[4:]))
            for row in conn.execute(_CONTACTS, {"call": call_id, "states": states})]


# ---------------------------------------------------------------- deadlines

_OF_APPLICATION = (select(*(_D.c[n] for n in DeadlineRow.columns()))
                   .where(_D.c.application_id == bindparam("app")).order_by(_D.c.due_date))
_INSERT_DEADLINES = insert(_D).returning(_D.c.id, sort_by_parameter_order=True)
_REOPEN = (update(_D).where(_D.c.id == bindparam("_id"))
           .values(due_date=bindparam("due_date"), status=DeadlineStatus.open.value,
                   opened_at=bindparam("now"), closed_at=None, opened_by_id=bindparam("record"),
                   next_reminder_on=None))
_CLOSE = (update(_D).where(_D.c.id == bindparam("_id"))
          .values(status=bindparam("status"), closed_at=bindparam("now")))


def deadlines_of(conn: Connection, app_id: int) -> list[DeadlineRow]:
    return [DeadlineRow(*row) for row in conn.execute(_OF_APPLICATION, {"app": app_id})]


def insert_deadlines(conn: Connection, rows: list[dict[str, object]]) -> list[int]:
    return list(conn.execute(_INSERT_DEADLINES, rows).scalars().all()) if rows else []


def reopen_deadline(conn: Connection, deadline_id: int, due: date, now: datetime,
                    record_id: int | None) -> None:
    conn.execute(_REOPEN, {"_id": deadline_id, "due_date": due, "now": now, "record": record_id})


def close_deadlines(conn: Connection, ids: list[int], status: str, now: datetime) -> None:
    if ids:
        conn.execute(_CLOSE, [{"_id": i, "status": status, "now": now} for i in ids])


# ---------------------------------------------------------------- issue 16: committed, called, paid
# Per application and year the database keeps paid <= committed and called >= paid (CHECK
# ck_year_paid_not_over) and per budget line paid - repaid <= committed (ck_budget_paid_not_over);
# every change below is a conditional UPDATE that returns nothing when it would break them.

_YEAR_COMMITTED = (
    update(_Y)
    .where(_Y.c.application_id == bindparam("app"), _Y.c.year == bindparam("yr"))
    .values(committed_cents=_Y.c.committed_cents + bindparam("cents"))
)


def add_year_committed(conn: Connection, app_id: int, changes: dict[int, int]) -> None:
    """committed += cents per year of the application, in one statement; the CHECK
    ck_year_paid_not_over refuses going below what is paid (callers release unpaid money
    only)."""
    rows = [{"app": app_id, "yr": year, "cents": cents}
            for year, cents in sorted(changes.items()) if cents]
    if rows:
        conn.execute(_YEAR_COMMITTED, rows)


_PAID_BY_LINE = (
    select(_E.c.budget_line_id,
           func.sum(_E.c.paid_delta_cents - _E.c.repaid_delta_cents))
    .where(_E.c.application_id == bindparam("app")).group_by(_E.c.budget_line_id))


def paid_by_line(conn: Connection, app_id: int) -> dict[int, int]:
    """Net paid cents (paid less repaid) of one application per budget line id."""
    return {line: int(total) for line, total in conn.execute(_PAID_BY_LINE, {"app": app_id})
            if total}


_CALLED = (
    update(_Y)
    .where(_Y.c.application_id == bindparam("app"), _Y.c.year == bindparam("yr"),
           _Y.c.called_cents + bindparam("cents") <= _Y.c.committed_cents,
           _Y.c.called_cents + bindparam("cents") >= _Y.c.paid_cents)
    .values(called_cents=_Y.c.called_cents + bindparam("cents"))
    .returning(_Y.c.called_cents)
)


def add_called(conn: Connection, app_id: int, year: int, cents: int) -> int | None:
    """called += cents if open and paid calls stay within what is committed for the year; the
    new sum, or None if the year lacks the room (or is not approved)."""
    row = conn.execute(_CALLED, {"app": app_id, "yr": year, "cents": cents}).first()
    return None if row is None else row[0]


_YEAR_PAID = (
    update(_Y)
    .where(_Y.c.application_id == bindparam("app"), _Y.c.year == bindparam("yr"),
           _Y.c.paid_cents + bindparam("cents") <= _Y.c.committed_cents,
           _Y.c.paid_cents + bindparam("cents") <= _Y.c.called_cents)
    .values(paid_cents=_Y.c.paid_cents + bindparam("cents"))
    .returning(_Y.c.paid_cents)
)


def add_year_paid(conn: Connection, app_id: int, year: int, cents: int) -> int | None:
    """paid += cents if it stays within what is committed and called; the new sum or None."""
    row = conn.execute(_YEAR_PAID, {"app": app_id, "yr": year, "cents": cents}).first()
    return None if row is None else row[0]


_LINE_PAID = (
    update(_L)
    .where(_L.c.id == bindparam("_id"),
           _L.c.paid_cents - _L.c.repaid_cents + bindparam("cents") <= _L.c.committed_cents)
    .values(paid_cents=_L.c.paid_cents + bindparam("cents"))
    .returning(_L.c.paid_cents)
)


def add_line_paid(conn: Connection, line_id: int, cents: int) -> int | None:
    """A budget line's paid += cents if net paid stays within its committed money."""
    row = conn.execute(_LINE_PAID, {"_id": line_id, "cents": cents}).first()
    return None if row is None else row[0]


_LINE_MONEY = (select(_L.c.id, _L.c.year, _L.c.source, _L.c.budget_cents, _L.c.committed_cents,
                      _L.c.paid_cents, _L.c.repaid_cents)
               .where(_L.c.call_id == bindparam("call")).order_by(_L.c.year, _L.c.priority,
                                                                  _L.c.id))


def line_money(conn: Connection, call_id: int) -> list[tuple[int, int, str, int, int, int, int]]:
    """(id, year, source, budget, committed, paid, repaid) of every budget line of the call."""
    return [tuple(row) for row in conn.execute(_LINE_MONEY, {"call": call_id})]


_LEDGER_SUMS = (
    select(_E.c.budget_line_id, func.sum(_E.c.budget_delta_cents),
           func.sum(_E.c.committed_delta_cents), func.sum(_E.c.paid_delta_cents),
           func.sum(_E.c.repaid_delta_cents))
    .join(_L, _L.c.id == _E.c.budget_line_id)
    .where(_L.c.call_id == bindparam("call")).group_by(_E.c.budget_line_id))


def ledger_sums(conn: Connection, call_id: int) -> dict[int, tuple[int, int, int, int]]:
    """The ledger's sums per budget line of the call: (budget, committed, paid, repaid)."""
    return {line: tuple(int(v or 0) for v in sums)
            for line, *sums in conn.execute(_LEDGER_SUMS, {"call": call_id})}


_YEAR_MONEY = (select(_Y.c.year, _Y.c.approved_cents, _Y.c.committed_cents, _Y.c.called_cents,
                      _Y.c.paid_cents, _Y.c.repaid_cents)
               .where(_Y.c.application_id == bindparam("app")).order_by(_Y.c.year))


def year_money(conn: Connection, app_id: int
               ) -> list[tuple[int, int | None, int, int, int, int]]:
    """(year, approved, committed, called, paid, repaid) of each year of the application."""
    return [tuple(row) for row in conn.execute(_YEAR_MONEY, {"app": app_id})]


# ---------------------------------------------------------------- issue 16: repayments

_YEAR_REPAID = (
    update(_Y)
    .where(_Y.c.application_id == bindparam("app"), _Y.c.year == bindparam("yr"),
           _Y.c.repaid_cents + bindparam("cents") <= _Y.c.paid_cents)
    .values(repaid_cents=_Y.c.repaid_cents + bindparam("cents"))
    .returning(_Y.c.repaid_cents)
)


def add_year_repaid(conn: Connection, app_id: int, year: int, cents: int) -> int | None:
    """An application year's repaid += cents if it stays within what was paid; the new sum."""
    row = conn.execute(_YEAR_REPAID, {"app": app_id, "yr": year, "cents": cents}).first()
    return None if row is None else row[0]


_LINE_REPAID = (
    update(_L)
    .where(_L.c.id == bindparam("_id"),
           _L.c.repaid_cents + bindparam("cents") <= _L.c.paid_cents)
    .values(repaid_cents=_L.c.repaid_cents + bindparam("cents"))
    .returning(_L.c.repaid_cents)
)


def add_line_repaid(conn: Connection, line_id: int, cents: int) -> int | None:
    """A budget line's repaid += cents if it stays within what was paid from it."""
    row = conn.execute(_LINE_REPAID, {"_id": line_id, "cents": cents}).first()
    return None if row is None else row[0]
