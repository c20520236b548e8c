"""The settlement (issue 16): paid less final grant per year; unpaid commitment back to the
budget; money paid beyond the final grant reclaimed after a hearing (Teilwiderruf) with § 49a
interest; repayments allocated interest first; the case closes once the claim is paid. On SQLite
and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, select

from notifications.outbox import OutboxMessage
from notifications.render import render
from states import FINAL_PAYMENT_PURPOSE
from tests.factories import NOW, application_in, make_world
from tests.workflow.helpers import refused
from tests.workflow.settlement_helpers import fix_final_grant, pay, repayment_account, report
from tests.workflow.test_payments import AMOUNTS, with_bank_account
from workflow import claims, engine, payments, settlement
from workflow.claim_tables import ClaimYear, Repayment, RepaymentClaim
from workflow.db import unit_of_work
from workflow.errors import (
    Conflict,
    FourEyesViolation,
    GuardFailed,
    InvalidInput,
    NotPermitted,
    WrongState,
)
from workflow.models import Application, ApplicationYear, BudgetLine, TransitionRecord
from workflow.payment_tables import FundsCall

HEARING_ANSWERED = datetime(2020, 11, 20, 9, 0, tzinfo=UTC)
REVOKED = datetime(2020, 12, 1, 9, 0, tzinfo=UTC)  # effective 1.12.2020, due 1.1.2021
FIRST = datetime(2021, 1, 4, 9, 0, tzinfo=UTC)
SECOND = datetime(2021, 2, 1, 9, 0, tzinfo=UTC)


def reported(session: Session, paid: str = "30000", grants=None):  # noqa: ANN001
    """A project approved for AMOUNTS (2021: 50 000, 2022: 40 000), `paid` paid for 2021, its
    final report in and the final grant fixed (default 2021: 20 000, 2022: 0)."""
    world = make_world(session)
    app = application_in(session, world, "active", amounts=AMOUNTS)
    with_bank_account(session, world)
    repayment_account(session)
    payment_id = pay(session, world, app.reference, 2021, paid)
    report(session, world, app.reference, {"2021": "20000", "2022": "0"})
    fix_final_grant(session, app.reference, grants or {2021: 20_000_00, 2022: 0})
    return world, app.reference, payment_id


def revoked_partially(session: Session):
    world, ref, payment_id = reported(session)
    settlement.settle(session, ref, world.reviewer, reason="Ausgaben nicht nachgewiesen",
                      now=NOW)
    engine.fire(session, ref, "answer_hearing", world.carrier, reason="Wir sehen es ein",
                now=HEARING_ANSWERED)
    engine.fire(session, ref, "revoke_partially", world.approver, reason="Teilwiderruf",
                now=REVOKED)
    return world, ref, payment_id


def _year(session: Session, ref: str, year: int) -> ApplicationYear:
    app = session.exec(select(Application).where(Application.reference == ref)).one()
    return session.exec(select(ApplicationYear).where(
        ApplicationYear.application_id == app.id, ApplicationYear.year == year)
        .execution_options(populate_existing=True)).one()


def _mails(session: Session) -> list[str]:
    return list(session.exec(select(OutboxMessage.template).order_by(OutboxMessage.id)))


def test_paid_within_the_final_grant_releases_the_rest_and_closes(any_engine) -> None:
    with unit_of_work(any_engine) as s:
        world, ref, _ = reported(s, paid="20000")
        settlement.settle(s, ref, world.reviewer, now=NOW)
        app = s.exec(select(Application).where(Application.reference == ref)).one()
        assert app.state == "closed"
        y21, y22 = _year(s, ref, 2021), _year(s, ref, 2022)
        assert (y21.committed_cents, y21.paid_cents) == (20_000_00, 20_000_00)
        assert y22.committed_cents == 0
        lines = s.exec(select(BudgetLine).order_by(BudgetLine.year)).all()
        assert [ln.committed_cents for ln in lines] == [20_000_00, 0]
        assert s.exec(select(RepaymentClaim)).first() is None
        assert _mails(s)[-2:] == ["settlement", "closure"]
        settle_row = s.exec(select(TransitionRecord).where(
            TransitionRecord.trigger == "settle")).one()
        assert settle_row.payload["released_cents"] == 70_000_00
        assert settle_row.payload["partial"] is False


def test_final_grant_not_yet_paid_stays_committed_as_the_schlusszahlung(any_engine) -> None:
    with unit_of_work(any_engine) as s:
        world, ref, _ = reported(s, paid="10000")  # final grant 2021: 20 000, paid 10 000
        settlement.settle(s, ref, world.reviewer, now=NOW)
        app = s.exec(select(Application).where(Application.reference == ref)).one()
        assert app.state == "closed"
        y21 = _year(s, ref, 2021)
        assert (y21.committed_cents, y21.paid_cents, y21.called_cents) == (
            20_000_00, 10_000_00, 20_000_00)
        lines = s.exec(select(BudgetLine).order_by(BudgetLine.year)).all()
        assert [ln.committed_cents for ln in lines] == [20_000_00, 0]
        close = s.exec(select(TransitionRecord).where(TransitionRecord.trigger == "close")).one()
        assert close.payload["final_payment_cents"] == {"2021": 10_000_00}
        final = s.exec(select(FundsCall).where(FundsCall.application_id == app.id,
                                               FundsCall.status == "requested")).one()
        assert (final.year, final.amount_cents, final.purpose) == (
            2021, 10_000_00, FINAL_PAYMENT_PURPOSE)
        # Certified and ordered by two people like any call, on the closed case.
        payments.check_call(s, final.id, world.reviewer, now=NOW)
        final_id = final.id
    refused(any_engine, FourEyesViolation,
            lambda s: payments.order_payment(s, final_id, world.reviewer, now=NOW))
    with unit_of_work(any_engine) as s:
        payments.order_payment(s, final_id, world.approver, now=NOW)
        app = s.exec(select(Application).where(Application.reference == ref)).one()
        y21 = _year(s, ref, 2021)
        assert (y21.committed_cents, y21.paid_cents) == (20_000_00, 20_000_00)
        # Nothing more can be paid for the year: the final grant is paid in full.
        assert claims.final_payments(claims.year_money(s, app.id)) == {}


def test_overpayment_goes_to_a_hearing_then_a_claim_with_interest_and_repayments(
        any_engine) -> None:
    with unit_of_work(any_engine) as s:
        world, ref, _ = reported(s)
        settlement.settle(s, ref, world.reviewer, reason="Ausgaben nicht nachgewiesen", now=NOW)
        app = s.exec(select(Application).where(Application.reference == ref)).one()
        assert app.state == "revocation_hearing"
        hearing = s.exec(select(TransitionRecord).where(
            TransitionRecord.trigger == "open_hearing")).one()
        assert hearing.payload["partial"] is True
        assert hearing.payload["repayment_cents"] == 10_000_00
        # Unpaid commitment went back at once: 20 000 of 2021 and 40 000 of 2022.
        assert _year(s, ref, 2021).committed_cents == 30_000_00
        assert _year(s, ref, 2022).committed_cents == 0
        assert _mails(s)[-2:] == ["settlement", "hearing"]
        hearing_mail = s.exec(select(OutboxMessage).where(
            OutboxMessage.template == "hearing")).one()
        assert "teilweise" in render("hearing", "de", hearing_mail.context).text
    with unit_of_work(any_engine) as s:
        engine.fire(s, ref, "answer_hearing", world.carrier, reason="Wir sehen es ein",
                    now=HEARING_ANSWERED)
        engine.fire(s, ref, "revoke_partially", world.approver, reason="Teilwiderruf",
                    now=REVOKED)
        claim = s.exec(select(RepaymentClaim)).one()
        assert (claim.basis, claim.principal_cents, claim.status) == (
            "partial_revocation", 10_000_00, "open")
        assert (claim.effective_on, claim.due_on) == (date(2020, 12, 1), date(2021, 1, 1))
        assert [(y.year, y.principal_cents) for y in s.exec(select(ClaimYear))] == [
            (2021, 10_000_00)]
        mail = s.exec(select(OutboxMessage).where(
            OutboxMessage.template == "partial_revocation")).one()
        text = render("partial_revocation", "de", mail.context).text
        assert "10.000,00 €" in text and "01.01.2021" in text and "DE02300500000001234567" in text
        assert "§ 49a Abs. 3 VwVfG" in text
        # 30 days at -0.88 + 5 = 4.12 %: 1 000 000 × 0.0412 × 30 / 365 = 3 386.30
        bal = settlement.claim_balance(s, claim, date(2020, 12, 31))
        assert (bal.interest_cents, bal.open_cents) == (3_386, 10_033_86)
    with unit_of_work(any_engine) as s:
        first = settlement.record_repayment(s, ref, world.reviewer, amount="5000",
                                            value_date=date(2020, 12, 31), now=FIRST)
        assert (first.interest_cents, first.principal_cents) == (3_386, 4_966_14)
        assert _year(s, ref, 2021).repaid_cents == 4_966_14
    refusal = refused(any_engine, GuardFailed, lambda s2: engine.fire(
        s2, ref, "close", world.reviewer, now=FIRST))
    assert "Rückforderung offen" in refusal.de
    with unit_of_work(any_engine) as s:
        claim = s.exec(select(RepaymentClaim)).one()
        # 503 386 open from 31.12.2020 to 30.1.2021: 30 days at 4.12 % = 1 704.62
        bal = settlement.claim_balance(s, claim, date(2021, 1, 30))
        assert (bal.principal_open_cents, bal.interest_open_cents) == (503_386, 1_705)
        settlement.record_repayment(s, ref, world.reviewer, amount="5050,91",
                                    value_date=date(2021, 1, 30), now=SECOND)
        claim = s.exec(select(RepaymentClaim).execution_options(populate_existing=True)).one()
        assert claim.status == "paid" and claim.principal_repaid_cents == 10_000_00
        assert claim.interest_paid_cents == 3_386 + 1_705
        y21 = _year(s, ref, 2021)
        # Repaid principal is booked and goes back to the budget: 30 000 paid, 10 000 repaid.
        assert (y21.paid_cents, y21.repaid_cents, y21.committed_cents) == (
            30_000_00, 10_000_00, 20_000_00)
        assert _mails(s)[-3:] == ["repayment_received", "repayment_received", "claim_settled"]
        engine.fire(s, ref, "close", world.reviewer, now=SECOND)
        assert s.exec(select(Application)).one().state == "closed"
        lines = payments.ledger_by_line(s, world.call_id)
        for line in lines:
            budget_sum, committed, paid, repaid = line["ledger_cents"]
            assert (committed, paid, repaid) == (line["committed_cents"], line["paid_cents"],
                                                 line["repaid_cents"])


def test_settle_refusals_write_nothing(any_engine) -> None:
    with unit_of_work(any_engine) as s:
        world, ref, _ = reported(s)
        fix_final_grant(s, ref, {2022: None})
    refusal = refused(any_engine, GuardFailed, lambda s: settlement.settle(
        s, ref, world.reviewer, reason="x", now=NOW))
    assert "2022" in refusal.de and "festgesetzt" in refusal.de
    with unit_of_work(any_engine) as s:
        fix_final_grant(s, ref, {2022: 0})
    refusal = refused(any_engine, InvalidInput, lambda s: settlement.settle(
        s, ref, world.reviewer, now=NOW))
    assert refusal.extra.get("field") == "reason"
    refused(any_engine, NotPermitted, lambda s: settlement.settle(
        s, ref, world.carrier, reason="x", now=NOW))
    # Closing directly would lose the over-payment: refused with the reason.
    refusal = refused(any_engine, GuardFailed, lambda s: engine.fire(
        s, ref, "close", world.reviewer, now=NOW))
    assert "abrechnen" in refusal.de


def test_repayment_refusals(any_engine) -> None:
    with unit_of_work(any_engine) as s:
        world, ref, _ = revoked_partially(s)
    refusal = refused(any_engine, InvalidInput, lambda s: settlement.record_repayment(
        s, ref, world.reviewer, amount="20000", value_date=date(2020, 12, 31), now=FIRST))
    assert refusal.extra.get("field") == "amount" and "übersteigt" in refusal.de
    refused(any_engine, InvalidInput, lambda s: settlement.record_repayment(
        s, ref, world.reviewer, amount="100", value_date=date(2021, 2, 1), now=FIRST))
    refused(any_engine, InvalidInput, lambda s: settlement.record_repayment(
        s, ref, world.reviewer, amount="0", now=FIRST))
    refused(any_engine, NotPermitted, lambda s: settlement.record_repayment(
        s, ref, world.carrier, amount="100", now=FIRST))
    with unit_of_work(any_engine) as s:
        settlement.record_repayment(s, ref, world.reviewer, amount="100",
                                    value_date=date(2020, 12, 20), now=FIRST)
    refusal = refused(any_engine, InvalidInput, lambda s: settlement.record_repayment(
        s, ref, world.reviewer, amount="100", value_date=date(2020, 12, 10), now=FIRST))
    assert "Reihenfolge" in refusal.de


def test_repayment_only_after_a_revocation(any_engine) -> None:
    with unit_of_work(any_engine) as s:
        world, ref, _ = reported(s)
    refused(any_engine, WrongState, lambda s: settlement.record_repayment(
        s, ref, world.reviewer, amount="100", now=FIRST))


def test_late_use_adds_section_49a_4_interest(any_engine) -> None:
    with unit_of_work(any_engine) as s:
        world, ref, payment_id = revoked_partially(s)
    refusal = refused(any_engine, InvalidInput, lambda s: settlement.record_late_use(
        s, ref, world.reviewer, payment_id=payment_id, used_on=date(2021, 1, 3), now=SECOND))
    assert refusal.extra.get("field") == "used_on"  # within two months: no interest
    with unit_of_work(any_engine) as s:
        payment = s.get(payments.Payment, payment_id)
        assert payment.value_date == date(2020, 11, 3)
        # Used 3.2.2021: interest from 4.1.2021 (two months after 3.11.2020, plus a day) to
        # 3.2.2021, 30 days at 4.12 % on 30 000: 3 000 000 × 0.0412 × 30 / 365 = 10 158.90
        settlement.record_late_use(s, ref, world.reviewer, payment_id=payment_id,
                                   used_on=date(2021, 2, 3), now=SECOND + timedelta(days=3))
        claim = s.exec(select(RepaymentClaim)).one()
        bal = settlement.claim_balance(s, claim, date(2020, 12, 1))
        assert (bal.late_use_interest_cents, bal.open_cents) == (10_159, 10_000_00 + 10_159)
    refusal = refused(any_engine, Conflict, lambda s: settlement.record_late_use(
        s, ref, world.reviewer, payment_id=payment_id, used_on=date(2021, 2, 3), now=SECOND))
    assert "schon" in refusal.de


def test_full_revocation_claims_all_money_paid(any_engine) -> None:
    with unit_of_work(any_engine) as s:
        world = make_world(s)
        app = application_in(s, world, "active", amounts=AMOUNTS)
        with_bank_account(s, world)
        pay(s, world, app.reference, 2021, "12000")
        engine.fire(s, app.reference, "open_hearing", world.reviewer, reason="Zweck verfehlt",
                    now=NOW)
        engine.fire(s, app.reference, "answer_hearing", world.carrier, reason="Nein",
                    now=HEARING_ANSWERED)
        engine.fire(s, app.reference, "revoke", world.approver, reason="Widerruf",
                    payload={"repayment": "0"}, now=REVOKED)
        claim = s.exec(select(RepaymentClaim)).one()
        assert (claim.basis, claim.principal_cents) == ("revocation", 12_000_00)
        row = s.exec(select(Application)).one()
        assert row.repayment_claim_cents == 12_000_00
        mail = s.exec(select(OutboxMessage).where(
            OutboxMessage.template == "revocation")).one()
        assert "12.000,00 €" in render("revocation", "de", mail.context).text
        # The unpaid 38 000 of 2021 and 40 000 of 2022 went back; the paid 12 000 stays held.
        assert _year(s, app.reference, 2021).committed_cents == 12_000_00
        settlement.record_repayment(s, app.reference, world.reviewer, amount="12000",
                                    value_date=date(2020, 12, 1), now=FIRST)
        assert s.exec(select(RepaymentClaim)).one().status == "paid"
        assert _year(s, app.reference, 2021).committed_cents == 0
        assert len(s.exec(select(Repayment)).all()) == 1


def test_partial_revocation_needs_money_to_reclaim(any_engine) -> None:
    with unit_of_work(any_engine) as s:
        world = make_world(s)
        app = application_in(s, world, "report_submitted", amounts=AMOUNTS)
        fix_final_grant(s, app.reference, {2021: 50_000_00, 2022: 40_000_00})
        engine.fire(s, app.reference, "open_hearing", world.reviewer, reason="Prüfung", now=NOW)
        engine.fire(s, app.reference, "answer_hearing", world.carrier, reason="Ok",
                    now=HEARING_ANSWERED)
    refusal = refused(any_engine, GuardFailed, lambda s: engine.fire(
        s, app.reference, "revoke_partially", world.approver, reason="x", now=REVOKED))
    assert "nichts" in refusal.de


@pytest.mark.parametrize("language", ["de", "en"])
def test_settlement_view(any_engine, language) -> None:
    with unit_of_work(any_engine) as s:
        world, ref, _ = revoked_partially(s)
        out = settlement.view(s, ref, world.reviewer, on=date(2020, 12, 31), lang=language)
        assert [y["year"] for y in out["years"]] == [2021, 2022]
        assert out["years"][0]["difference"] == "10000.00"
        assert out["claim"]["balance"]["open"] == "10033.86"
        assert out["claim"]["status"] == "open"
        assert out["state"] == "partially_revoked"
        carrier_view = settlement.view(s, ref, world.carrier, on=date(2020, 12, 31))
        assert carrier_view["claim"]["principal"] == "10000.00"
