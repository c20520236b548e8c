"""`start` only from the project start date (or earlier with the carrier's waiver of appeal), and
no approval of money for a budget year that is already over."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from tests.factories import application_in, make_world
from tests.workflow.helpers import refused
from workflow import applications
from workflow import engine as wf
from workflow.db import unit_of_work
from workflow.errors import GuardFailed, InvalidInput, NotPermitted
from workflow.models import LedgerEntry, TransitionRecord

# The factories' projects start on 2021-03-01 (Berlin).
DAY_BEFORE = datetime(2021, 2, 28, 22, 59, tzinfo=UTC)  # 23:59 in Berlin, still 28 February
START_DAY = datetime(2021, 2, 28, 23, 0, tzinfo=UTC)  # midnight in Berlin: 1 March


@pytest.fixture
def world(any_engine):
    with unit_of_work(any_engine) as s:
        return make_world(s)


def _approved(engine, world) -> str:
    with unit_of_work(engine) as s:
        return application_in(s, world, "approved").reference


def test_start_is_refused_the_day_before_naming_the_date(any_engine, world) -> None:
    ref = _approved(any_engine, world)
    refusal = refused(any_engine, GuardFailed,
                      lambda s: wf.fire(s, ref, "start", world.carrier, now=DAY_BEFORE),
                      "frühestens am 01.03.2021", "Rechtsbehelfsverzicht")
    assert refusal.extra["project_start"] == "2021-03-01"
    with unit_of_work(any_engine) as s:
        reason = wf.check(s, ref, "start", world.reviewer, now=DAY_BEFORE)
        assert isinstance(reason, GuardFailed)


def test_start_on_the_start_date(any_engine, world) -> None:
    ref = _approved(any_engine, world)
    with unit_of_work(any_engine) as s:
        record = wf.fire(s, ref, "start", world.reviewer, now=START_DAY)
        assert record.to_state == "active" and "waiver_of_appeal" not in record.payload


def test_start_before_the_date_with_the_carriers_waiver_of_appeal(any_engine, world) -> None:
    ref = _approved(any_engine, world)
    with unit_of_work(any_engine) as s:
        wf.fire(s, ref, "start", world.carrier, payload={"waiver_of_appeal": True},
                now=DAY_BEFORE)
    with unit_of_work(any_engine) as s:
        assert applications.load_application(s, ref).state == "active"
        row = s.exec(select(TransitionRecord).where(TransitionRecord.trigger == "start")).one()
        assert row.payload["waiver_of_appeal"] is True and row.actor_role == "carrier"


def test_only_the_carrier_waives_its_right_of_appeal(engine) -> None:
    with unit_of_work(engine) as s:
        w = make_world(s)
        ref = application_in(s, w, "approved").reference
    refused(engine, NotPermitted,
            lambda s: wf.fire(s, ref, "start", w.reviewer, payload={"waiver_of_appeal": True},
                              now=DAY_BEFORE), "nur der Träger")
    refused(engine, InvalidInput,
            lambda s: wf.fire(s, ref, "start", w.carrier, payload={"waiver_of_appeal": "ja"},
                              now=DAY_BEFORE), "true oder false")


def test_approval_refused_for_a_budget_year_that_is_over(any_engine, world) -> None:
    with unit_of_work(any_engine) as s:
        ref = application_in(s, world, "recommended").reference
    refusal = refused(any_engine, GuardFailed,
                      lambda s: wf.fire(s, ref, "approve", world.approver,
                                        now=datetime(2022, 1, 3, 9, tzinfo=UTC)),
                      "Haushaltsjahr 2021 ist abgelaufen", "03.01.2022")
    assert refusal.extra["years"] == [2021]
    with unit_of_work(any_engine) as s:
        assert not s.exec(select(LedgerEntry).where(LedgerEntry.kind == "commit")).all()
        # Still in 2021 (Berlin), the same approval commits both years.
        wf.fire(s, ref, "approve", world.approver, now=datetime(2021, 12, 31, 22, 59, tzinfo=UTC))
        assert applications.load_application(s, ref).state == "approved"


def test_a_year_over_without_money_does_not_block_the_approval(any_engine, world) -> None:
    with unit_of_work(any_engine) as s:
        app = application_in(s, world, "in_review")
        wf.fire(s, app, "recommend", world.reviewer, reason="nur 2022",
                payload={"amounts": {"2021": "0", "2022": "50000"}},
                now=datetime(2021, 6, 1, tzinfo=UTC))
        wf.fire(s, app, "approve", world.approver, now=datetime(2022, 1, 3, 9, tzinfo=UTC))
        assert applications.load_application(s, app.reference).state == "approved"
