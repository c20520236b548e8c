"""A project paid and reported, ready for the settlement: shared by the settlement tests."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from tests.factories import NOW
from workflow import engine, payments
from workflow.models import Application, ApplicationYear, Programme


def pay(session: Session, world, ref: str, year: int, amount: str,  # noqa: ANN001
        now: datetime = NOW) -> int:
    """Call, certify and order `amount` for `year`; the payment's id."""
    call = payments.request_call(session, ref, world.carrier, year=year, amount=amount,
                                 needed_within_two_months=True, now=now)
    payments.check_call(session, call.id, world.reviewer, now=now)
    return payments.order_payment(session, call.id, world.approver, now=now).id


def report(session: Session, world, ref: str, spending: dict[str, str],  # noqa: ANN001
           now: datetime = NOW) -> None:
    engine.fire(session, ref, "submit_final_report", world.carrier, reason="Nachweis",
                payload={"spending": spending}, now=now)


def fix_final_grant(session: Session, ref: str, grants: dict[int, int]) -> None:
    """Stands in for the Verwendungsnachweis check (another module): the final grant per year."""
    app = session.exec(select(Application).where(Application.reference == ref)).first()
    if app is None:
        return
    for row in session.exec(select(ApplicationYear)
                            .where(ApplicationYear.application_id == app.id)):
        if row.year in grants:
            row.final_grant_cents = grants[row.year]
            session.add(row)
    session.flush()


def repayment_account(session: Session) -> None:
    programme = session.exec(select(Programme)).one()
    programme.config = {**(programme.config or {}), "repayment_account": {
        "holder": "Landeskasse Düsseldorf", "iban": "DE02300500000001234567",
        "bic": "WELADEDDXXX", "bank": "Helaba"}}
    session.add(programme)
    session.flush()
