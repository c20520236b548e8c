"""'Meine Anträge': a carrier organisation's applications with state, amounts and the next
open deadline, in two queries whatever their number."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func
from sqlmodel import Session, select

from states import DeadlineStatus
from workflow.models import Application, ApplicationYear, Call, Deadline


@dataclass(frozen=True, slots=True)
class OverviewRow:
    reference: str
    title: str
    call_code: str
    call_title: str
    state: str
    requested_cents: int
    approved_cents: int | None
    next_due: date | None
    next_kind: str | None
    updated_at: datetime


def my_applications(session: Session, organisation_id: int) -> list[OverviewRow]:
    """The organisation's applications, newest change first."""
    amounts = (select(ApplicationYear.application_id,
                      func.sum(ApplicationYear.requested_cents).label("requested"),
                      func.sum(ApplicationYear.approved_cents).label("approved"))
               .group_by(ApplicationYear.application_id).subquery())
    rows = session.execute(
        select(Application.id, Application.reference, Application.title, Application.state,
               Application.updated_at, Call.code, Call.title, amounts.c.requested,
               amounts.c.approved)
        .join(Call, Call.id == Application.call_id)
        .outerjoin(amounts, amounts.c.application_id == Application.id)
        .where(Application.organisation_id == organisation_id)
        .order_by(Application.updated_at.desc(), Application.id.desc())).all()
    due: dict[int, tuple[date, str]] = {}
    if rows:
        for application_id, due_date, kind in session.execute(
                select(Deadline.application_id, Deadline.due_date, Deadline.kind)
                .join(Application, Application.id == Deadline.application_id)
                .where(Application.organisation_id == organisation_id,
                       Deadline.status == DeadlineStatus.open.value)
                .order_by(Deadline.due_date)):
            due.setdefault(application_id, (due_date, kind))
    return [OverviewRow(r[1] or "", r[2], r[5], r[6], r[3], int(r[7] or 0),
                        None if r[8] is None else int(r[8]),
                        *(due.get(r[0]) or (None, None)), r[4]) for r in rows]
