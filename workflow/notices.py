"""Who is told what: the carrier emails of transitions and actions, the case officer's email of
a carrier's act, and the carriers told of a funding stop. Each email is written to the outbox in
the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from notifications.outbox import enqueue
from states import (
    CASE_OFFICER_EMAIL,
    CASE_OFFICER_NOTICES,
    DEADLINE_LABELS,
    STATE_LABELS,
    DeadlineKind,
    DeadlineStatus,
    State,
    StopNotice,
)
from workflow import repository
from workflow.links import with_link
from workflow.models import Application, Call, Deadline, Programme, TransitionRecord, User
from workflow.repository import connection
from workflow.rows import (
    ApplicationRow,
    ApplicationSummary,
    CallRow,
    DeadlineRow,
    JsonValue,
    ProgrammeRow,
    UserRow,
    YearRow,
)

Context = dict[str, JsonValue]


def base_context(programme: ProgrammeRow | Programme, app: ApplicationRow | ApplicationSummary
                 | Application, user: UserRow | User) -> Context:
    """What every carrier email says: programme, contact, reference, title, recipient, state."""
    return {
        "programme_name": programme.name,
        "programme_code": programme.code,
        "contact_name": programme.contact_name,
        "contact_email": programme.contact_email,
        "reference": app.reference,
        "title": app.title,
        "recipient_name": user.name,
        "state": app.state,
        "state_label": STATE_LABELS[State(app.state)].in_language(user.language),
    }


def email_carrier(
    session: Session,
    app: ApplicationRow | Application,
    programme: ProgrammeRow | Programme,
    template: str,
    record: TransitionRecord,
    opened: list[DeadlineRow] | list[Deadline],
    now: datetime,
    years: dict[int, YearRow] | None = None,
    carrier: UserRow | None = None,
    officer: UserRow | None = None,
    deadlines_of_app: list[DeadlineRow] | None = None,
    attachments: list[dict[str, str]] | None = None,
    extra: dict[str, object] | None = None,
) -> None:
    """Queue `template` for the application's carrier contact, about the change in `record`.

    `carrier`, `officer`, `years` and `deadlines_of_app` are read here unless given;
    `attachments` are references to the document store (the transition's notice)."""
    conn = connection(session)
    user = carrier or repository.user(conn, app.created_by_id)
    if user is None or user.disabled:
        return
    years = years if years is not None else repository.years_of(conn, app.id)
    case_officer = officer or repository.user(conn, app.case_officer_id)
    if not opened:
        every = deadlines_of_app if deadlines_of_app is not None else repository.deadlines_of(
            conn, app.id)
        opened = sorted((d for d in every if d.status == DeadlineStatus.open),
                        key=lambda d: d.due_date)
    context = {
        **base_context(programme, app, user),
        "trigger": record.trigger,
        "reason": record.reason or "",
        "at": record.at.isoformat(),
        "case_officer_name": case_officer.name if case_officer else programme.contact_name,
        "case_officer_email": case_officer.email if case_officer else programme.contact_email,
        "documents": record.payload.get("documents", []),
        "years": [
            {
                "year": y,
                "requested_cents": r.requested_cents,
                "approved_cents": r.approved_cents or 0,
                "spent_cents": r.spent_cents or 0,
            }
            for y, r in sorted(years.items())
        ],
        "approved_total_cents": sum(r.approved_cents or 0 for r in years.values()),
        "released_cents": int(record.payload.get("released_cents", 0)),
        "repayment_cents": int(record.payload.get("repayment_cents", 0)),
        "deadlines": [
            {
                "kind": d.kind,
                "period": d.period,
                "due_date": d.due_date.isoformat(),
                "label": DEADLINE_LABELS[DeadlineKind(d.kind)].in_language(user.language),
            }
            for d in opened
        ],
        "late": record.late,
    }
    if "claim" in record.payload:  # a revocation's repayment claim (workflow.claims)
        context["claim"] = record.payload["claim"]
    if record.payload.get("partial"):  # a hearing about a partial revocation
        context["partial"] = True
    if attachments:
        context["attachments"] = [a["filename"] for a in attachments]
    context.update(extra or {})  # JSON values only: the context is stored with the message
    enqueue(
        conn,
        template=template,
        recipient=user.email,
        language=user.language,
        context=with_link(session, template, user.language, context),
        application_id=app.id,
        now=now,
        attachments=attachments,
    )


def email_case_officer(
    session: Session,
    app: ApplicationRow | Application,
    programme: ProgrammeRow | Programme,
    record: TransitionRecord,
    now: datetime,
    message: str = "",
    officer: UserRow | None = None,
    carrier: UserRow | None = None,
) -> int | None:
    """Tell the application's case officer, in their language, of the carrier's act `record`
    if it is one the officer hears of (`CASE_OFFICER_NOTICES`); the outbox id, or None when
    there is nobody to tell (no case officer yet, or a disabled one).

    `officer` and `carrier` are read here unless given."""
    what = CASE_OFFICER_NOTICES.get(record.trigger)
    if what is None or app.case_officer_id is None:
        return None
    conn = connection(session)
    if officer is None or officer.id != app.case_officer_id:
        officer = repository.user(conn, app.case_officer_id)
    if officer is None or officer.disabled:
        return None
    carrier = carrier or repository.user(conn, app.created_by_id)
    period = record.payload.get("period") or ""
    received = what.in_language(officer.language) + (f" {period}" if period else "")
    context: Context = {
        **base_context(programme, app, officer),
        "trigger": record.trigger,
        "received_label": received,
        "at": record.at.isoformat(),
        "late": bool(record.late),
        "message": message,
        "documents": list(record.payload.get("documents", [])),
        "carrier_name": carrier.name if carrier else "",
    }
    return enqueue(conn, template=CASE_OFFICER_EMAIL, recipient=officer.email,
                   language=officer.language, context=context, application_id=app.id, now=now)


def email_officer_of_decision(
    session: Session,
    app: ApplicationRow | Application,
    programme: ProgrammeRow | Programme,
    record: TransitionRecord,
    now: datetime,
    template: str,
    actor: Any,
    officer: UserRow | None = None,
) -> int | None:
    """Tell the case officer, in their language, that a staff decision sent the case back to
    them (the approver returned it to review), with the reason; None when there is nobody to
    tell or the officer did it themselves."""
    if app.case_officer_id is None or app.case_officer_id == actor.id:
        return None
    conn = connection(session)
    if officer is None or officer.id != app.case_officer_id:
        officer = repository.user(conn, app.case_officer_id)
    if officer is None or officer.disabled:
        return None
    context: Context = {
        **base_context(programme, app, officer),
        "trigger": record.trigger,
        "at": record.at.isoformat(),
        "reason": record.reason or "",
        "decided_by": actor.name or "",
    }
    return enqueue(conn, template=template, recipient=officer.email,
                   language=officer.language, context=context, application_id=app.id, now=now)


def tell_carriers(
    session: Session,
    call: CallRow | Call,
    programme: ProgrammeRow | Programme,
    notice: StopNotice,
    since: datetime,
    extra: Context,
) -> None:
    """One email per carrier contact with an application of the call in the notice's states
    (deduplicated per call, moment and user, so each carrier hears of one stop or lift once)."""
    conn = connection(session)
    told: set[int] = set()
    for app, user in repository.carrier_contacts(conn, call.id, [s.value for s in notice.states]):
        if user.disabled or user.id in told:
            continue
        told.add(user.id)
        enqueue(
            conn,
            template=notice.email,
            recipient=user.email,
            language=user.language,
            application_id=app.id,
            dedupe_key=f"{notice.email}:{call.id}:{since.isoformat()}:{user.id}",
            context=with_link(session, notice.email, user.language, {
                **base_context(programme, app, user), "call_title": call.title, **extra}),
        )

