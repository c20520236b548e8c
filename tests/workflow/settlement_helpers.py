"""A project paid and reported, ready for the settlement: shared by the settlement tests."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from tests.factories import NOW, check_final_report, final_report_payload
from workflow import engine, payments
from workflow.errors import InvalidInput
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
    """The carrier submits a complete Verwendungsnachweis with these actual expenses."""
    payload = final_report_payload(spending)
    payload["belege"] = [b for b in payload["belege"] if b["amount"] not in ("0", "0,00")]
    engine.fire(session, ref, "submit_final_report", world.carrier, reason="Nachweis",
                payload=payload, now=now)


def fix_final_grant(session: Session, ref: str, grants: dict[int, int | None],
                    world=None, now: datetime = NOW) -> None:  # noqa: ANN001
    """The reviewer's check of the submitted Verwendungsnachweis, lowering the final grant of
    a year to `grants` where it is below what the report gives (None: the year is left
    without a final grant, for the refusal tests)."""
    if isinstance(ref, Application):
        ref = ref.reference
    app = session.exec(select(Application).where(Application.reference == ref)).first()
    if app is None:
        return
    reviewer = world.reviewer if world is not None else _reviewer(session)
    from workflow import final_report_check
    frame_grants = final_report_check.computed_grants(session, app) \
        if hasattr(final_report_check, "computed_grants") else None
    lowered = {}
    for year, cents in grants.items():
        if cents is None:
            continue
        computed = frame_grants.get(year) if frame_grants else None
        if computed is None or cents < computed:
            lowered[str(year)] = {"amount": f"{cents // 100},{cents % 100:02d}",
                                  "reason": "Ausgaben teilweise nicht förderfähig"}
    try:
        check_final_report(session, ref, reviewer, lowered=lowered or None, now=now)
    except InvalidInput:
        # The amount equals what the report gives: no lowering needed.
        check_final_report(session, ref, reviewer, now=now)
    for row in session.exec(select(ApplicationYear)
                            .where(ApplicationYear.application_id == app.id)):
        if row.year in grants and grants[row.year] is None:
            row.final_grant_cents = None
            session.add(row)
    session.flush()


def _reviewer(session: Session):  # noqa: ANN202
    from states import Role
    from workflow.models import User
    from workflow.rows import Actor
    user = session.exec(select(User).where(User.role == Role.reviewer.value)
                        .order_by(User.id)).first()
    return Actor(user.id, Role.reviewer, None, user.name)


def repayment_account(session: Session) -> None:
    programme = session.exec(select(Programme)).one()
    programme.config = {**(programme.config or {}), "repayment_account": {
        "holder": "Landeskasse Düsseldorf", "iban": "DE02300500000001234567",
        "bic": "WELADEDDXXX", "bank": "Helaba"}}
    session.add(programme)
    session.flush()
