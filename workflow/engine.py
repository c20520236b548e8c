"""The one service that changes an application's state: `fire`; and `check` and
`available_triggers`, which say what an actor may do now and why not.

A firing, in the caller's transaction: load everything with one statement, check role and
state, run the guards, let the effects record their writes, plan the deadlines, apply (see
`workflow.firing`), tell the carrier, and follow up on money (funding stop, waiting list). It
never commits; on any refusal it raises a domain error and the caller's unit of work rolls back.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session
from transitions import Machine

from states import (
    INITIAL_STATE,
    INPUT_GUARDS,
    STATE_LABELS,
    TRANSITIONS,
    TRANSITIONS_BY_TRIGGER,
    WAITING_LIST,
    Role,
    State,
    Transition,
)
from workflow import bescheide, deadlines, funding_stop, notices, repository
from workflow.effects import EFFECTS
from workflow.errors import (
    InsufficientFunds,
    InvalidInput,
    NotFound,
    NotPermitted,
    StaleVersion,
    UnknownTrigger,
    WorkflowError,
    WrongState,
)
from workflow.firing import Firing, apply, due_dates_planned
from workflow.guards import GUARDS
from workflow.inputs import is_number, parse_date
from workflow.models import Application, Call, Programme, TransitionRecord
from workflow.repository import connection
from workflow.rows import SYSTEM, Actor, CallRow, Loaded, Payload, ProgrammeRow, visible


def utcnow() -> datetime:
    return datetime.now(UTC)


# Built once, from the table: the structure every firing is checked against.
MACHINE = Machine(
    model=None,
    states=[s.value for s in State],
    transitions=[
        {"trigger": t.trigger, "source": [s.value for s in t.sources],
         "dest": t.dest.value if t.dest else None}
        for t in TRANSITIONS
    ],
    initial=INITIAL_STATE.value,
    auto_transitions=False,
)


def load(session: Session, app: Application | int | str, actor: Actor | None,
         lock: bool = False) -> Loaded:
    """What a firing reads (`repository.load_context`); 'not found' if the actor may not see it."""
    key: int | str
    if isinstance(app, Application):
        key = app.id or 0
    else:
        key = int(app) if isinstance(app, int) or is_number(app) else app
    loaded = repository.load_context(connection(session), key, lock)
    if loaded is None or (actor is not None and not visible(actor, loaded.app)):
        raise NotFound(f"Antrag {key} wurde nicht gefunden.", f"Application {key} was not found.")
    return loaded


def _spec(trigger: str) -> Transition:
    spec = TRANSITIONS_BY_TRIGGER.get(trigger)
    if spec is None:
        raise UnknownTrigger(f"Unbekannte Aktion „{trigger}“.", f"Unknown trigger '{trigger}'.")
    return spec


def _check_role_and_state(spec: Transition, state: str, actor: Actor) -> None:
    if actor.role not in spec.roles:
        allowed = ", ".join(sorted(r.value for r in spec.roles))
        raise NotPermitted(
            f"„{spec.label.de}“ ist der Rolle {actor.role.value} nicht erlaubt "
            f"(erlaubt: {allowed}).",
            f"'{spec.label.en}' is not allowed for role {actor.role.value} (allowed: {allowed}).",
        )
    if not MACHINE.get_transitions(trigger=spec.trigger, source=state):
        label = STATE_LABELS[State(state)]
        raise WrongState(
            f"„{spec.label.de}“ ist im Status „{label.de}“ nicht möglich.",
            f"'{spec.label.en}' is not possible in state '{label.en}'.",
            state=state,
        )


def _check_version(loaded: Loaded, expected: int | None) -> None:
    version = loaded.app.version
    if expected is not None and version != expected:
        raise StaleVersion(
            f"Der Antrag wurde inzwischen geändert (Version {version}, erwartet {expected}). "
            "Bitte neu laden.",
            f"The application has changed (version {version}, expected {expected}). "
            "Please reload.",
            current_version=version,
        )


def check(session: Session, app: Application | int | str, trigger: str, actor: Actor,
          now: datetime | None = None, loaded: Loaded | None = None) -> WorkflowError | None:
    """Why `actor` may not fire `trigger` now (role, state, guards without input), or None."""
    try:
        spec = _spec(trigger)
        loaded = loaded or load(session, app, None)
        _check_role_and_state(spec, loaded.app.state, actor)
        firing = Firing(session, loaded, spec, actor, now or utcnow(), "-", {})
        for guard in spec.guards:
            if guard not in INPUT_GUARDS:
                GUARDS[guard](firing)
    except WorkflowError as refusal:
        return refusal
    return None


def available_triggers(session: Session, app: Application | int | str, actor: Actor,
                       now: datetime | None = None) -> dict[str, WorkflowError | None]:
    """Every trigger users may choose: None if the actor may fire it now, else the refusal."""
    loaded = load(session, app, None)
    return {t.trigger: check(session, app, t.trigger, actor, now, loaded)
            for t in TRANSITIONS if t.chosen_by_user}


def fire(
    session: Session,
    app: Application | int | str,
    trigger: str,
    actor: Actor,
    *,
    reason: str | None = None,
    payload: Payload | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
    operator: str | None = None,
) -> TransitionRecord:
    """Fire `trigger` on one application for one actor, inside the caller's transaction.

    Returns the history row. Raises a WorkflowError with the reason on any refusal; the caller
    must then roll back (the unit of work does), so nothing is written. `operator` names who
    acted for the actor (the command line's `--as`); the history row records it.
    """
    # Not found and stale come before an unknown trigger, as the user sees them.
    known, now = TRANSITIONS_BY_TRIGGER.get(trigger), now or utcnow()
    loaded = load(session, app, actor, lock=bool(known and known.moves_money))
    _check_version(loaded, expected_version)
    spec = _spec(trigger)
    if isinstance(app, Application) and app.version != loaded.app.version:
        # The caller acts on what it loaded earlier: a change since then is a conflict.
        raise StaleVersion(
            "Der Antrag wurde gleichzeitig geändert. Bitte neu laden.",
            "The application was changed at the same time. Please reload.",
        )
    firing = Firing(session, loaded, spec, actor, now, reason, dict(payload or {}))
    if operator:
        firing.record_payload["operator"] = operator
    try:
        record = _run(firing)
    except InsufficientFunds as refusal:
        fallback = spec.fallback and TRANSITIONS_BY_TRIGGER[spec.fallback]
        if not fallback or spec.fallback_policy != loaded.call.policy:
            raise
        firing = Firing(session, loaded, fallback, SYSTEM, now, refusal.de,
                        {"refused_trigger": spec.trigger, "refused_by": actor.id})
        record = _run(firing)
    _follow_up_money(firing)
    return record


def _run(firing: Firing) -> TransitionRecord:
    """Check, decide, apply and tell the carrier: one transition of one application."""
    spec, actor = firing.spec, firing.actor
    _check_role_and_state(spec, firing.app.state, actor)
    for guard in spec.guards:
        GUARDS[guard](firing)
    # A carrier's answer that meets a deadline after its due date is marked late.
    if actor.role == Role.carrier and deadlines.is_late(firing.deadlines, spec.closes, firing.now):
        firing.record_payload["late"] = True
    documents = firing.payload.get("documents")
    if isinstance(documents, list):
        firing.record_payload["documents"] = [str(d) for d in documents]
    for effect in spec.effects:
        EFFECTS[effect](firing)
    _plan_deadlines(firing)
    record = apply(firing)
    attachments = bescheide.issue_notice(firing, record)
    if spec.email:
        _tell_carrier(firing, spec.email, record, attachments)
    notices.email_case_officer(firing.session, firing.app, firing.programme, record, firing.now,
                               message=firing.reason or "", officer=firing.loaded.officer,
                               carrier=firing.loaded.carrier)
    if spec.officer_email:
        notices.email_officer_of_decision(firing.session, firing.app, firing.programme, record,
                                          firing.now, spec.officer_email, actor,
                                          officer=firing.loaded.officer)
    return record


def _plan_deadlines(firing: Firing) -> None:
    raw = firing.payload.get("deadline")
    explicit = parse_date(raw, "Frist", "deadline", "Deadline") if raw else None
    if explicit is not None and explicit <= deadlines.local_date(firing.now):
        raise InvalidInput("Die Frist muss in der Zukunft liegen.",
                           "The deadline must lie in the future.", field="deadline")
    firing.planned = due_dates_planned(firing, explicit)
    if any(dues for _, dues in firing.planned):
        firing.record_payload["deadlines"] = {
            f"{kind}{':' + period if period else ''}": due.isoformat()
            for kind, dues in firing.planned for period, due in dues
        }


def _tell_carrier(firing: Firing, template: str, record: TransitionRecord,
                  attachments: list[dict[str, str]] | None = None) -> None:
    officer = firing.loaded.officer  # as loaded: stale if this firing made someone else officer
    notices.email_carrier(
        firing.session, firing.app, firing.programme, template, record,
        firing.opened, firing.now, years=firing.years, carrier=firing.loaded.carrier,
        officer=officer if officer and officer.id == firing.app.case_officer_id else None,
        deadlines_of_app=firing.deadlines, attachments=attachments,
    )


def _follow_up_money(firing: Firing) -> None:
    """After money was taken or returned: the funding stop and the waiting list."""
    if firing.money is None:
        return
    session, call, returned = firing.session, firing.call, firing.spec.returns_money
    if funding_stop.needs_reevaluation(session, call, firing.lines, returned):
        outcome = funding_stop.reevaluate(session, call, firing.programme, firing.now,
                                          returned, firing.lines)
        offer_again(session, call, firing.programme, outcome, firing.now)


def offer_again(session: Session, call: CallRow | Call, programme: ProgrammeRow | Programme,
                outcome: funding_stop.Reevaluation, now: datetime) -> None:
    """Fire the waiting list's offer-again transition for each application that fits now, in
    order; then tell the carriers still waiting that an automatic stop has lifted."""
    spec = TRANSITIONS_BY_TRIGGER[WAITING_LIST.offer_again]
    for app_id in outcome.offer_again:
        loaded = load(session, app_id, None)
        _run(Firing(session, loaded, spec, SYSTEM, now, WAITING_LIST.message.de, {}))
    if outcome.lifted_since is not None:
        funding_stop.announce_lifted(session, call, programme, outcome.lifted_since)
