"""Finality (Bestandskraft) of the approval notice: notified on the day of the approval unless
staff record another day, final the day after the one-month appeal period (moved off weekends
and NRW holidays), or at once with the carrier's waiver of appeal. No payment before it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import select

from notifications.outbox import OutboxMessage
from tests.factories import NOW, application_in, make_world
from tests.workflow.helpers import refused
from workflow import deadlines, finality
from workflow import engine as wf
from workflow.db import unit_of_work
from workflow.errors import Conflict, GuardFailed, InvalidInput, NotPermitted, WrongState
from workflow.models import Application, TransitionRecord

# The factories approve on 2 November 2020 (Berlin): the period ends on Wednesday 2 December.
APPROVED_ON = date(2020, 11, 2)
LAST_DAY = datetime(2020, 12, 2, 22, 59, tzinfo=UTC)  # 23:59 in Berlin on 2 December
FIRST_FINAL_DAY = datetime(2020, 12, 2, 23, 0, tzinfo=UTC)  # midnight in Berlin: 3 December


@pytest.fixture
def world(any_engine):
    with unit_of_work(any_engine) as s:
        return make_world(s)


def _approved(engine, world, state: str = "approved") -> str:
    with unit_of_work(engine) as s:
        return application_in(s, world, state).reference


def _app(engine, ref: str) -> Application:
    with unit_of_work(engine) as s:
        app = s.exec(select(Application).where(Application.reference == ref)).one()
        s.expunge(app)
        return app


@pytest.mark.parametrize(("notified", "last_day"), [
    (date(2020, 11, 2), date(2020, 12, 2)),  # a plain month
    (date(2021, 1, 31), date(2021, 3, 1)),  # no 31 February; 28 February 2021 is a Sunday
    (date(2024, 1, 31), date(2024, 2, 29)),  # leap year: the month's last day, a Thursday
    (date(2021, 11, 25), date(2021, 12, 27)),  # 25 December a Saturday, 26 a Sunday
    (date(2023, 10, 1), date(2023, 11, 2)),  # 1 November: Allerheiligen in NRW
    (date(2022, 4, 18), date(2022, 5, 18)),  # notified on Easter Monday: the count starts anyway
])
def test_the_appeal_period_ends_one_month_later_on_a_working_day(notified, last_day) -> None:
    assert finality.appeal_ends_on(notified) == last_day


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)))
def test_the_period_never_ends_early_and_ends_on_a_working_day(notified: date) -> None:
    ends = finality.appeal_ends_on(notified)
    assert ends >= deadlines.add_months(notified, 1) > notified
    assert deadlines.next_working_day(ends) == ends
    assert (ends - deadlines.add_months(notified, 1)).days <= 4  # Easter: Fri to Mon is 3


def test_the_approval_records_the_date_of_notification(any_engine, world) -> None:
    ref = _approved(any_engine, world)
    app = _app(any_engine, ref)
    assert app.notified_on == APPROVED_ON and app.appeal_waived_at is None
    f = finality.finality_of(app)
    assert (f.notified_on, f.appeal_ends_on, f.final_on) == (
        APPROVED_ON, date(2020, 12, 2), date(2020, 12, 3))
    assert not f.is_final(date(2020, 12, 2)) and f.is_final(date(2020, 12, 3))


def test_no_payment_before_finality(any_engine, world) -> None:
    app = _app(any_engine, _approved(any_engine, world))
    with pytest.raises(GuardFailed) as caught:
        finality.require_final(app, LAST_DAY)
    assert "erst ab dem 03.12.2020 bestandskräftig" in caught.value.de
    assert "Bekanntgabe am 02.11.2020" in caught.value.de
    assert "3\u00a0December\u00a02020" in caught.value.en
    assert caught.value.extra["final_on"] == "2020-12-03"
    finality.require_final(app, FIRST_FINAL_DAY)  # no refusal


def test_no_notice_no_finality(any_engine, world) -> None:
    app = _app(any_engine, _approved(any_engine, world, "recommended"))
    assert finality.finality_of(app).final_on is None
    with pytest.raises(GuardFailed, match="noch keinen Zuwendungsbescheid"):
        finality.require_final(app, FIRST_FINAL_DAY)


def test_the_carriers_waiver_makes_the_notice_final_at_once(any_engine, world) -> None:
    ref = _approved(any_engine, world)
    before = _app(any_engine, ref).version
    at = NOW + timedelta(days=3)
    with unit_of_work(any_engine) as s:
        record = finality.waive_appeal(s, ref, world.carrier, now=at)
        assert record.trigger == "waive_appeal" and record.payload["waiver_of_appeal"] is True
        assert record.actor_role == "carrier" and record.from_state == record.to_state
    app = _app(any_engine, ref)
    assert app.appeal_waived_at == at and app.version == before + 1
    finality.require_final(app, at)
    assert finality.finality_of(app).final_on == date(2020, 11, 5)
    with unit_of_work(any_engine) as s:
        mail = s.exec(select(OutboxMessage).where(OutboxMessage.template == "appeal_waived")).one()
        assert mail.context["final_on"] == "2020-11-05"
    refused(any_engine, Conflict, lambda s: finality.waive_appeal(s, ref, world.carrier, now=at),
            "bereits am")
    # With the waiver on record, the project may start before its start date without repeating it.
    with unit_of_work(any_engine) as s:
        assert wf.fire(s, ref, "start", world.carrier, now=at).to_state == "active"


def test_only_the_carrier_waives_and_only_an_approved_notice(any_engine, world) -> None:
    ref = _approved(any_engine, world)
    refused(any_engine, NotPermitted,
            lambda s: finality.waive_appeal(s, ref, world.reviewer, now=NOW), "nur dem Träger")
    draft = _approved(any_engine, world, "submitted")
    refused(any_engine, WrongState,
            lambda s: finality.waive_appeal(s, draft, world.carrier, now=NOW), "bewilligte")
    refused(any_engine, Conflict,
            lambda s: finality.waive_appeal(s, ref, world.carrier, now=FIRST_FINAL_DAY),
            "seit dem 03.12.2020 bestandskräftig")


def test_a_waiver_given_with_start_is_the_same_record(any_engine, world) -> None:
    ref = _approved(any_engine, world)
    with unit_of_work(any_engine) as s:
        wf.fire(s, ref, "start", world.carrier, payload={"waiver_of_appeal": True}, now=NOW)
    app = _app(any_engine, ref)
    assert app.appeal_waived_at == NOW and finality.finality_of(app).is_final(APPROVED_ON)
    with unit_of_work(any_engine) as s:  # a start on the start date waives nothing
        other = application_in(s, world, "approved").reference
        wf.fire(s, other, "start", world.reviewer, now=datetime(2021, 3, 1, 9, tzinfo=UTC))
    assert _app(any_engine, other).appeal_waived_at is None


def test_staff_set_the_date_of_notification(any_engine, world) -> None:
    ref = _approved(any_engine, world)
    at = datetime(2020, 11, 9, 9, tzinfo=UTC)
    with unit_of_work(any_engine) as s:
        record = finality.set_notification_date(
            s, ref, world.reviewer, notified_on=date(2020, 11, 5), now=at,
            reason="Zustellung laut Rückschein am 05.11.2020")
        assert record.payload == {"notified_on": "2020-11-05",
                                  "previous_notified_on": "2020-11-02"}
        assert record.trigger == "set_notification_date"
    f = finality.finality_of(_app(any_engine, ref))
    # 5 December 2020 is a Saturday: the period ends on Monday the 7th, final on the 8th.
    assert (f.notified_on, f.appeal_ends_on, f.final_on) == (
        date(2020, 11, 5), date(2020, 12, 7), date(2020, 12, 8))
    with unit_of_work(any_engine) as s:
        mail = s.exec(select(OutboxMessage)
                      .where(OutboxMessage.template == "notification_date_set")).one()
        assert mail.context["appeal_ends_on"] == "2020-12-07"
        rows = s.exec(select(TransitionRecord)
                      .where(TransitionRecord.trigger == "set_notification_date")).all()
        assert len(rows) == 1


@pytest.mark.parametrize(("day", "reason", "words"), [
    (date(2020, 11, 1), "Rückschein", "nicht vor dem Erlass des Bescheids am 02.11.2020"),
    (date(2020, 11, 10), "Rückschein", "in der Zukunft"),
    (None, "Rückschein", "Bekanntgabedatum angeben"),
    (date(2020, 11, 5), "  ", "Begründung"),
])
def test_a_bad_date_of_notification_is_refused(any_engine, world, day, reason, words) -> None:
    ref = _approved(any_engine, world)
    at = datetime(2020, 11, 9, 9, tzinfo=UTC)
    error = refused(any_engine, InvalidInput, lambda s: finality.set_notification_date(
        s, ref, world.reviewer, notified_on=day, reason=reason, now=at), words)
    assert error.extra["field"] in ("notified_on", "reason")


def test_carriers_do_not_set_the_date_of_notification(any_engine, world) -> None:
    ref = _approved(any_engine, world)
    refused(any_engine, NotPermitted, lambda s: finality.set_notification_date(
        s, ref, world.carrier, notified_on=APPROVED_ON, reason="x", now=NOW), "Sachbearbeitung")
