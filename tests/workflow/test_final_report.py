"""The Verwendungsnachweis (issue 16): a Sachbericht, the zahlenmäßiger Nachweis by the headings
of the approved plan and a Belegliste that adds up to it, submitted through the engine; staff's
check fixes the final grant under the Finanzierungsart; `close` waits for the check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import select

from notifications.outbox import OutboxMessage
from states import FinancingKind
from tests.factories import (
    NOW,
    SACHBERICHT,
    application_in,
    check_final_report,
    final_report_payload,
    make_world,
)
from tests.workflow.helpers import refused
from workflow import engine as wf
from workflow import final_report
from workflow.db import unit_of_work
from workflow.errors import GuardFailed, InvalidInput, NotPermitted, WrongState
from workflow.final_report import YearActuals
from workflow.final_report_check import final_grant
from workflow.models import (
    ApplicationYear,
    FinalReport,
    FinalReportEntry,
    FinalReportLine,
    LedgerEntry,
    TransitionRecord,
)

SPENT = {"2021": "40000", "2022": "45000,50"}


@pytest.fixture
def setup(any_engine):
    with unit_of_work(any_engine) as s:
        world = make_world(s)
        ref = application_in(s, world, "active").reference
    return any_engine, world, ref


def _submit(payload):
    return lambda s, world, ref: wf.fire(s, ref, "submit_final_report", world.carrier,
                                         payload=payload, now=NOW)


def test_a_full_report_is_stored_and_spending_derived(setup) -> None:
    engine, world, ref = setup
    with unit_of_work(engine) as s:
        record = wf.fire(s, ref, "submit_final_report", world.carrier, now=NOW,
                         payload=final_report_payload(SPENT))
        assert record.to_state == "report_submitted"
        assert record.payload["spending_cents"] == {"2021": 40_000_00, "2022": 45_000_50}
        report = s.exec(select(FinalReport)).one()
        assert report.version == 1 and report.submitted_at is not None
        assert report.submitted_by_id == world.carrier.id and report.sachbericht == SACHBERICHT
        lines = s.exec(select(FinalReportLine).where(FinalReportLine.kind == "expense")).all()
        assert {(line.year, line.heading, line.cents) for line in lines} == {
            (2021, "personnel", 40_000_00), (2022, "personnel", 45_000_50)}
        assert len(s.exec(select(FinalReportEntry)).all()) == 2
        spent = {y.year: y.spent_cents for y in s.exec(select(ApplicationYear))}
        assert spent == {2021: 40_000_00, 2022: 45_000_50}


@pytest.mark.parametrize(("payload", "field", "words"), [
    ({"spending": {"2021": "0", "2022": "0"}}, "sachbericht", ["Verwendungsnachweis"]),
    (final_report_payload(SPENT, sachbericht="Alles gut."), "sachbericht", ["zu kurz"]),
    (final_report_payload(SPENT, heading="catering"), "nachweis.2021.expenses.catering",
     ["keine Kostenposition"]),
    ({**final_report_payload(SPENT), "belege": final_report_payload(SPENT)["belege"][:1]},
     "nachweis.2022.expenses.personnel", ["Belegliste ergibt 0,00 €"]),
    ({**final_report_payload(SPENT), "belege": [
        {**b, "date": "2020-12-31"} if b["year"] == 2021 else b
        for b in final_report_payload(SPENT)["belege"]]},
     "belege.0.date", ["nicht im", "Haushaltsjahr 2021"]),
    (final_report_payload({"2021": "-5", "2022": "1"}), "nachweis.2021.expenses.personnel",
     ["negativ"]),
    (final_report_payload({"2021": "40000"}), "nachweis.2022", ["2022"]),
])
def test_what_is_no_verwendungsnachweis_is_refused(setup, payload, field, words) -> None:
    engine, world, ref = setup
    error = refused(engine, InvalidInput, lambda s: _submit(payload)(s, world, ref), *words)
    assert error.extra["field"] == field


def test_the_draft_is_submitted_and_changes_make_a_new_version(setup) -> None:
    engine, world, ref = setup
    with unit_of_work(engine) as s:
        final_report.save_draft(s, ref, world.carrier, {"sachbericht": "Entwurf"}, now=NOW)
    refused(engine, InvalidInput,
            lambda s: wf.fire(s, ref, "submit_final_report", world.carrier, now=NOW), "zu kurz")
    with unit_of_work(engine) as s:
        final_report.save_draft(s, ref, world.carrier, final_report_payload(SPENT), now=NOW)
        wf.fire(s, ref, "submit_final_report", world.carrier, now=NOW)
        wf.fire(s, ref, "request_report_changes", world.reviewer, reason="Beleg fehlt",
                now=NOW)
        draft = final_report.save_draft(s, ref, world.carrier,
                                        final_report_payload({"2021": "39000", "2022": "1"}),
                                        now=NOW)
        assert draft.version == 2 and draft.submitted_at is None
        first = s.exec(select(FinalReport).where(FinalReport.version == 1)).one()
        assert final_report.content_of(s, first).spending() == {2021: 40_000_00,
                                                                2022: 45_000_50}
        wf.fire(s, ref, "submit_final_report", world.carrier, now=NOW)
        assert final_report.newest_submitted(s, draft.application_id).version == 2


def test_only_the_carrier_edits_and_only_while_it_may(setup) -> None:
    engine, world, ref = setup
    refused(engine, NotPermitted, lambda s: final_report.save_draft(
        s, ref, world.reviewer, {"sachbericht": "x"}, now=NOW))
    with unit_of_work(engine) as s:
        wf.fire(s, ref, "submit_final_report", world.carrier, now=NOW,
                payload=final_report_payload(SPENT))
    refused(engine, WrongState, lambda s: final_report.save_draft(
        s, ref, world.carrier, {"sachbericht": "x"}, now=NOW), "Nachbesserung")


def test_the_check_fixes_the_final_grant_and_close_waits_for_it(setup) -> None:
    engine, world, ref = setup
    payload = final_report_payload(SPENT)
    payload["nachweis"]["2021"]["own"] = "1000"  # Fehlbedarf: own money lowers the grant
    with unit_of_work(engine) as s:
        wf.fire(s, ref, "submit_final_report", world.carrier, now=NOW, payload=payload)
    error = refused(engine, GuardFailed, lambda s: wf.fire(s, ref, "close", world.reviewer,
                                                           now=NOW), "nicht geprüft")
    assert error.extra["field"] == "final_report_check"
    refused(engine, InvalidInput, lambda s: check_final_report(
        s, ref, world.reviewer, lowered={"2022": {"amount": "50000", "reason": "x"}}),
        "nicht übersteigen")
    refused(engine, InvalidInput, lambda s: check_final_report(
        s, ref, world.reviewer, lowered={"2022": {"amount": "100"}}), "begründen")
    refused(engine, NotPermitted, lambda s: check_final_report(s, ref, world.carrier))
    with unit_of_work(engine) as s:
        check = check_final_report(s, ref, world.reviewer, lowered={
            "2022": {"amount": "44000", "reason": "Bewirtung nicht förderfähig"}})
        assert check.grants["2021"] == {"computed": 39_000_00, "final": 39_000_00, "reason": ""}
        assert check.grants["2022"]["computed"] == 45_000_50
        finals = {y.year: y.final_grant_cents for y in s.exec(select(ApplicationYear))}
        assert finals == {2021: 39_000_00, 2022: 44_000_00}
        row = s.exec(select(TransitionRecord).where(
            TransitionRecord.trigger == "check_final_report")).one()
        assert row.payload["final_grant_cents"] == {"2021": 39_000_00, "2022": 44_000_00}
        mail = s.exec(select(OutboxMessage).where(
            OutboxMessage.template == "final_report_checked")).one()
        assert mail.context["final_total_cents"] == 83_000_00
        closed = wf.fire(s, ref, "close", world.reviewer, now=NOW)
        assert closed.to_state == "closed"
        released = s.exec(select(LedgerEntry).where(LedgerEntry.kind == "release")).all()
        # Closed: what is above the final grant goes back to the budget (50.000 – 39.000 and
        # 50.000 – 44.000); the final grant, unpaid here, is the Schlusszahlung of each year.
        assert sorted(-e.committed_delta_cents for e in released) == [6_000_00, 11_000_00]
        assert closed.payload["final_payment_cents"] == {"2021": 39_000_00, "2022": 44_000_00}


def test_an_incomplete_check_is_refused(setup) -> None:
    engine, world, ref = setup
    with unit_of_work(engine) as s:
        wf.fire(s, ref, "submit_final_report", world.carrier, now=NOW,
                payload=final_report_payload(SPENT))
    from workflow import final_report_check
    refused(engine, InvalidInput, lambda s: final_report_check.check_final_report(
        s, ref, world.reviewer, ratings={"sachbericht": {"rating": "erfuellt"}}, summary=""),
        "Ausgaben entsprechen dem Finanzplan", "Zusammenfassung")


# --- the final grant, a pure function -----------------------------------------------------------


@dataclass
class Terms:
    financing_kind: str
    grant_share_bp: int | None = None
    fixed_grant_cents: int | None = None
    max_grant_cents: int | None = None


FEHL, ANTEIL, FEST = (Terms(FinancingKind.shortfall), Terms(FinancingKind.share, 8000),
                      Terms(FinancingKind.fixed, fixed_grant_cents=30_000_00))


@pytest.mark.parametrize(("terms", "approved", "expenses", "own", "third", "grant"), [
    (FEHL, 50_000_00, 52_000_00, 1_000_00, 2_000_00, 49_000_00),  # the gap
    (FEHL, 50_000_00, 60_000_00, 1_000_00, 0, 50_000_00),  # capped at the approved amount
    (FEHL, 50_000_00, 2_000_00, 1_500_00, 1_000_00, 0),  # own money beyond the expenses
    (ANTEIL, 50_000_00, 40_000_00, 5_000_00, 0, 32_000_00),  # 80 % of the expenses
    (ANTEIL, 30_000_00, 40_000_00, 0, 0, 30_000_00),  # capped
    (FEST, 50_000_00, 45_000_00, 10_000_00, 0, 30_000_00),  # the fixed sum
    (FEST, 50_000_00, 25_000_00, 0, 0, 25_000_00),  # expenses below the fixed sum
    (FEST, 20_000_00, 45_000_00, 0, 0, 20_000_00),  # capped at the approved amount
])
def test_final_grant_by_finanzierungsart(terms, approved, expenses, own, third, grant) -> None:
    actual = YearActuals({"personnel": expenses}, own, third)
    assert final_grant(terms, {2021: approved}, {2021: actual}) == {2021: grant}


cents = st.integers(min_value=0, max_value=10**11)


@given(kind=st.sampled_from(list(FinancingKind)), share=st.integers(1, 10_000),
       fixed=st.integers(1, 10**10), approved=cents, expenses=cents, own=cents, third=cents,
       ceiling=st.none() | cents)
def test_the_final_grant_is_never_above_approved_nor_negative(kind, share, fixed, approved,
                                                               expenses, own, third,
                                                               ceiling) -> None:
    terms = Terms(kind, share, fixed, ceiling)
    grant = final_grant(terms, {2021: approved, 2022: approved},
                        {2021: YearActuals({"a": expenses}, own, third)})
    assert 0 <= grant[2021] <= approved and grant[2022] == 0
    assert grant[2021] <= expenses
    if ceiling is not None:
        assert grant[2021] <= ceiling


def test_beleg_outside_the_year_is_named(setup) -> None:
    engine, world, ref = setup
    payload = final_report_payload(SPENT)
    payload["belege"][1]["date"] = date(2023, 1, 2).isoformat()
    error = refused(engine, InvalidInput, lambda s: _submit(payload)(s, world, ref), "Beleg 2")
    assert {p["field"] for p in error.extra["problems"]} == {"belege.1.date"}
