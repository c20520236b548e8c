"""What the carrier's case page shows, read from the workflow: the application, what is
requested now, the timeline in plain words, the actions the engine allows and the case file.

No rule is decided here: what the carrier may do comes from `engine.available_triggers`, the
reason why not from the engine's refusal."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import StreamingResponse
from sqlmodel import Session, select

from api.portal.i18n import _, filters, request_language
from states import (
    DEADLINE_LABELS,
    TRANSITIONS_BY_TRIGGER,
    DeadlineKind,
    DeadlineStatus,
    Role,
    State,
)
from states.documents import DOCUMENT_PURPOSE_LABELS, DocumentPurpose
from states.guidance import CARRIER_NEXT_STEP
from workflow import engine, uploads
from workflow.applications import load_application
from workflow.documents import case_file
from workflow.errors import NotFound, WorkflowError, WrongState
from workflow.models import (
    Application,
    ApplicationYear,
    Call,
    Deadline,
    Document,
    Module,
    TransitionRecord,
    User,
)
from workflow.reminder_tables import ReminderSent
from workflow.rows import Actor
from workflow.storage import read_chunks

DB_ID_MAX = 2**31 - 1

# Where the carrier answers each kind of deadline (a path below /antraege/{reference}).
ANSWER_PAGE: dict[DeadlineKind, str] = {
    DeadlineKind.document_request: "unterlagen",
    DeadlineKind.interim_report: "zwischennachweis",
    DeadlineKind.final_report: "verwendungsnachweis",
    DeadlineKind.report_changes: "verwendungsnachweis",
    DeadlineKind.hearing_reply: "anhoerung",
}
# The carrier's transitions that have a page of their own.
TRIGGER_PAGE = {"provide_documents": "unterlagen", "submit_final_report": "verwendungsnachweis",
                "answer_hearing": "anhoerung", "withdraw": "zurueckziehen"}


def _msg(text: str) -> str:
    """Marks a German msgid for the catalog; translated when shown."""
    return text


# The timeline in the carrier's words: what happened (never an internal trigger name).
TIMELINE_TEXT: dict[str, str] = {
    "create": _msg("Antrag angelegt"),
    "submit": _msg("Antrag eingereicht"),
    "start_review": _msg("Die Prüfung des Antrags hat begonnen"),
    "request_documents": _msg("Unterlagen nachgefordert"),
    "provide_documents": _msg("Unterlagen nachgereicht"),
    "recommend": _msg("Der Antrag wurde zur Bewilligung vorgeschlagen"),
    "approve": _msg("Antrag bewilligt: der Zuwendungsbescheid liegt in der Akte"),
    "waitlist": _msg("Der Antrag steht auf der Warteliste"),
    "reoffer": _msg("Der Antrag wurde erneut zur Bewilligung vorgelegt"),
    "reject": _msg("Antrag abgelehnt: die Begründung steht im Bescheid in der Akte"),
    "withdraw": _msg("Antrag zurückgezogen"),
    "start": _msg("Projekt begonnen"),
    "submit_final_report": _msg("Verwendungsnachweis eingereicht"),
    "request_report_changes": _msg("Nachbesserung des Verwendungsnachweises angefordert"),
    "close": _msg("Vorgang abgeschlossen"),
    "open_hearing": _msg("Anhörung vor einem Widerruf eingeleitet"),
    "answer_hearing": _msg("Stellungnahme zur Anhörung abgegeben"),
    "revoke": _msg("Zuwendung widerrufen: die Rückforderung steht im Bescheid in der Akte"),
    "submit_interim_report": _msg("Zwischennachweis eingereicht"),
    "accept_interim_report": _msg("Zwischennachweis anerkannt"),
    "request_interim_report_changes": _msg("Nachbesserung des Zwischennachweises angefordert"),
    "grant_early_start": _msg("Vorzeitiger Maßnahmebeginn genehmigt"),
    "waive_appeal": _msg("Auf Rechtsbehelfe verzichtet: der Bescheid ist bestandskräftig"),
    "set_notification_date": _msg("Bekanntgabedatum des Bescheids festgehalten"),
    "call_funds": _msg("Mittel abgerufen"),
    "check_funds_call": _msg("Mittelabruf sachlich richtig gezeichnet"),
    "order_payment": _msg("Auszahlung angeordnet"),
}
# Steps whose reason is written for the carrier (a request, a refusal, its own words); the
# assessment of a recommendation and other internal notes are never shown.
REASON_FOR_CARRIER = frozenset({
    "request_documents", "request_report_changes", "request_interim_report_changes",
    "open_hearing", "answer_hearing", "withdraw", "reject", "grant_early_start"})
WHO_TEXT: dict[str, str] = {
    Role.reviewer.value: _msg("Bewilligungsbehörde (Sachbearbeitung)"),
    Role.approver.value: _msg("Bewilligungsbehörde (Bewilligung)"),
    Role.admin.value: _msg("Bewilligungsbehörde (Programmverwaltung)"),
    Role.system.value: _msg("Quartier (automatisch)"),
}
REMINDER_TEXT = _msg("Erinnerung an die Frist „%(frist)s“ (fällig am %(due)s)")
GRACE_TEXT = _msg("Mahnung mit Nachfrist bis %(grace)s: „%(frist)s“")


@dataclass
class Requested:
    """One open deadline: what is asked, why, by when, and where to answer it."""

    deadline: Deadline
    label: str
    reason: str | None
    items: list[str]
    grace_until: date | None
    overdue: bool
    page: str | None


@dataclass
class Event:
    at: datetime
    what: str
    who: str
    reason: str | None = None
    items: list[str] = field(default_factory=list)
    late: bool = False


@dataclass
class Offer:
    """An action the carrier may take now (page), or one it may not, with the engine's reason."""

    label: str
    page: str
    reason: str | None = None


def application_of(session: Session, reference: str, actor: Actor) -> Application:
    """The application the carrier may see; another organisation's is 'not found'."""
    if reference.isascii() and reference.isdigit() and int(reference) > DB_ID_MAX:
        raise NotFound(f"Antrag {reference} wurde nicht gefunden.",
                       f"Application {reference} was not found.")
    return load_application(session, reference, actor)


def years_of(session: Session, app: Application) -> list[ApplicationYear]:
    return list(session.exec(select(ApplicationYear).where(
        ApplicationYear.application_id == app.id).order_by(ApplicationYear.year)))


def open_deadlines(session: Session, app: Application) -> list[Deadline]:
    return list(session.exec(select(Deadline).where(
        Deadline.application_id == app.id, Deadline.status == DeadlineStatus.open.value)
        .order_by(Deadline.due_date, Deadline.id)))


def _items(payload: dict[str, Any] | None) -> list[str]:
    documents = (payload or {}).get("documents")
    if isinstance(documents, list):
        return [str(d) for d in documents if not str(d).isdigit()]
    return []


def requested_now(request: Request, session: Session, app: Application,
                  today: date) -> list[Requested]:
    lang = request_language(request)
    deadlines = open_deadlines(session, app)
    if not deadlines:
        return []
    openers = {r.id: r for r in session.exec(select(TransitionRecord).where(
        TransitionRecord.id.in_([d.opened_by_id for d in deadlines if d.opened_by_id])))}
    graces: dict[int, date] = {}
    for row in session.exec(select(ReminderSent).where(
            ReminderSent.deadline_id.in_([d.id for d in deadlines]))):
        deadline = next(d for d in deadlines if d.id == row.deadline_id)
        if row.grace_until and row.due_date == deadline.due_date:
            graces[row.deadline_id] = max(row.grace_until, graces.get(row.deadline_id,
                                                                      row.grace_until))
    out = []
    for d in deadlines:
        kind = DeadlineKind(d.kind)
        opener = openers.get(d.opened_by_id) if d.opened_by_id else None
        reason = opener.reason if opener is not None and kind in (
            DeadlineKind.document_request, DeadlineKind.report_changes,
            DeadlineKind.hearing_reply) else None
        label = DEADLINE_LABELS[kind].in_language(lang)
        if d.period:
            label = f"{label} {d.period}"
        out.append(Requested(d, label, reason, _items(opener.payload if opener else None),
                             graces.get(d.id), d.due_date < today, ANSWER_PAGE.get(kind)))
    return out


def timeline(request: Request, session: Session, app: Application) -> list[Event]:
    """The history in plain words, newest first: transitions, reports and reminders."""
    lang = request_language(request)
    records = list(session.exec(select(TransitionRecord).where(
        TransitionRecord.application_id == app.id).order_by(TransitionRecord.at,
                                                            TransitionRecord.id)))
    carrier_ids = {r.actor_id for r in records if r.actor_role == Role.carrier.value
                   and r.actor_id is not None}
    names = dict(session.execute(select(User.id, User.name).where(
        User.id.in_(carrier_ids))).all()) if carrier_ids else {}
    events = []
    for r in records:
        text = TIMELINE_TEXT.get(r.trigger)
        if text is None:
            continue
        if r.actor_role == Role.carrier.value:
            who = names.get(r.actor_id) or _(request, "Ihre Organisation")
        else:
            who = _(request, WHO_TEXT.get(r.actor_role, WHO_TEXT[Role.reviewer.value]))
        payload = r.payload or {}
        reason = r.reason if r.trigger in REASON_FOR_CARRIER else None
        if r.trigger == "provide_documents" and payload.get("explanation"):
            reason = str(payload["explanation"])
        items = _items(payload) + [str(f.get("filename")) for f in
                                   payload.get("document_files") or [] if isinstance(f, dict)]
        events.append(Event(r.at, _(request, text), who, reason, items, r.late))
    deadlines = {d.id: d for d in session.exec(select(Deadline).where(
        Deadline.application_id == app.id))}
    for row in session.exec(select(ReminderSent).where(
            ReminderSent.application_id == app.id, ReminderSent.status == "sent")):
        deadline = deadlines.get(row.deadline_id)
        if deadline is None:
            continue
        frist = DEADLINE_LABELS[DeadlineKind(deadline.kind)].in_language(lang)
        day = filters(lang)["day"]
        if row.grace_until:
            text = _(request, GRACE_TEXT, frist=frist, grace=day(row.grace_until))
        else:
            text = _(request, REMINDER_TEXT, frist=frist, due=day(row.due_date))
        events.append(Event(row.at, text, _(request, WHO_TEXT[Role.system.value])))
    return sorted(events, key=lambda e: _aware(e.at), reverse=True)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def offers(request: Request, session: Session, app: Application, actor: Actor,
           requested: list[Requested]) -> list[Offer]:
    """The carrier's actions now, as the engine says; a refusal other than 'wrong state' is
    shown with its reason (the action exists in this state, but not yet)."""
    lang = request_language(request)
    out = []
    for trigger, refusal in engine.available_triggers(session, app.id, actor).items():
        if trigger not in TRIGGER_PAGE or isinstance(refusal, WrongState):
            continue
        if refusal is not None and refusal.status == 403 and refusal.type == "not-permitted":
            continue
        label = TRANSITIONS_BY_TRIGGER[trigger].label.in_language(lang)
        out.append(Offer(label, TRIGGER_PAGE[trigger],
                         None if refusal is None else refusal.message(lang)))
    if State(app.state) == State.active and any(
            r.deadline.kind == DeadlineKind.interim_report.value for r in requested):
        out.insert(0, Offer(_(request, "Zwischennachweis einreichen"), "zwischennachweis"))
    return out


def withdraw_refusal(session: Session, app: Application, actor: Actor) -> WorkflowError | None:
    return engine.check(session, app.id, "withdraw", actor)


def documents_of(session: Session, app: Application, lang: str) -> list[dict[str, Any]]:
    return [{"id": d.id, "filename": d.filename, "at": d.uploaded_at, "size": d.size_bytes,
             "purpose": DOCUMENT_PURPOSE_LABELS[DocumentPurpose(d.purpose)].in_language(lang),
             "by_quartier": d.uploaded_by_id is None}
            for d in case_file(session, app.id)]


def call_and_module(session: Session, app: Application) -> tuple[Call | None, str]:
    call = session.get(Call, app.call_id)
    module = session.exec(select(Module).where(
        Module.programme_id == call.programme_id, Module.code == app.module_code)).first() \
        if call else None
    return call, f"{app.module_code} – {module.name}" if module else app.module_code


def next_step(app: Application, lang: str) -> str:
    return CARRIER_NEXT_STEP[State(app.state)].in_language(lang)


def document_of(session: Session, app: Application, document_id: int) -> Document | None:
    document = session.get(Document, document_id)
    if document is None or document.application_id != app.id:
        return None
    return document


def document_download(request: Request, session: Session, app: Application,
                      document_id: str) -> StreamingResponse:
    """One document of `app`'s case file, streamed (carrier and staff pages alike); an id that
    is not a document of this application, or whose file is gone, is a 404."""
    store = request.app.state.settings.document_store()
    document = None
    if document_id.isascii() and document_id.isdigit() and int(document_id) <= DB_ID_MAX:
        document = document_of(session, app, int(document_id))
    if document is None or not store.exists(document.sha256):
        raise NotFound(f"Unterlage {document_id[:20]} wurde nicht gefunden.",
                       f"Document {document_id[:20]} was not found.")
    content = store.open(document.sha256)

    def chunks() -> Iterator[bytes]:
        with content:
            yield from read_chunks(content, 256 * 1024)

    return StreamingResponse(chunks(), media_type=document.content_type, headers={
        "Content-Disposition": uploads.content_disposition(document.filename),
        "Content-Length": str(document.size_bytes), "X-Content-Type-Options": "nosniff"})
