"""Finality (Bestandskraft) of the approval notice: its date of notification, the one-month
appeal period, the carrier's waiver of appeal (Rechtsbehelfsverzicht). No payment before it.

The date of notification (Bekanntgabe) is recorded when the notice is issued (the approval; the
notice goes out that day) and staff may set the day it actually reached the carrier. The appeal
period is one month (§ 70 VwGO, § 74 VwGO): it ends on the day of the next month with the same
number (or that month's last day), moved to the next working day in NRW when that is a weekend or
public holiday (§ 31 (3) VwVfG, § 193 BGB) – the same computation as the deadline helpers
(`deadlines.add_months`, `deadlines.next_working_day`, Berlin's calendar). The notice is final
from the day after the period ends, or at once when the carrier waives its right of appeal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session

from notifications import formatting
from states import ACTIONS, STATE_LABELS, ActionName, Role, State
from workflow import deadlines
from workflow.applications import load_application
from workflow.errors import (
    Conflict,
    GuardFailed,
    InvalidInput,
    NotPermitted,
    StaleVersion,
    WrongState,
)
from workflow.models import Application, Call, Programme, TransitionRecord
from workflow.notices import email_carrier
from workflow.rows import Actor, ApplicationRow

WAIVE = ACTIONS[ActionName.waive_appeal]
SET_DATE = ACTIONS[ActionName.set_notification_date]
APPEAL_MONTHS = 1


@dataclass(frozen=True)
class Finality:
    """Where the approval notice stands. `final_on` is the first day it is final."""

    notified_on: date | None
    appeal_ends_on: date | None
    appeal_waived_at: datetime | None
    final_on: date | None

    def is_final(self, today: date) -> bool:
        return self.final_on is not None and today >= self.final_on

    def as_dict(self, today: date, iso: bool = False) -> dict[str, object]:
        """The finality fields; `iso`: dates as ISO strings (JSON-ready)."""
        def when(value: date | datetime | None) -> object:
            return value.isoformat() if iso and value is not None else value
        return {"notified_on": when(self.notified_on),
                "appeal_ends_on": when(self.appeal_ends_on),
                "appeal_waived_at": when(self.appeal_waived_at),
                "final_on": when(self.final_on), "final": self.is_final(today)}


def appeal_ends_on(notified_on: date) -> date:
    """The last day of the one-month appeal period running from `notified_on`."""
    return deadlines.next_working_day(deadlines.add_months(notified_on, APPEAL_MONTHS))


def notified_on_of(app: ApplicationRow | Application) -> date | None:
    """The recorded date of notification; for notices issued before it was recorded, the day of
    the approval (the day the notice was issued)."""
    if app.notified_on is not None:
        return app.notified_on
    return deadlines.local_date(app.approved_at) if app.approved_at else None


def finality_of(app: ApplicationRow | Application) -> Finality:
    notified = notified_on_of(app)
    ends = appeal_ends_on(notified) if notified else None
    waived = app.appeal_waived_at
    final_on = ends + timedelta(days=1) if ends else None
    if waived is not None:
        waived_day = deadlines.local_date(waived)
        final_on = waived_day if final_on is None else min(final_on, waived_day)
    return Finality(notified, ends, waived, final_on)


def require_final(app: ApplicationRow | Application, now: datetime) -> None:
    """Refuse what needs a final notice (a payment) while it is not final."""
    finality, today = finality_of(app), deadlines.local_date(now)
    if finality.is_final(today):
        return
    if finality.final_on is None:
        raise GuardFailed(
            "Es gibt noch keinen Zuwendungsbescheid: Zahlungen erst nach Bewilligung und "
            "Bestandskraft des Bescheids.",
            "There is no approval notice yet: payments only once the notice is final.",
            field="notified_on")
    raise GuardFailed(
        f"Der Zuwendungsbescheid ist erst ab dem {formatting.day(finality.final_on)} "
        "bestandskräftig (Rechtsbehelfsfrist von einem Monat ab Bekanntgabe am "
        f"{formatting.day(finality.notified_on)}). Vorher ist keine Auszahlung möglich, es sei "
        "denn, der Träger verzichtet auf Rechtsbehelfe.",
        f"The approval notice is final from {formatting.day(finality.final_on, 'en')} (one "
        "month for an appeal from its notification on "
        f"{formatting.day(finality.notified_on, 'en')}). No payment before that, unless the "
        "carrier waives its right of appeal.",
        field="final_on", final_on=finality.final_on.isoformat())


def _now(now: datetime | None) -> datetime:
    now = now or datetime.now(UTC)
    return now if now.tzinfo else now.replace(tzinfo=UTC)


def _load(session: Session, reference: Application | int | str, actor: Actor,
          action, expected_version: int | None) -> Application:
    if not action.allows(actor.role):
        who = ("dem Träger" if action.roles == frozenset({Role.carrier})
               else "der Sachbearbeitung und den Zeichnungsbefugten")
        who_en = ("the carrier" if action.roles == frozenset({Role.carrier})
                  else "reviewers and approvers")
        raise NotPermitted(f"„{action.label.de}“ ist nur {who} erlaubt.",
                           f"'{action.label.en}' is only allowed for {who_en}.")
    key = reference.id if isinstance(reference, Application) else reference
    app = load_application(session, key or 0, actor)
    if app.state not in action.in_states or app.approved_at is None:
        label = STATE_LABELS[State(app.state)]
        raise WrongState(
            f"„{action.label.de}“ ist nur für bewilligte Anträge möglich (Status: {label.de}).",
            f"'{action.label.en}' is only possible for approved applications "
            f"(state: {label.en}).", state=app.state)
    if expected_version is not None and app.version != expected_version:
        raise StaleVersion(
            f"Der Antrag wurde inzwischen geändert (Version {app.version}, erwartet "
            f"{expected_version}). Bitte neu laden.",
            f"The application has changed (version {app.version}, expected "
            f"{expected_version}). Please reload.", current_version=app.version)
    return app


def _write(session: Session, app: Application, actor: Actor, action, now: datetime,
           values: dict[str, object], reason: str | None,
           payload: dict[str, object], operator: str | None) -> TransitionRecord:
    changed = session.execute(
        update(Application)
        .where(Application.id == app.id, Application.version == app.version)
        .values(**values, version=app.version + 1, updated_at=now)
        .execution_options(synchronize_session=False))
    if changed.rowcount != 1:
        raise StaleVersion("Der Antrag wurde gleichzeitig geändert. Bitte neu laden.",
                           "The application was changed at the same time. Please reload.")
    app = load_application(session, app.id)
    if operator:
        payload["operator"] = operator
    record = TransitionRecord(application_id=app.id, trigger=action.history_trigger,
                              from_state=app.state, to_state=app.state, actor_id=actor.id,
                              actor_role=actor.role.value, at=now, reason=reason,
                              payload=payload)
    session.add(record)
    session.flush()
    programme = session.get(Programme, session.get(Call, app.call_id).programme_id)
    email_carrier(session, app, programme, action.email, record, [], now,
                  extra=finality_of(app).as_dict(deadlines.local_date(now), iso=True))
    return record


def waive_appeal(session: Session, reference: Application | int | str, actor: Actor, *,
                 now: datetime | None = None, expected_version: int | None = None,
                 operator: str | None = None) -> TransitionRecord:
    """The carrier waives its right of appeal: the notice is final at once. Refusals write
    nothing."""
    now = _now(now)
    app = _load(session, reference, actor, WAIVE, expected_version)
    if app.appeal_waived_at is not None:
        raise Conflict(
            f"Der Träger hat bereits am {formatting.moment(app.appeal_waived_at)} auf "
            "Rechtsbehelfe verzichtet.",
            f"The carrier already waived its right of appeal on "
            f"{formatting.moment(app.appeal_waived_at, 'en')}.", field="waiver_of_appeal")
    finality = finality_of(app)
    if finality.is_final(deadlines.local_date(now)):
        raise Conflict(
            f"Der Zuwendungsbescheid ist seit dem {formatting.day(finality.final_on)} "
            "bestandskräftig; ein Verzicht auf Rechtsbehelfe ändert nichts mehr.",
            f"The approval notice has been final since "
            f"{formatting.day(finality.final_on, 'en')}; a waiver changes nothing.",
            field="waiver_of_appeal")
    return _write(session, app, actor, WAIVE, now, {"appeal_waived_at": now}, None,
                  {"waiver_of_appeal": True}, operator)


def set_notification_date(session: Session, reference: Application | int | str, actor: Actor,
                          *, notified_on: date | None, reason: str | None,
                          now: datetime | None = None, expected_version: int | None = None,
                          operator: str | None = None) -> TransitionRecord:
    """Staff record the day the approval notice reached the carrier. It cannot lie before the
    notice was issued nor in the future. Refusals write nothing."""
    now = _now(now)
    app = _load(session, reference, actor, SET_DATE, expected_version)
    if notified_on is None:
        raise InvalidInput("Bitte das Bekanntgabedatum angeben.",
                           "Please give the date of notification.", field="notified_on")
    if not (reason and reason.strip()):
        raise InvalidInput(f"Für „{SET_DATE.label.de}“ ist eine Begründung erforderlich.",
                           f"'{SET_DATE.label.en}' needs a reason.", field="reason")
    issued, today = deadlines.local_date(app.approved_at), deadlines.local_date(now)
    if notified_on < issued:
        raise InvalidInput(
            f"Das Bekanntgabedatum ({formatting.day(notified_on)}) kann nicht vor dem Erlass "
            f"des Bescheids am {formatting.day(issued)} liegen.",
            f"The date of notification ({formatting.day(notified_on, 'en')}) cannot be before "
            f"the notice was issued on {formatting.day(issued, 'en')}.", field="notified_on")
    if notified_on > today:
        raise InvalidInput(
            f"Das Bekanntgabedatum ({formatting.day(notified_on)}) liegt in der Zukunft.",
            f"The date of notification ({formatting.day(notified_on, 'en')}) is in the future.",
            field="notified_on")
    previous = notified_on_of(app)
    return _write(session, app, actor, SET_DATE, now, {"notified_on": notified_on},
                  reason.strip(), {"notified_on": notified_on.isoformat(),
                                   "previous_notified_on": previous.isoformat()
                                   if previous else None}, operator)
