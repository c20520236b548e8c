"""Calls of funds and payments: only after finality, within what is committed less paid and
called, certified by one person and ordered by another; the ledger records paid money, and the
database never lets paid exceed committed (per application year and per budget line), also under
concurrent calls from four processes on PostgreSQL."""

from __future__ import annotations

import multiprocessing
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine, func, select

from notifications.outbox import OutboxMessage
from tests.factories import NOW, application_in, make_world
from tests.workflow.helpers import refused
from tests.workflow.payment_race import call_check_order_all, process_main
from workflow import budget, payments, repository
from workflow.bank_account import set_bank_account
from workflow.db import unit_of_work
from workflow.errors import (
    FourEyesViolation,
    GuardFailed,
    InsufficientFunds,
    InvalidInput,
    NotFound,
    NotPermitted,
    WorkflowError,
)
from workflow.models import (
    Application,
    ApplicationYear,
    BudgetLine,
    LedgerEntry,
    Organisation,
    TransitionRecord,
    User,
)
from workflow.payment_tables import FundsCall, Payment

IBAN = "DE89 3704 0044 0532 0130 00"
AMOUNTS = {"2021": "50000", "2022": "40000"}


def with_bank_account(session: Session, world) -> None:  # noqa: ANN001
    user = session.get(User, world.carrier.id)
    user.organisation_admin = True
    session.add(user)
    session.flush()
    set_bank_account(session, world.carrier, iban=IBAN, account_holder="Träger 1 e.V.", now=NOW)


def funded(session: Session, *, state: str = "active", sources=("Landesmittel",),  # noqa: ANN001
           years: dict[int, int] | None = None):
    """A world with one project approved for AMOUNTS (active: the carrier waived its appeal, so
    the notice is final at NOW) and the carrier's bank account."""
    world = make_world(session, sources=sources, years=years)
    app = application_in(session, world, state, amounts=AMOUNTS)
    with_bank_account(session, world)
    return world, app.reference


@pytest.fixture
def case(any_engine):
    with unit_of_work(any_engine) as s:
        return funded(s)


def _year(engine, ref: str, year: int) -> ApplicationYear:
    with Session(engine) as s:
        app = s.exec(select(Application).where(Application.reference == ref)).one()
        return s.exec(select(ApplicationYear).where(ApplicationYear.application_id == app.id,
                                                    ApplicationYear.year == year)).one()


def test_call_check_and_order_pay_into_the_ledger(any_engine, case) -> None:
    world, ref = case
    with unit_of_work(any_engine) as s:
        call = payments.request_call(s, ref, world.carrier, year=2021, amount="30.000,00",
                                     needed_within_two_months=True, purpose="Personal", now=NOW)
        call_id = call.id
        assert call.status == "requested" and call.amount_cents == 30_000_00
        assert call.needed_by == date(2021, 1, 2)
    with unit_of_work(any_engine) as s:
        checked = payments.check_call(s, call_id, world.reviewer, note="Belege plausibel",
                                      now=NOW)
        assert checked.checked_by_id == world.reviewer.id and checked.checked_at == NOW
    with unit_of_work(any_engine) as s:
        payment = payments.order_payment(s, call_id, world.approver, now=NOW)
        assert payment.value_date == date(2020, 11, 3)  # the next working day
        assert payment.iban == IBAN.replace(" ", "") and payment.payee_name == "Träger 1 e.V."
        assert payment.sepa_export_id is None
    year = _year(any_engine, ref, 2021)
    assert (year.committed_cents, year.called_cents, year.paid_cents) == (
        50_000_00, 30_000_00, 30_000_00)
    with Session(any_engine) as s:
        paid = s.exec(select(LedgerEntry).where(LedgerEntry.kind == "paid")).all()
        assert [(e.paid_delta_cents, e.funds_call_id, e.committed_delta_cents) for e in paid] == [
            (30_000_00, call_id, 0)]
        line = s.get(BudgetLine, paid[0].budget_line_id)
        assert (line.year, line.paid_cents, line.committed_cents) == (2021, 30_000_00, 90_000_00
                                                                     - 40_000_00)
        triggers = s.exec(select(TransitionRecord.trigger).order_by(TransitionRecord.id)).all()
        assert triggers[-3:] == ["call_funds", "check_funds_call", "order_payment"]
        mails = s.exec(select(OutboxMessage.template).order_by(OutboxMessage.id)).all()
        assert mails[-3:] == ["funds_call_received", "funds_call_checked", "payment_ordered"]
        ordered = s.exec(select(OutboxMessage).where(
            OutboxMessage.template == "payment_ordered")).one()
        assert ordered.context["amount_cents"] == 30_000_00
        assert ordered.context["value_date"] == "2020-11-03"
    lines = payments.ledger_by_line(Session(any_engine), world.call_id)
    for line in lines:
        assert line["ledger_cents"][1:] == (line["committed_cents"], line["paid_cents"],
                                           line["repaid_cents"])


def test_the_checker_cannot_order_the_payment(any_engine, case) -> None:
    world, ref = case
    with unit_of_work(any_engine) as s:
        call_id = payments.request_call(s, ref, world.carrier, year=2021, amount="1000",
                                        needed_within_two_months=True, now=NOW).id
        payments.check_call(s, call_id, world.reviewer, now=NOW)
    refusal = refused(any_engine, FourEyesViolation,
                      lambda s: payments.order_payment(s, call_id, world.reviewer, now=NOW),
                      "Vier-Augen-Prinzip")
    assert refusal.status == 403
    # Ordering needs a certified call; a second check or order is refused.
    with unit_of_work(any_engine) as s:
        other = payments.request_call(s, ref, world.carrier, year=2021, amount="1000",
                                      needed_within_two_months=True, now=NOW).id
    refused(any_engine, WorkflowError,
            lambda s: payments.order_payment(s, other, world.approver, now=NOW), "Beantragt")
    with unit_of_work(any_engine) as s:
        payments.order_payment(s, call_id, world.reviewer2, now=NOW)
    refused(any_engine, WorkflowError,
            lambda s: payments.check_call(s, call_id, world.approver, now=NOW),
            "Auszahlung angeordnet")
    refused(any_engine, NotPermitted,
            lambda s: payments.check_call(s, other, world.carrier, now=NOW), "Sachbearbeitung")


def test_calls_stay_within_committed_less_paid_and_open(any_engine, case) -> None:
    world, ref = case

    def call(amount: str, year: int = 2021, **kw):  # noqa: ANN202
        return lambda s: payments.request_call(s, ref, world.carrier, year=year, amount=amount,
                                               needed_within_two_months=kw.get("needed", True),
                                               now=NOW)
    refused(any_engine, InsufficientFunds, call("50000.01"), "noch abrufbar 50.000,00 €")
    with unit_of_work(any_engine) as s:
        call("30000")(s)  # open: it counts against the year
    refusal = refused(any_engine, InsufficientFunds, call("20000.01"),
                      "offen abgerufen 30.000,00 €", "noch abrufbar 20.000,00 €")
    assert refusal.status == 409 and refusal.extra["available"] == "20000.00"
    with unit_of_work(any_engine) as s:
        call("20000")(s)
    refused(any_engine, InsufficientFunds, call("0.01"), "noch abrufbar 0,00 €")
    refused(any_engine, GuardFailed, call("100", year=2023), "keine Mittel bewilligt")
    refused(any_engine, InvalidInput, call("0"), "über 0")
    refused(any_engine, InvalidInput, call("-5"), "negativ")
    refused(any_engine, InvalidInput, call("1,234"), "Nachkommastellen")
    refused(any_engine, InvalidInput, call("100", year=2022, needed=False), "zwei Monaten")
    with unit_of_work(any_engine) as s:
        call("40000", year=2022)(s)  # the other year has its own room


def test_no_call_before_the_notice_is_final(any_engine) -> None:
    with unit_of_work(any_engine) as s:
        world, ref = funded(s, state="approved")  # approved at NOW, no waiver
    refused(any_engine, GuardFailed, lambda s: payments.request_call(
        s, ref, world.carrier, year=2021, amount="100", needed_within_two_months=True, now=NOW),
        "bestandskräftig")
    later = NOW + timedelta(days=32)  # the appeal period ended on 2 December
    with unit_of_work(any_engine) as s:
        payments.request_call(s, ref, world.carrier, year=2021, amount="100",
                              needed_within_two_months=True, now=later)
    refused(any_engine, NotPermitted, lambda s: payments.request_call(
        s, ref, world.reviewer, year=2021, amount="100", needed_within_two_months=True,
        now=later), "nur dem Träger")
    refused(any_engine, NotFound, lambda s: payments.request_call(
        s, ref, world.other_carrier, year=2021, amount="100", needed_within_two_months=True,
        now=later))


def test_no_payment_without_a_bank_account_or_in_the_past(any_engine, case) -> None:
    world, ref = case
    with unit_of_work(any_engine) as s:
        call_id = payments.request_call(s, ref, world.carrier, year=2021, amount="100",
                                        needed_within_two_months=True, now=NOW).id
        payments.check_call(s, call_id, world.reviewer, now=NOW)
    refused(any_engine, InvalidInput, lambda s: payments.order_payment(
        s, call_id, world.approver, value_date=date(2020, 11, 1), now=NOW), "Vergangenheit")
    with unit_of_work(any_engine) as s:
        org = s.get(Organisation, world.carrier.organisation_id)
        org.iban = None
        s.add(org)
    refused(any_engine, GuardFailed, lambda s: payments.order_payment(
        s, call_id, world.approver, now=NOW), "keine Bankverbindung")


def test_an_invalid_iban_is_refused_in_german(any_engine, case) -> None:
    world, _ = case
    refused(any_engine, InvalidInput, lambda s: set_bank_account(
        s, world.carrier, iban="DE89 3704 0044 0532 0130 01"), "keine gültige IBAN")
    refused(any_engine, InvalidInput, lambda s: set_bank_account(
        s, world.carrier, iban=IBAN, bic="XX"), "keine gültige BIC")
    refused(any_engine, NotPermitted, lambda s: set_bank_account(
        s, world.reviewer, iban=IBAN), "Nur Träger")


def test_release_gives_back_only_the_unpaid_commitment(any_engine, case) -> None:
    world, ref = case
    with unit_of_work(any_engine) as s:
        call_id = payments.request_call(s, ref, world.carrier, year=2021, amount="30000",
                                        needed_within_two_months=True, now=NOW).id
        payments.check_call(s, call_id, world.reviewer, now=NOW)
        payments.order_payment(s, call_id, world.approver, now=NOW)
    with unit_of_work(any_engine) as s:
        app = s.exec(select(Application).where(Application.reference == ref)).one()
        released = budget.release(s, app, NOW, world.admin.id, "Widerruf")
    assert released == 20_000_00 + 40_000_00
    year = _year(any_engine, ref, 2021)
    assert (year.committed_cents, year.paid_cents) == (30_000_00, 30_000_00)


def test_the_database_refuses_paid_above_committed(any_engine, case) -> None:
    """Even writes that bypass the workflow cannot pay above committed (CHECK constraints)."""
    with pytest.raises(IntegrityError):
        with unit_of_work(any_engine) as s:
            s.execute(text("UPDATE application_year SET paid_cents = committed_cents + 1, "
                           "called_cents = committed_cents + 1"))
    with pytest.raises(IntegrityError):
        with unit_of_work(any_engine) as s:
            s.execute(text("UPDATE budget_line SET paid_cents = committed_cents + 1"))


# ------------------------------------------------------------------ for all sequences

STEPS = st.lists(st.tuples(st.sampled_from(["call", "check", "order", "release"]),
                           st.sampled_from([2021, 2022]),
                           st.integers(min_value=1, max_value=60_000_00)),
                 min_size=1, max_size=12)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=STEPS)
def test_paid_never_exceeds_committed(steps) -> None:
    engine = create_engine("sqlite://", poolclass=StaticPool,
                           connect_args={"check_same_thread": False})
    SQLModel.metadata.create_all(engine)
    with unit_of_work(engine) as s:
        world, ref = funded(s, sources=("Landesmittel", "ESF"),
                            years={2021: 70_000_00, 2022: 70_000_00})
    for kind, year, cents in steps:
        try:
            with unit_of_work(engine) as s:
                if kind == "call":
                    payments.request_call(s, ref, world.carrier, year=year,
                                          amount=f"{cents // 100}.{cents % 100:02d}",
                                          needed_within_two_months=True, now=NOW)
                elif kind in ("check", "order"):
                    wanted = "requested" if kind == "check" else "checked"
                    call = s.exec(select(FundsCall).where(FundsCall.status == wanted)).first()
                    if call is None:
                        continue
                    if kind == "check":
                        payments.check_call(s, call.id, world.reviewer, now=NOW)
                    else:
                        payments.order_payment(s, call.id, world.approver, now=NOW)
                else:
                    app = s.exec(select(Application).where(Application.reference == ref)).one()
                    budget.release(s, app, NOW, None, "Teilfreigabe", per_year={year: cents})
        except WorkflowError:
            pass
        _assert_consistent(engine, world.call_id)


def _assert_consistent(engine, call_id: int) -> None:  # noqa: ANN001
    with Session(engine) as s:
        for y in s.exec(select(ApplicationYear)):
            assert 0 <= y.paid_cents <= y.committed_cents
            assert y.paid_cents <= y.called_cents
            paid = s.exec(select(func.coalesce(func.sum(Payment.amount_cents), 0)).where(
                Payment.application_id == y.application_id, Payment.year == y.year)).one()
            assert paid == y.paid_cents
            committed = s.exec(select(func.coalesce(func.sum(
                LedgerEntry.committed_delta_cents), 0)).join(
                BudgetLine, BudgetLine.id == LedgerEntry.budget_line_id).where(
                LedgerEntry.application_id == y.application_id,
                BudgetLine.year == y.year)).one()
            assert committed == y.committed_cents
        for line in payments.ledger_by_line(s, call_id):
            assert line["ledger_cents"] == (line["budget_cents"], line["committed_cents"],
                                           line["paid_cents"], line["repaid_cents"])
            assert 0 <= line["paid_cents"] - line["repaid_cents"] <= line["committed_cents"]
            assert line["committed_cents"] <= line["budget_cents"]


# ------------------------------------------------------------------ concurrency

def _race_case(engine) -> tuple[object, str]:  # noqa: ANN001
    with unit_of_work(engine) as s:
        return funded(s, sources=("Landesmittel", "ESF"),
                      years={2021: 100_000_00, 2022: 100_000_00})


def _assert_never_over(engine, world, ref: str, outcomes: dict[int, str]) -> None:  # noqa: ANN001
    # 50.000 € committed for 2021, each call 7.000 €: seven are paid, thirteen refused.
    assert list(outcomes.values()).count("paid") == 7, outcomes
    assert set(outcomes.values()) == {"paid", "refused"}, outcomes
    year = _year(engine, ref, 2021)
    assert year.paid_cents == 7 * 7_000_00 <= year.committed_cents == 50_000_00
    _assert_consistent(engine, world.call_id)
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Payment)).one() == 7
        assert sum(repository.paid_by_line(s.connection(), s.exec(select(Application.id)).one())
                   .values()) == 7 * 7_000_00


def test_twenty_threads_on_sqlite_never_pay_more_than_committed(engine, sqlite_url) -> None:
    world, ref = _race_case(engine)
    outcomes = call_check_order_all(sqlite_url, ref, world, list(range(20)))
    _assert_never_over(engine, world, ref, outcomes)


@pytest.mark.postgres
def test_twenty_calls_from_four_processes_on_postgres(pg_engine, pg_url) -> None:
    world, ref = _race_case(pg_engine)
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=process_main, args=(pg_url, ref, world, list(range(i, 20, 4)),
                                                    queue)) for i in range(4)]
    for p in procs:
        p.start()
    outcomes: dict[int, str] = {}
    for _ in procs:
        outcomes.update(queue.get(timeout=120))
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    assert len(outcomes) == 20
    _assert_never_over(pg_engine, world, ref, outcomes)
