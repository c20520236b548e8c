"""What the staff pages read about one case: the application for staff, its whole history in the
authority's words, deadlines with the reminders sent and the grace periods set, the case
officer and who reviewed it (four-eyes). Rules stay in the workflow; this only reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import Request
from sqlmodel import Session, select

from api.portal.i18n import filters, request_language
from states import (
    DEADLINE_LABELS,
    HISTORY_TRIGGERS,
    ROLE_LABELS,
    STATE_LABELS,
    STEP_LABELS,
    TRANSITIONS_BY_TRIGGER,
    DeadlineKind,
    DeadlineStatus,
    Role,
    State,
)
from states.deadlines import BEFORE_STEP_PREFIX
from states.labels import Label
from states.staff import CASE_OFFICER_ROLES
from workflow import assignment, repository
from workflow.access import read_application
from workflow.errors import NotFound
from workflow.models import Application, Deadline, TransitionRecord, User
from workflow.reminder_tables import ReminderSent
from workflow.repository import connection
from workflow.rows import Actor

DB_ID_MAX = 2**31 - 1


def staff_application(session: Session, reference: str, actor: Actor) -> Application:
    """The application as staff may read it (no drafts; the observer none)."""
    if reference.isascii() and reference.isdigit() and int(reference) > DB_ID_MAX:
        raise NotFound(f"Antrag {reference} wurde nicht gefunden.",
                       f"Application {reference} was not found.")
    return read_application(session, reference, actor)


def _label_of(trigger: str) -> Label | None:
    spec = TRANSITIONS_BY_TRIGGER.get(trigger)
    if spec is not None:
        return spec.label
    action = HISTORY_TRIGGERS.get(trigger)
    return action.label if action is not None else None


@dataclass
class HistoryLine:
    at: datetime
    what: str
    who: str
    role: str
    state: str | None
    reason: str | None
    details: list[str]
    late: bool


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


def history(request: Request, session: Session, app: Application) -> list[HistoryLine]:
    """Every history row, newest first: what, who (name and role), the reason and the data
    (requested documents, amounts, deadlines, uploads)."""
    lang = request_language(request)
    money = filters(lang)["money"]
    records = list(session.exec(select(TransitionRecord).where(
        TransitionRecord.application_id == app.id).order_by(TransitionRecord.at.desc(),
                                                            TransitionRecord.id.desc())))
    names = _names(session, {r.actor_id for r in records if r.actor_id is not None})
    out = []
    for r in records:
        label = _label_of(r.trigger)
        role = Role(r.actor_role) if r.actor_role in Role.__members__ else Role.system
        details: list[str] = []
        payload = r.payload or {}
        details += [str(d) for d in payload.get("documents") or [] if not str(d).isdigit()]
        details += [str(f.get("filename")) for f in payload.get("document_files") or []
                    if isinstance(f, dict)]
        for key in ("amounts_cents", "spending_cents"):
            for year, cents in sorted((payload.get(key) or {}).items()):
                details.append(f"{year}: {money(cents)}")
        changed = r.from_state != r.to_state
        out.append(HistoryLine(
            r.at, label.in_language(lang) if label else r.trigger,
            names.get(r.actor_id, "") if r.actor_id else ROLE_LABELS[Role.system].in_language(lang),
            ROLE_LABELS[role].in_language(lang),
            STATE_LABELS[State(r.to_state)].in_language(lang) if changed and r.to_state else None,
            r.reason or payload.get("explanation"), details, r.late))
    return out


@dataclass
class DeadlineLine:
    label: str
    due_date: Any
    status: str
    open: bool
    reminders: list[dict[str, Any]]


def _step_label(step: str, lang: str) -> str:
    label = STEP_LABELS.get(step)
    if label is not None:
        return label.in_language(lang)
    if step.startswith(BEFORE_STEP_PREFIX):
        days = step[len(BEFORE_STEP_PREFIX):]
        return f"Erinnerung {days} Tage vorher" if lang == "de" else f"Reminder {days} days before"
    return step


_STATUS_LABELS = {DeadlineStatus.open.value: Label("offen", "open"),
                  DeadlineStatus.met.value: Label("erledigt", "met"),
                  DeadlineStatus.cancelled.value: Label("aufgehoben", "cancelled")}


def deadlines_with_reminders(request: Request, session: Session,
                             app: Application) -> list[DeadlineLine]:
    """Every deadline of the case, with each reminder step sent or skipped and the grace
    period (Nachfrist) a formal reminder set."""
    lang = request_language(request)
    rows = list(session.exec(select(Deadline).where(Deadline.application_id == app.id)
                             .order_by(Deadline.due_date, Deadline.id)))
    sent: dict[int, list[ReminderSent]] = {}
    for row in session.exec(select(ReminderSent).where(
            ReminderSent.application_id == app.id).order_by(ReminderSent.at)):
        sent.setdefault(row.deadline_id, []).append(row)
    out = []
    for d in rows:
        label = DEADLINE_LABELS[DeadlineKind(d.kind)].in_language(lang)
        status = _STATUS_LABELS.get(d.status)
        out.append(DeadlineLine(
            f"{label} {d.period}".strip(), d.due_date,
            status.in_language(lang) if status else d.status,
            d.status == DeadlineStatus.open.value,
            [{"step": _step_label(s.step, lang), "at": s.at, "status": s.status,
              "grace_until": s.grace_until, "recipient": s.recipient}
             for s in sent.get(d.id or 0, [])]))
    return out


def reviewer_names(session: Session, app: Application) -> list[str]:
    """Who did review work on the case (the four-eyes rule reads the same)."""
    ids = {i for i in repository.reviewers(connection(session), app.id) if i is not None}
    if app.case_officer_id:
        ids.add(app.case_officer_id)
    return sorted(_names(session, ids).values())


def officer_choices(session: Session, actor: Actor) -> list[tuple[str, str]] | None:
    """The accounts a case may be assigned to, if the actor may assign (else None)."""
    if not assignment.may_assign(session, actor):
        return None
    users = session.exec(select(User).where(
        User.role.in_([r.value for r in CASE_OFFICER_ROLES]),
        User.disabled == False).order_by(User.name))  # noqa: E712
    return [(str(u.id), f"{u.name} ({ROLE_LABELS[Role(u.role)].in_language('de')})")
            for u in users]


def officer_name(session: Session, app: Application) -> str | None:
    if app.case_officer_id is None:
        return None
    user = session.get(User, app.case_officer_id)
    return user.name if user else None


def amount_text(cents: int) -> str:
    """Cents as the money fields take them back (German notation, no thousands dots)."""
    return f"{cents // 100},{cents % 100:02d}"
