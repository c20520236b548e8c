"""Who reads which case (issue 15): staff never see a carrier's unsubmitted draft, and the
observer (G.I.B.) sees no single case, document or list at all, only aggregates."""

from __future__ import annotations

from sqlmodel import Session

from states import Role, State
from states.staff import HIDDEN_FROM_STAFF, OBSERVER_REFUSAL
from workflow.applications import load_application
from workflow.errors import NotFound, NotPermitted
from workflow.models import Application
from workflow.rows import Actor


class AggregatesOnly(NotPermitted):
    """The observer asked for a single case or a list of cases."""

    type = "aggregates-only"


def refuse_observer(actor: Actor) -> None:
    if actor.role == Role.observer:
        raise AggregatesOnly(OBSERVER_REFUSAL.de, OBSERVER_REFUSAL.en)


def read_application(session: Session, key: int | str, actor: Actor) -> Application:
    """An application the actor may read: the carrier's own; for staff any but a draft; for
    the observer none (403 with the reason)."""
    refuse_observer(actor)
    app = load_application(session, key, actor)
    if actor.role != Role.carrier and State(app.state) in HIDDEN_FROM_STAFF:
        raise NotFound(f"Antrag {key} wurde nicht gefunden.", f"Application {key} was not found.")
    return app
