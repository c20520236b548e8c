"""Who has a case (issue 15): a reviewer takes an unassigned case; an admin or a lead reviewer
assigns or reassigns cases, one or many at once. Every change of case officer is a history row
(who, when, from whom to whom); the application's version moves, so two people taking the same
case at once cannot both win. Refusals write nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import update
from sqlmodel import Session

from states import STATE_LABELS, Role, State
from states.staff import CASE_OFFICER_ROLES, LEAD_ROLES, STAFF_ACTIONS, StaffActionName
from workflow.applications import load_application
from workflow.errors import Conflict, InvalidInput, NotFound, NotPermitted, StaleVersion, WrongState
from workflow.models import Application, TransitionRecord, User
from workflow.rows import Actor

TAKE = STAFF_ACTIONS[StaffActionName.take_case]
ASSIGN = STAFF_ACTIONS[StaffActionName.assign_case]


def _assignable(app: Application, action_label: tuple[str, str]) -> None:
    if app.state not in {s.value for s in TAKE.in_states}:
        label = STATE_LABELS[State(app.state)]
        raise WrongState(
            f"„{action_label[0]}“ ist im Status „{label.de}“ nicht möglich.",
            f"'{action_label[1]}' is not possible in the state '{label.en}'.", state=app.state)


def may_assign(session: Session, actor: Actor) -> bool:
    """Admins, and lead reviewers (a flag on the account), assign cases to others."""
    if actor.role in ASSIGN.for_others:
        return True
    if actor.role in LEAD_ROLES and actor.id is not None:
        user = session.get(User, actor.id)
        return bool(user and user.lead and not user.disabled)
    return False


def _set_officer(session: Session, app: Application, officer_id: int | None, actor: Actor,
                 trigger: str, reason: str | None, now: datetime,
                 expected_version: int | None) -> TransitionRecord:
    if expected_version is not None and app.version != expected_version:
        raise StaleVersion(
            f"Der Antrag {app.reference} wurde inzwischen geändert (Version {app.version}, "
            f"erwartet {expected_version}). Bitte neu laden.",
            f"Application {app.reference} has changed (version {app.version}, expected "
            f"{expected_version}). Please reload.", current_version=app.version)
    before = app.case_officer_id
    changed = session.execute(
        update(Application)
        .where(Application.id == app.id, Application.version == app.version)
        .values(case_officer_id=officer_id, version=app.version + 1, updated_at=now)
        .execution_options(synchronize_session=False))
    if changed.rowcount != 1:
        raise StaleVersion("Der Antrag wurde gleichzeitig geändert. Bitte neu laden.",
                           "The application was changed at the same time. Please reload.")
    load_application(session, app.id)  # the ORM object as the database has it now
    record = TransitionRecord(
        application_id=app.id, trigger=trigger, from_state=app.state, to_state=app.state,
        actor_id=actor.id, actor_role=actor.role.value, at=now,
        reason=reason.strip() if reason and reason.strip() else None,
        payload={"case_officer_before": before, "case_officer": officer_id})
    session.add(record)
    session.flush()
    return record


def take_case(session: Session, reference: int | str, actor: Actor, *,
              now: datetime | None = None,
              expected_version: int | None = None) -> TransitionRecord:
    """The actor becomes the case officer of an unassigned case."""
    now = now or datetime.now(UTC)
    if not TAKE.allows(actor.role):
        raise NotPermitted(
            f"„{TAKE.label.de}“ ist nur der Sachbearbeitung und den Zeichnungsbefugten erlaubt.",
            f"'{TAKE.label.en}' is only allowed for reviewers and approvers.")
    app = load_application(session, reference, actor)
    _assignable(app, (TAKE.label.de, TAKE.label.en))
    if app.case_officer_id == actor.id:
        raise Conflict(f"Sie bearbeiten den Antrag {app.reference} bereits.",
                       f"You already have application {app.reference}.")
    if app.case_officer_id is not None:
        other = session.get(User, app.case_officer_id)
        name = other.name if other else str(app.case_officer_id)
        raise Conflict(
            f"Der Antrag {app.reference} wird bereits von {name} bearbeitet; eine Zuweisung "
            "nimmt die Programmverwaltung oder die Teamleitung vor.",
            f"Application {app.reference} is already with {name}; programme administration "
            "or a lead reviewer reassigns it.", case_officer_id=app.case_officer_id)
    return _set_officer(session, app, actor.id, actor, TAKE.history_trigger or TAKE.name,
                        None, now, expected_version)


def _officer(session: Session, officer_id: int) -> User:
    user = session.get(User, officer_id)
    if user is None or user.disabled:
        raise NotFound(f"Benutzerkonto {officer_id} wurde nicht gefunden oder ist gesperrt.",
                       f"User account {officer_id} was not found or is disabled.",
                       field="case_officer_id")
    if Role(user.role) not in CASE_OFFICER_ROLES:
        raise InvalidInput(
            f"{user.name} kann keine Fälle bearbeiten (nur Sachbearbeitung und "
            "Zeichnungsbefugte).",
            f"{user.name} cannot have cases (only reviewers and approvers).",
            field="case_officer_id")
    return user


def assign_cases(session: Session, references: list[str], officer_id: int | None, actor: Actor,
                 *, reason: str | None = None,
                 now: datetime | None = None) -> list[TransitionRecord]:
    """Assign (or, with None, release) one or many cases; all or none: the first refusal
    rolls back the whole request, naming the case."""
    now = now or datetime.now(UTC)
    if not may_assign(session, actor):
        raise NotPermitted(
            f"„{ASSIGN.label.de}“ dürfen nur die Programmverwaltung und die Teamleitung.",
            f"'{ASSIGN.label.en}' is for programme administration and lead reviewers only.")
    if not references:
        raise InvalidInput("Bitte mindestens einen Antrag nennen.",
                           "Please name at least one application.", field="references")
    if len(set(references)) != len(references):
        raise InvalidInput("Ein Antrag ist mehrfach genannt.",
                           "An application is named more than once.", field="references")
    if officer_id is not None:
        _officer(session, officer_id)
    records = []
    for position, reference in enumerate(references):
        app = load_application(session, reference, actor)
        try:
            _assignable(app, (ASSIGN.label.de, ASSIGN.label.en))
        except WrongState as error:
            error.extra["field"] = f"references.{position}"
            raise
        if app.case_officer_id == officer_id:
            continue  # already so: nothing to record
        records.append(_set_officer(session, app, officer_id, actor,
                                    ASSIGN.history_trigger or ASSIGN.name, reason, now, None))
    return records
