"""Interim reports (Zwischennachweise): records with their own deadline, not application states.

The carrier submits the report of a budget year (narrative and spending to date) while the project
is active; this meets that year's interim_report deadline. The reviewer accepts it or asks for
changes, which re-opens the deadline with the report-changes rule (default 14 days). Each step
writes a history row (the state stays as it is) in the caller's transaction.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from notifications.formatting import money
from states import (
    ACTIONS,
    FINAL_STATES,
    STATE_LABELS,
    ActionName,
    DeadlineStatus,
    InterimReportStatus,
    State,
)
from states.documents import DocumentPurpose
from states.labels import Label
from workflow import budget, documents
from workflow.applications import load_application
from workflow.db import is_postgres
from workflow.deadlines import local_date, next_working_day, rules_for
from workflow.errors import GuardFailed, InvalidInput, NotFound, NotPermitted, WrongState
from workflow.inputs import is_number
from workflow.models import (
    Application,
    ApplicationYear,
    Call,
    Deadline,
    Programme,
    TransitionRecord,
)
from workflow.notices import email_carrier, email_case_officer
from workflow.reminder_tables import InterimReport
from workflow.rows import Actor

SUBMIT = ACTIONS[ActionName.submit_interim_report]
ACCEPT = ACTIONS[ActionName.accept_interim_report]
REQUEST_CHANGES = ACTIONS[ActionName.request_interim_changes]
MAX_NARRATIVE = 20_000


def _now(now: datetime | None) -> datetime:
    now = now or datetime.now(UTC)
    return now if now.tzinfo else now.replace(tzinfo=UTC)


def _app(session: Session, app: Application | int | str, actor: Actor) -> Application:
    if isinstance(app, Application):
        return load_application(session, app.id, actor)
    return load_application(session, app, actor)


def _interim_deadlines(session: Session, app: Application) -> list[Deadline]:
    """The application's interim-report deadlines, locked (PostgreSQL) so that two submissions
    at once cannot both meet the same deadline; SQLite transactions are serial anyway."""
    query = select(Deadline).where(
        Deadline.application_id == app.id, Deadline.kind == SUBMIT.meets.value,
    ).order_by(Deadline.due_date).execution_options(populate_existing=True)
    if is_postgres(session):
        query = query.with_for_update()
    return list(session.exec(query))


def _history(session: Session, app: Application, trigger: str, actor: Actor, now: datetime,
             reason: str | None, payload: dict[str, Any], late: bool = False,
             email: str | None = None, opened: list[Deadline] | None = None) -> TransitionRecord:
    """A history row (the state stays) and, if named, the carrier email, in one transaction."""
    record = TransitionRecord(application_id=app.id, trigger=trigger, from_state=app.state,
                              to_state=app.state, actor_id=actor.id, actor_role=actor.role.value,
                              at=now, reason=reason, late=late, payload=payload)
    session.add(record)
    if email:
        programme = session.get(Programme, session.get(Call, app.call_id).programme_id)
        email_carrier(session, app, programme, email, record, opened or [], now)
        email_case_officer(session, app, programme, record, now)
    return record


def _spending(session: Session, app: Application, raw: Any) -> dict[str, int]:
    if not isinstance(raw, dict) or not raw:
        raise InvalidInput("Bitte die bisherigen Ausgaben je Haushaltsjahr angeben.",
                           "Give the spending to date per budget year.", field="spending")
    approved = {r.year: r.approved_cents or 0 for r in session.exec(
        select(ApplicationYear).where(ApplicationYear.application_id == app.id))
        if r.approved_cents}
    out: dict[str, int] = {}
    for key, value in raw.items():
        try:
            year = int(key)
        except (TypeError, ValueError):
            raise InvalidInput(f"Ausgaben: „{key}“ ist kein Haushaltsjahr.",
                               f"Spending: '{key}' is not a budget year.",
                               field="spending") from None
        if year not in approved:
            raise InvalidInput(
                f"Für {year} wurde nichts bewilligt (bewilligt: "
                f"{', '.join(str(y) for y in sorted(approved))}).",
                f"Nothing was approved for {year}.", field="spending")
        cents = budget.parse_euros(value, f"Ausgaben {year}", f"Spending {year}")
        if cents > approved[year]:
            raise InvalidInput(
                f"{year}: Die Ausgaben übersteigen den bewilligten Betrag "
                f"({money(approved[year])}).",
                f"{year}: spending exceeds the approved amount ({money(approved[year], 'en')}).",
                field="spending")
        out[str(year)] = cents
    return dict(sorted(out.items()))


def submit_interim_report(session: Session, app: Application | int | str, actor: Actor, *,
                          narrative: str, spending: dict[str, Any], period: str | None = None,
                          now: datetime | None = None,
                          document_ids: list[int] | None = None) -> InterimReport:
    """The carrier submits the interim report of one budget year; its deadline is met. It
    carries the uploads named in `document_ids`, or else those answering its deadline."""
    now = _now(now)
    if not SUBMIT.allows(actor.role):
        raise NotPermitted("Nur der Träger reicht Zwischennachweise ein.",
                           "Only the carrier submits interim reports.")
    app = _app(session, app, actor)
    if app.state not in SUBMIT.in_states:
        label = STATE_LABELS[State(app.state)]
        raise WrongState(
            "Zwischennachweise können nur für Projekte in Durchführung eingereicht werden "
            f"(Status: {label.de}).",
            f"Interim reports can only be submitted for active projects (state: {label.en}).",
            state=app.state)
    if not narrative or not narrative.strip():
        raise InvalidInput("Bitte den Sachbericht (Verlauf des Projekts) angeben.",
                           "Give the narrative report.", field="narrative")
    if len(narrative) > MAX_NARRATIVE:
        raise InvalidInput(f"Der Sachbericht darf höchstens {MAX_NARRATIVE} Zeichen haben.",
                           f"The narrative may have at most {MAX_NARRATIVE} characters.",
                           field="narrative")
    deadlines = _interim_deadlines(session, app)
    open_ones = [d for d in deadlines if d.status == DeadlineStatus.open]
    if period is None:
        if not open_ones:
            raise WrongState("Für diesen Antrag ist kein Zwischennachweis offen.",
                             "No interim report is open for this application.")
        deadline = open_ones[0]
    else:
        deadline = next((d for d in deadlines if d.period == str(period)), None)
        if deadline is None:
            raise NotFound(f"Für {period} ist kein Zwischennachweis vorgesehen.",
                           f"No interim report is due for {period}.", field="period")
        if deadline.status != DeadlineStatus.open:
            raise WrongState(f"Der Zwischennachweis für {period} liegt bereits vor.",
                             f"The interim report for {period} has already been submitted.")
    today = local_date(now)
    if is_number(deadline.period) and today < date(int(deadline.period) + 1, 1, 1):
        raise GuardFailed(
            f"Der Zwischennachweis für {deadline.period} kann erst nach Ablauf des "
            "Haushaltsjahres eingereicht werden.",
            f"The interim report for {deadline.period} can only be submitted after the budget "
            "year has ended.", field="period")
    spent = _spending(session, app, spending)
    late = today > deadline.due_date
    carried = documents.carried(session, app.id, [DocumentPurpose.interim_report.value],
                                document_ids, deadline.id, deadline.opened_at,
                                Label("Zwischennachweis", "Interim report"))
    report = InterimReport(application_id=app.id, deadline_id=deadline.id,
                           period=deadline.period, narrative=narrative.strip(),
                           spending_cents=spent, late=late, submitted_at=now,
                           submitted_by_id=actor.id)
    session.add(report)
    deadline.status, deadline.closed_at = DeadlineStatus.met.value, now
    session.add(deadline)
    session.flush()
    payload = {"report_id": report.id, "period": deadline.period, "spending_cents": spent,
               "due_date": deadline.due_date.isoformat(), "late": late}
    if carried:
        payload["document_files"] = documents.named_in_history(carried)
    record = _history(session, app, SUBMIT.history_trigger, actor, now,
                      f"Zwischennachweis {deadline.period}", payload, late=late,
                      email=SUBMIT.email)
    session.flush()
    if carried:
        documents.attach(session, [d.id for d in carried], record.id)
    return report


def _pending(session: Session, app: Application, period: str | None) -> InterimReport:
    query = select(InterimReport).where(InterimReport.application_id == app.id,
                                        InterimReport.status == InterimReportStatus.submitted)
    if period is not None:
        query = query.where(InterimReport.period == str(period))
    query = query.order_by(InterimReport.id).execution_options(populate_existing=True)
    if is_postgres(session):
        query = query.with_for_update()
    report = session.exec(query).first()
    if report is None:
        raise WrongState(
            "Es liegt kein eingereichter, ungeprüfter Zwischennachweis vor"
            + (f" für {period}." if period else "."),
            "There is no submitted interim report awaiting review"
            + (f" for {period}." if period else "."))
    return report


def _staff_check(session: Session, app: Application | int | str, actor: Actor) -> Application:
    if not ACCEPT.allows(actor.role):
        raise NotPermitted("Nur die Sachbearbeitung prüft Zwischennachweise.",
                           "Only reviewers review interim reports.")
    app = _app(session, app, actor)
    if State(app.state) in FINAL_STATES:
        label = STATE_LABELS[State(app.state)]
        raise WrongState(f"Der Antrag ist abgeschlossen (Status: {label.de}).",
                         f"The application is finished (state: {label.en}).", state=app.state)
    return app


def accept_interim_report(session: Session, app: Application | int | str, actor: Actor, *,
                          period: str | None = None, note: str | None = None,
                          now: datetime | None = None) -> InterimReport:
    """The reviewer accepts a submitted interim report; its deadline stays met."""
    now = _now(now)
    app = _staff_check(session, app, actor)
    report = _pending(session, app, period)
    report.status, report.reviewed_at = InterimReportStatus.accepted.value, now
    report.reviewed_by_id = actor.id
    report.review_note = (note or "").strip() or None
    session.add(report)
    _history(session, app, ACCEPT.history_trigger, actor, now,
             report.review_note or f"Zwischennachweis {report.period} anerkannt",
             {"report_id": report.id, "period": report.period}, email=ACCEPT.email)
    session.flush()
    return report


def request_interim_changes(session: Session, app: Application | int | str, actor: Actor, *,
                            reason: str, period: str | None = None, deadline: date | None = None,
                            now: datetime | None = None) -> InterimReport:
    """The reviewer asks for changes; the year's deadline opens again (report-changes rule)."""
    now = _now(now)
    app = _staff_check(session, app, actor)
    if not reason or not reason.strip():
        raise InvalidInput("Bitte begründen, was am Zwischennachweis nachzubessern ist.",
                           "Say what must be changed in the interim report.", field="reason")
    report = _pending(session, app, period)
    today = local_date(now)
    if deadline is not None:
        if deadline <= today:
            raise InvalidInput("Die Frist muss in der Zukunft liegen.",
                               "The deadline must lie in the future.", field="deadline")
        due = next_working_day(deadline)
    else:
        call = session.get(Call, app.call_id)
        programme = session.get(Programme, call.programme_id)
        days = rules_for(programme.config)[REQUEST_CHANGES.rule]["days_after"]
        due = next_working_day(today + timedelta(days=days))
    row = session.get(Deadline, report.deadline_id) if report.deadline_id else None
    if row is None:
        row = Deadline(application_id=app.id, kind=REQUEST_CHANGES.reopens.value,
                       period=report.period, due_date=due, opened_at=now)
    row.due_date, row.status, row.opened_at, row.closed_at = due, DeadlineStatus.open, now, None
    session.add(row)
    report.status, report.reviewed_at = InterimReportStatus.changes_requested.value, now
    report.reviewed_by_id = actor.id
    report.review_note = reason.strip()
    session.add(report)
    session.flush()
    _history(session, app, REQUEST_CHANGES.history_trigger, actor, now, reason.strip(),
             {"report_id": report.id, "period": report.period, "deadline_id": row.id,
              "deadlines": {f"{REQUEST_CHANGES.reopens}:{report.period}": due.isoformat()}},
             email=REQUEST_CHANGES.email, opened=[row])
    session.flush()
    return report


def interim_reports(session: Session, app: Application) -> list[InterimReport]:
    """Every interim report submission of one application, oldest first."""
    return list(session.exec(select(InterimReport).where(
        InterimReport.application_id == app.id).order_by(InterimReport.id)))


def report_dict(report: InterimReport) -> dict[str, Any]:
    return {"id": report.id, "period": report.period, "status": report.status,
            "narrative": report.narrative, "spending_cents": report.spending_cents,
            "late": report.late, "submitted_at": report.submitted_at.isoformat(),
            "reviewed_at": report.reviewed_at.isoformat() if report.reviewed_at else None,
            "review_note": report.review_note}


__all__ = ["submit_interim_report", "accept_interim_report", "request_interim_changes",
           "interim_reports", "report_dict", "InterimReport"]
