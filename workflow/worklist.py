"""The worklist (issue 15): the applications an actor may see, with case officer, next due date
and the requested and approved amounts, filtered, searched, sorted and paged in one statement
(and one count). Staff never see a carrier's unsubmitted draft; the observer sees no list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlmodel import Session

from states import STATE_LABELS, DeadlineStatus, Role, State
from states.staff import ARRIVAL_TRIGGERS, ASSIGNABLE_STATES, HIDDEN_FROM_STAFF, WorklistSort
from workflow import deadlines
from workflow.access import refuse_observer
from workflow.models import (
    Application,
    ApplicationYear,
    Call,
    Deadline,
    Document,
    Organisation,
    TransitionRecord,
    User,
)
from workflow.presenters import euros
from workflow.reminders import overdue_filter
from workflow.rows import Actor

_A = Application.__table__.c  # type: ignore[attr-defined]
_Y = ApplicationYear.__table__.c  # type: ignore[attr-defined]
_D = Deadline.__table__.c  # type: ignore[attr-defined]
_T = TransitionRecord.__table__  # type: ignore[attr-defined]
_DOC = Document.__table__.c  # type: ignore[attr-defined]
_CALL = Call.__table__  # type: ignore[attr-defined]
_ORG = Organisation.__table__  # type: ignore[attr-defined]
_USER = User.__table__  # type: ignore[attr-defined]
_OFFICER = _USER.alias("officer")
_UPLOADER = _USER.alias("uploader")


@dataclass(frozen=True, slots=True)
class WorklistFilter:
    """What the worklist may be narrowed to; None or False means 'any'."""

    state: State | None = None
    call: str | None = None
    module: str | None = None
    organisation: int | None = None
    municipality: str | None = None
    overdue: bool | None = None
    escalated: bool | None = None
    text: str | None = None
    mine: bool = False
    unassigned: bool = False
    waiting_for_me: bool = False
    case_officer: int | None = None


@dataclass(frozen=True, slots=True)
class WorklistRow:
    """One line of the worklist."""

    application: Any  # the Core row of the application's columns
    call: str
    organisation: str
    case_officer_name: str | None
    next_due_date: date | None
    requested_cents: int
    approved_cents: int | None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class WorklistPage:
    items: list[WorklistRow]
    total: int
    limit: int
    offset: int
    sort: WorklistSort
    descending: bool


def _like(text_: str) -> str:
    escaped = text_.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


_NEXT_DUE = (select(func.min(_D.due_date))
             .where(_D.application_id == _A.id, _D.status == DeadlineStatus.open.value)
             .correlate(Application.__table__).scalar_subquery())  # type: ignore[attr-defined]
_REQUESTED = (select(func.coalesce(func.sum(_Y.requested_cents), 0))
              .where(_Y.application_id == _A.id)
              .correlate(Application.__table__).scalar_subquery())  # type: ignore[attr-defined]
_APPROVED = (select(func.sum(_Y.approved_cents))
             .where(_Y.application_id == _A.id)
             .correlate(Application.__table__).scalar_subquery())  # type: ignore[attr-defined]


def waiting_for(actor_id: int) -> Any:
    """SQL condition: the actor is the case officer and something came in (documents, a report,
    a hearing reply: a carrier's act, or an upload by the carrier) after the actor's own last
    act on the case.

    Written as "the latest arrival is later than my latest act", three correlated MAX
    subqueries that each read one index range of the case (transition_record by application,
    trigger and time or by application, actor and time; document by application), so the cost
    follows the actor's own cases and not the size of the history table."""
    mine = _T.alias("mine")
    arrival = _T.alias("arrival")
    my_last = (select(func.max(mine.c.at))
               .where(mine.c.application_id == _A.id, mine.c.actor_id == actor_id)
               .correlate(Application.__table__).scalar_subquery())  # type: ignore[attr-defined]
    last_act = (select(func.max(arrival.c.at))
                .where(arrival.c.application_id == _A.id,
                       arrival.c.trigger.in_(ARRIVAL_TRIGGERS))
                .correlate(Application.__table__).scalar_subquery())  # type: ignore[attr-defined]
    last_upload = (select(func.max(_DOC.uploaded_at))
                   .select_from(Document.__table__.join(  # type: ignore[attr-defined]
                       _UPLOADER, _UPLOADER.c.id == _DOC.uploaded_by_id))
                   .where(_DOC.application_id == _A.id, _UPLOADER.c.role == Role.carrier.value)
                   .correlate(Application.__table__).scalar_subquery())  # type: ignore[attr-defined]
    came_in = or_(
        and_(my_last.is_(None), or_(last_act.is_not(None), last_upload.is_not(None))),
        last_act > my_last, last_upload > my_last)
    return and_(_A.case_officer_id == actor_id, came_in)


def _conditions(actor: Actor, where: WorklistFilter, today: date) -> list[Any]:
    found: list[Any] = []
    if actor.role == Role.carrier:
        found.append(_A.organisation_id == actor.organisation_id)
    else:
        found.append(_A.state.not_in([s.value for s in HIDDEN_FROM_STAFF]))
    if where.state is not None:
        found.append(_A.state == where.state.value)
    if where.call:
        found.append(_CALL.c.code == where.call)
    if where.module:
        found.append(_A.module_code == where.module)
    if where.organisation is not None:
        found.append(_A.organisation_id == where.organisation)
    if where.municipality:
        found.append(_A.municipality == where.municipality)
    if where.mine:
        found.append(_A.case_officer_id == actor.id)
    if where.case_officer is not None:
        found.append(_A.case_officer_id == where.case_officer)
    if where.unassigned:  # open cases nobody has taken (decided ones need nobody)
        found.append(_A.case_officer_id.is_(None))
        found.append(_A.state.in_([s.value for s in ASSIGNABLE_STATES]))
    if where.waiting_for_me and actor.id is not None:
        found.append(waiting_for(actor.id))
    if where.overdue is not None:
        late = exists().where(_D.application_id == _A.id,
                              _D.status == DeadlineStatus.open.value, _D.due_date < today)
        found.append(late if where.overdue else ~late)
    if where.escalated is not None:
        found.append(overdue_filter() if where.escalated else ~overdue_filter())
    if where.text and where.text.strip():
        pattern = _like(where.text.strip())
        found.append(or_(*(column.ilike(pattern, escape="\\") for column in (
            _A.reference, _A.title, _A.summary, _A.quartier, _ORG.c.name))))
    return found


_SORT_KEYS = {
    WorklistSort.due: _NEXT_DUE,
    WorklistSort.received: _A.received_at,
    WorklistSort.reference: _A.reference,
    WorklistSort.requested: _REQUESTED,
    WorklistSort.approved: _APPROVED,
}


def worklist_page(session: Session, actor: Actor, where: WorklistFilter, *,
                  sort: WorklistSort = WorklistSort.received, descending: bool = False,
                  limit: int = 50, offset: int = 0,
                  today: date | None = None) -> WorklistPage:
    """One page of the worklist and how many lines there are in all. Rows without a value of
    the sort key (no open deadline, not yet approved) come last in either direction; the id
    breaks ties, so paging is stable."""
    refuse_observer(actor)
    today = today or deadlines.local_date(datetime.now(UTC))
    conditions = _conditions(actor, where, today)
    base = (Application.__table__  # type: ignore[attr-defined]
            .join(_CALL, _CALL.c.id == _A.call_id)
            .join(_ORG, _ORG.c.id == _A.organisation_id))
    key = _SORT_KEYS[sort]
    # "No value last" only where a key can be empty: an ORDER BY that starts with a computed
    # term cannot walk an index. Staff see no drafts, so every case they see has a receipt.
    nullable = sort in (WorklistSort.due, WorklistSort.requested, WorklistSort.approved) or (
        sort == WorklistSort.received and actor.role == Role.carrier)
    order = [key.desc() if descending else key.asc(),
             _A.id.desc() if descending else _A.id.asc()]
    if nullable:
        order.insert(0, key.is_(None))
    query = (select(*_A, _CALL.c.code.label("call_code"), _ORG.c.name.label("organisation_name"),
                    _OFFICER.c.name.label("officer_name"), _NEXT_DUE.label("next_due"),
                    _REQUESTED.label("requested"), _APPROVED.label("approved"))
             .select_from(base.outerjoin(_OFFICER, _OFFICER.c.id == _A.case_officer_id))
             .where(*conditions).order_by(*order).limit(limit).offset(offset))
    # The count joins the call and the organisation only when a condition reads them.
    needs_joins = bool(where.call) or bool(where.text and where.text.strip())
    counted = select(func.count()).select_from(
        base if needs_joins else Application.__table__).where(  # type: ignore[attr-defined]
        *conditions)
    total = session.execute(counted).scalar_one()
    rows = session.execute(query).all()
    items = [WorklistRow(row, row.call_code, row.organisation_name, row.officer_name,
                         row.next_due, int(row.requested or 0),
                         None if row.approved is None else int(row.approved)) for row in rows]
    return WorklistPage(items, int(total), limit, offset, sort, descending)


def all_rows(session: Session, actor: Actor, where: WorklistFilter, *,
             sort: WorklistSort = WorklistSort.received, descending: bool = False,
             chunk: int = 500) -> list[WorklistRow]:
    """Every line of the filtered worklist (for exports), page by page."""
    rows: list[WorklistRow] = []
    offset = 0
    while True:
        page = worklist_page(session, actor, where, sort=sort, descending=descending,
                             limit=chunk, offset=offset)
        rows.extend(page.items)
        offset += chunk
        if offset >= page.total or not page.items:
            return rows


__all__ = ["WorklistFilter", "WorklistPage", "WorklistRow", "all_rows",
           "waiting_for", "worklist_item", "worklist_page"]


def worklist_item(row: WorklistRow, lang: str) -> dict[str, Any]:
    """A worklist line as the API and the exports show it."""
    a = row.application
    return {
        "id": a.id, "reference": a.reference, "call": row.call,
        "module_code": a.module_code, "organisation_id": a.organisation_id,
        "organisation": row.organisation, "municipality": a.municipality,
        "quartier": a.quartier, "title": a.title, "state": a.state,
        "state_label": STATE_LABELS[State(a.state)].in_language(lang),
        "version": a.version, "received_at": a.received_at, "updated_at": a.updated_at,
        "case_officer_id": a.case_officer_id, "case_officer_name": row.case_officer_name,
        "next_due_date": row.next_due_date, "requested": euros(row.requested_cents),
        "approved": euros(row.approved_cents),
    }
