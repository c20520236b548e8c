"""Reading applications for the API and the command line (ORM objects, outside the firing path)."""

from __future__ import annotations

from sqlmodel import Session, select

from workflow import repository
from workflow.errors import NotFound
from workflow.inputs import is_number
from workflow.models import Application, Call, TransitionRecord
from workflow.repository import connection
from workflow.rows import Actor, YearRow, visible


def load_application(session: Session, key: int | str, actor: Actor | None = None) -> Application:
    """An application by id or reference; one the actor may not see is 'not found'."""
    if isinstance(key, int) or (isinstance(key, str) and is_number(key)):
        app = session.get(Application, int(key), populate_existing=True)
    else:
        app = session.exec(
            select(Application)
            .where(Application.reference == key)
            .execution_options(populate_existing=True)
        ).first()
    if app is None or (actor is not None and not visible(actor, app)):
        raise NotFound(f"Antrag {key} wurde nicht gefunden.", f"Application {key} was not found.")
    return app


def history(session: Session, app: Application) -> list[TransitionRecord]:
    """Every history row of the application, oldest first."""
    return list(
        session.exec(
            select(TransitionRecord)
            .where(TransitionRecord.application_id == app.id)
            .order_by(TransitionRecord.id)
        )
    )


def years_of(session: Session, application_id: int) -> dict[int, YearRow]:
    """An application's budget years, with one Core statement."""
    return repository.years_of(connection(session), application_id)


def find_call(session: Session, code: str) -> Call:
    """A call by its code ('not found' otherwise), as it stands in the transaction."""
    call = session.exec(select(Call).where(Call.code == code)
                        .execution_options(populate_existing=True)).first()
    if call is None:
        raise NotFound(f"Förderaufruf {code} wurde nicht gefunden.", f"Call {code} was not found.")
    return call
