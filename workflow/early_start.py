"""Vorzeitiger Maßnahmebeginn: staff grant an early start on an application before the decision.

The grant is recorded on the application (flag and time) and as a history row with the reason,
who and when (the state stays); the carrier is told by email that it creates no right to funding.
With it, a project start date in the past no longer stops the submission (guard
`project_start_not_past`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import update
from sqlmodel import Session

from notifications import formatting
from states import ACTIONS, STATE_LABELS, ActionName, State
from workflow.applications import load_application
from workflow.errors import Conflict, InvalidInput, NotPermitted, StaleVersion, WrongState
from workflow.models import Application, Call, Programme, TransitionRecord
from workflow.notices import email_carrier
from workflow.rows import Actor

GRANT = ACTIONS[ActionName.grant_early_start]


def grant_early_start(session: Session, reference: Application | int | str, actor: Actor, *,
                      reason: str | None, now: datetime | None = None,
                      expected_version: int | None = None,
                      operator: str | None = None) -> TransitionRecord:
    """Grant the early start; returns the history row. Refusals write nothing."""
    now = now or datetime.now(UTC)
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    if not GRANT.allows(actor.role):
        raise NotPermitted(
            f"„{GRANT.label.de}“ ist nur der Sachbearbeitung und den Zeichnungsbefugten erlaubt.",
            f"'{GRANT.label.en}' is only allowed for reviewers and approvers.")
    key = reference.id if isinstance(reference, Application) else reference
    app = load_application(session, key or 0, actor)
    if app.state not in GRANT.in_states:
        label = STATE_LABELS[State(app.state)]
        raise WrongState(
            "Ein vorzeitiger Maßnahmebeginn kann nur vor der Entscheidung genehmigt werden "
            f"(Status: {label.de}).",
            f"An early start can only be granted before the decision (state: {label.en}).",
            state=app.state)
    if not (reason and reason.strip()):
        raise InvalidInput(f"Für „{GRANT.label.de}“ ist eine Begründung erforderlich.",
                           f"'{GRANT.label.en}' needs a reason.", field="reason")
    if app.early_start_granted:
        granted = app.early_start_granted_at
        since = f" am {formatting.moment(granted)}" if granted else ""
        since_en = f" on {formatting.moment(granted, 'en')}" if granted else ""
        raise Conflict(f"Der vorzeitige Maßnahmebeginn wurde bereits{since} genehmigt.",
                       f"The early start was already granted{since_en}.")
    if expected_version is not None and app.version != expected_version:
        raise StaleVersion(
            f"Der Antrag wurde inzwischen geändert (Version {app.version}, erwartet "
            f"{expected_version}). Bitte neu laden.",
            f"The application has changed (version {app.version}, expected "
            f"{expected_version}). Please reload.", current_version=app.version)
    changed = session.execute(
        update(Application)
        .where(Application.id == app.id, Application.version == app.version)
        .values(early_start_granted=True, early_start_granted_at=now,
                version=app.version + 1, updated_at=now)
        .execution_options(synchronize_session=False))
    if changed.rowcount != 1:
        raise StaleVersion("Der Antrag wurde gleichzeitig geändert. Bitte neu laden.",
                           "The application was changed at the same time. Please reload.")
    app = load_application(session, app.id)
    payload: dict[str, object] = {"early_start_granted_at": now.isoformat(),
                                  "right_to_funding": False}
    if operator:
        payload["operator"] = operator
    record = TransitionRecord(application_id=app.id, trigger=GRANT.history_trigger,
                              from_state=app.state, to_state=app.state, actor_id=actor.id,
                              actor_role=actor.role.value, at=now, reason=reason.strip(),
                              payload=payload)
    session.add(record)
    session.flush()
    programme = session.get(Programme, session.get(Call, app.call_id).programme_id)
    email_carrier(session, app, programme, GRANT.email, record, [], now)
    return record
