"""iCalendar feeds: each carrier organisation's open deadlines at a secret URL (no login)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from icalendar import Alarm, Calendar, Event
from sqlmodel import Session, select

from states import DEADLINE_LABELS, DeadlineKind, DeadlineStatus
from workflow.errors import NotFound
from workflow.models import Application, Deadline, Organisation

FEED_PATH = "/api/v1/calendar/{token}.ics"
PRODID = "-//Quartier//Fristen//DE"


def feed_path(token: str) -> str:
    return FEED_PATH.format(token=token)


def ensure_token(session: Session, organisation: Organisation) -> str:
    """The organisation's secret feed token, created on first use."""
    if not organisation.calendar_token:
        organisation.calendar_token = secrets.token_urlsafe(24)
        session.add(organisation)
        session.flush()
    return organisation.calendar_token


def rotate_token(session: Session, organisation: Organisation) -> str:
    """A new secret token; the old URL stops working at once."""
    organisation.calendar_token = secrets.token_urlsafe(24)
    session.add(organisation)
    session.flush()
    return organisation.calendar_token


def organisation_by_token(session: Session, token: str) -> Organisation:
    """The organisation whose feed this is; an unknown token is simply 'not found'."""
    organisation = None
    if token and len(token) <= 200:
        organisation = session.exec(
            select(Organisation).where(Organisation.calendar_token == token)).first()
    if organisation is None:
        raise NotFound("Dieser Kalender existiert nicht.", "This calendar does not exist.")
    return organisation


def open_deadlines_of(session: Session, organisation_id: int) -> list[tuple[Deadline, Application]]:
    return list(session.exec(
        select(Deadline, Application).join(Application, Application.id == Deadline.application_id)
        .where(Application.organisation_id == organisation_id,
               Deadline.status == DeadlineStatus.open)
        .order_by(Deadline.due_date, Deadline.id)).all())


def organisation_calendar(session: Session, organisation: Organisation,
                          now: datetime | None = None) -> bytes:
    """The feed: one all-day event per open deadline, with a reminder a week before."""
    now = now or datetime.now(UTC)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"Quartier – Fristen {organisation.name}")
    cal.add("x-wr-timezone", "Europe/Berlin")
    for deadline, app in open_deadlines_of(session, organisation.id):
        label = DEADLINE_LABELS[DeadlineKind(deadline.kind)]
        period = f" {deadline.period}" if deadline.period else ""
        event = Event()
        event.add("uid", f"deadline-{deadline.id}@quartier")
        event.add("dtstamp", now.astimezone(UTC))
        event.add("dtstart", deadline.due_date)
        event.add("dtend", deadline.due_date + timedelta(days=1))
        event.add("summary", f"{label.de}{period}: {app.reference} – {app.title}")
        event.add("description",
                  f"Frist: {label.de}{period} ({label.en}), fällig am "
                  f"{deadline.due_date:%d.%m.%Y}.\nAntrag {app.reference}: {app.title}")
        event.add("categories", [label.de])
        event.add("transp", "TRANSPARENT")
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"{label.de}{period} {app.reference} in einer Woche fällig")
        alarm.add("trigger", timedelta(days=-7))
        event.add_component(alarm)
        cal.add_component(event)
    return cal.to_ical()


def calendar_for_token(session: Session, token: str, now: datetime | None = None) -> bytes:
    return organisation_calendar(session, organisation_by_token(session, token), now)


__all__ = ["feed_path", "ensure_token", "rotate_token", "organisation_by_token",
           "organisation_calendar", "calendar_for_token", "open_deadlines_of"]
