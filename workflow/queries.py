"""Reads the API and the command line share: the application list with its filters, one
application's history, deadlines, transitions, reports and reminders (each only if the actor may
see it), the calls and a call's ledger. Nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Generic, TypeVar

from sqlalchemy import Engine, func, text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, select

from workflow import deadlines, engine, reminders, reports
from workflow.access import read_application, refuse_observer
from workflow.applications import find_call, history, load_application
from workflow.errors import WorkflowError
from workflow.models import (
    Application,
    BudgetLine,
    Call,
    Deadline,
    InterimReport,
    LedgerEntry,
    ReminderSent,
    TransitionRecord,
    User,
)
from workflow.rows import Actor

Row = TypeVar("Row")


@dataclass(frozen=True, slots=True)
class Page(Generic[Row]):
    """One page of a longer list: its rows and how many there are in all."""

    items: list[Row]
    total: int
    limit: int
    offset: int


def today() -> date:
    """Today in Europe/Berlin: the day deadlines are due on."""
    return deadlines.local_date(datetime.now(UTC))


def history_of(session: Session, reference: int | str,
               actor: Actor) -> list[tuple[TransitionRecord, str | None]]:
    """Every history row of a visible application, oldest first, with the actor's name."""
    app = read_application(session, reference, actor)
    records = history(session, app)
    ids = {r.actor_id for r in records if r.actor_id is not None}
    names = dict(session.exec(select(User.id, User.name).where(User.id.in_(ids))).all()) \
        if ids else {}
    return [(r, names.get(r.actor_id)) for r in records]


def actor_name(session: Session, actor_id: int | None, caller: Actor) -> str | None:
    """The name a history row shows for `actor_id`: usually the caller's own; none for the
    system (a fallback fired on the caller's behalf)."""
    if actor_id is None:
        return None
    if actor_id == caller.id:
        return caller.name
    user = session.get(User, actor_id)
    return user.name if user else None


def deadlines_of(session: Session, reference: int | str, actor: Actor) -> list[Deadline]:
    """The deadlines of a visible application, by due date."""
    app = read_application(session, reference, actor)
    return list(session.exec(select(Deadline).where(Deadline.application_id == app.id)
                             .order_by(Deadline.due_date, Deadline.id)))


def transitions_of(session: Session, reference: int | str,
                   actor: Actor) -> dict[str, WorkflowError | None]:
    """What the actor may do now with a visible application: each trigger and why not."""
    refuse_observer(actor)
    app = load_application(session, reference, actor)
    return engine.available_triggers(session, app, actor)


def interim_reports_of(session: Session, reference: int | str,
                       actor: Actor) -> list[InterimReport]:
    return reports.interim_reports(session, read_application(session, reference, actor))


def reminders_of(session: Session, reference: int | str, actor: Actor) -> list[ReminderSent]:
    """Every reminder step recorded for a visible application."""
    return reminders.reminders_of(session, read_application(session, reference, actor).id)


def calls(session: Session) -> list[Call]:
    return list(session.exec(select(Call).order_by(Call.id)))


@dataclass(frozen=True, slots=True)
class LedgerRow:
    entry: LedgerEntry
    year: int
    source: str
    reference: str | None  # the application the money moved for, if any


def ledger_page(session: Session, code: str, limit: int, offset: int) -> Page[LedgerRow]:
    """A call's ledger entries (every change to budget or committed money), oldest first."""
    call = find_call(session, code)
    query = (select(LedgerEntry, BudgetLine.year, BudgetLine.source, Application.reference)
             .join(BudgetLine, BudgetLine.id == LedgerEntry.budget_line_id)
             .outerjoin(Application, Application.id == LedgerEntry.application_id)
             .where(BudgetLine.call_id == call.id))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(LedgerEntry.id).limit(limit).offset(offset)).all()
    return Page([LedgerRow(*row) for row in rows], int(total), limit, offset)


def database_problem(db: Engine) -> str | None:
    """None if the database answers and has the schema, else the kind of error."""
    try:
        with db.connect() as connection:
            connection.execute(text("SELECT 1 FROM app_user WHERE 1 = 0"))
            connection.rollback()
    except SQLAlchemyError as error:
        return type(error).__name__
    return None

