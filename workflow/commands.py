"""Changes by reference or code, for callers that hold only what the user typed (the API, the
command line): each looks its object up, refuses what the actor may not see, makes the change in
the caller's transaction and returns the object as it now stands. Nothing here commits.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from workflow import drafts, programme_admin
from workflow.applications import find_call, load_application
from workflow.errors import StaleVersion
from workflow.models import Application, Call
from workflow.rows import Actor


def _stale(current: int, expected: int) -> StaleVersion:
    return StaleVersion(
        f"Der Antrag wurde inzwischen geändert (Version {current}, erwartet {expected}). "
        "Bitte neu laden.",
        f"The application has changed (version {current}, expected {expected}). Please reload.",
        current_version=current)


def edit_draft(session: Session, reference: int | str, actor: Actor, fields: dict[str, Any],
               expected_version: int | None = None) -> Application:
    """Change a visible draft's fields. A version other than `expected_version` is refused
    first (StaleVersion carrying the current version), before role and state."""
    app = load_application(session, reference, actor)
    if expected_version is not None and app.version != expected_version:
        raise _stale(app.version, expected_version)
    try:
        return drafts.edit_draft(session, app, actor, fields, expected_version=expected_version)
    except StaleVersion as error:
        if expected_version is None or "current_version" in error.extra:
            raise
        # Changed by someone else between our read and our write: name the version now current.
        current = load_application(session, app.id).version
        raise _stale(current, expected_version) from None


def change_budget(session: Session, code: str, year: int, source: str, delta_cents: int,
                  actor: Actor, note: str) -> Call:
    """Increase or cut one budget line of the call `code`; the call as it now stands."""
    programme_admin.change_budget(session, find_call(session, code), year, source, delta_cents,
                                  actor, note)
    return find_call(session, code)


def declare_funding_stop(session: Session, code: str, reason: str, actor: Actor) -> Call:
    programme_admin.declare_funding_stop(session, find_call(session, code), reason, actor)
    return find_call(session, code)


def lift_funding_stop(session: Session, code: str, actor: Actor) -> Call:
    programme_admin.lift_funding_stop(session, find_call(session, code), actor)
    return find_call(session, code)
