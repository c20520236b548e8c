"""Aggregates (issue 15): how many applications, and how much money requested and approved, by
module, municipality or state; what the observer (G.I.B.) sees instead of single cases. No
reference, title, organisation or assessment ever leaves here: only group keys and numbers.
Unsubmitted drafts are not counted."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlmodel import Session

from states import STATE_LABELS, State
from states.staff import AGGREGATE_READERS, HIDDEN_FROM_STAFF, AggregateDimension
from workflow.applications import find_call
from workflow.errors import NotPermitted
from workflow.models import Application, ApplicationYear
from workflow.rows import Actor

_A = Application.__table__.c  # type: ignore[attr-defined]
_Y = ApplicationYear.__table__.c  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Group:
    key: str
    label: str
    applications: int
    requested_cents: int
    approved_cents: int


def aggregates(session: Session, by: AggregateDimension, *, call: str | None = None,
               lang: str = "de") -> list[Group]:
    """One line per value of `by`, ordered by that value."""
    column = {AggregateDimension.module: _A.module_code,
              AggregateDimension.municipality: _A.municipality,
              AggregateDimension.state: _A.state}[by]
    money = (select(_Y.application_id, func.sum(_Y.requested_cents).label("requested"),
                    func.sum(func.coalesce(_Y.approved_cents, 0)).label("approved"))
             .group_by(_Y.application_id).subquery())
    query = (select(column.label("key"), func.count().label("n"),
                    func.coalesce(func.sum(money.c.requested), 0),
                    func.coalesce(func.sum(money.c.approved), 0))
             .select_from(Application.__table__  # type: ignore[attr-defined]
                          .outerjoin(money, money.c.application_id == _A.id))
             .where(_A.state.not_in([s.value for s in HIDDEN_FROM_STAFF]))
             .group_by(column).order_by(column))
    if call:
        query = query.where(_A.call_id == find_call(session, call).id)
    groups = []
    for key, count, requested, approved in session.execute(query):
        label = (STATE_LABELS[State(key)].in_language(lang) if by == AggregateDimension.state
                 else key or ("(ohne Angabe)" if lang != "en" else "(not given)"))
        groups.append(Group(key or "", label, int(count), int(requested), int(approved)))
    return groups


def may_read(actor: Actor) -> None:
    """Staff, admins and the observer; a carrier sees its own applications, not the programme's
    figures."""
    if actor.role not in AGGREGATE_READERS:
        raise NotPermitted("Die Programmzahlen sehen nur die Behörde und die Begleitung.",
                           "Only the authority and the observer see the programme's figures.")
