"""The waiting list: who waits for money, and who fits when money comes back.

Waiting applications keep their place by time of receipt; nobody overtakes the first one that
does not fit. Offering one again is a transition of the table (`WAITING_LIST.offer_again`), which
the engine fires; this module only decides whom.
"""

from __future__ import annotations

from sqlmodel import Session

from states import TRANSITIONS_BY_TRIGGER, WAITING_LIST
from workflow import budget, repository
from workflow.repository import connection

# Where an application offered again goes; there it has first claim on the money.
_OFFERED_STATE = TRANSITIONS_BY_TRIGGER[WAITING_LIST.offer_again].dest


def anyone_waiting(session: Session, call_id: int) -> bool:
    return repository.anyone_in_state(connection(session), call_id, WAITING_LIST.state)


def who_fits(session: Session, call_id: int) -> list[int]:
    """The waitlisted applications of the call the available money covers, in order of receipt."""
    conn = connection(session)
    available = {y: s.available_cents for y, s in budget.years(session, call_id).items()}
    for app_id in repository.offered_again(conn, call_id, _OFFERED_STATE):
        for year, row in repository.years_of(conn, app_id).items():
            available[year] = available.get(year, 0) - (row.approved_cents or 0)
    fitting = []
    for app_id in repository.in_order_of_receipt(conn, call_id, WAITING_LIST.state):
        wanted = {y: r.approved_cents or 0 for y, r in repository.years_of(conn, app_id).items()}
        if any(cents > available.get(year, 0) for year, cents in wanted.items()):
            break  # strict order of receipt: nobody overtakes the first who does not fit
        for year, cents in wanted.items():
            available[year] -= cents
        fitting.append(app_id)
    return fitting
