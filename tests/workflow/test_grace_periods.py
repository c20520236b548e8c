"""Issue 12, item 4: no decision against the carrier inside a grace period the authority set."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlmodel import Session, select

from tests.factories import application_in, make_world
from tests.workflow.helpers import refused
from workflow import engine as wf
from workflow.db import unit_of_work
from workflow.deadlines import BERLIN
from workflow.errors import GuardFailed
from workflow.models import Application, Deadline, Programme
from workflow.reminders import ReminderSent, run_reminder_pass


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=BERLIN)


def _hearing_with_mahnung(engine):
    """An active project in a hearing, under a programme whose hearings do get a Mahnung; the
    Mahnung went out 7 days after the reply was due. (world, application id, grace end)."""
    with unit_of_work(engine) as session:
        world = make_world(session)
        programme = session.exec(select(Programme)).one()
        programme.config = {**programme.config, "reminders": {"hearing_reply": {"mahnung": True}}}
        session.add(programme)
        app = application_in(session, world, "active")
        wf.fire(session, app, "open_hearing", world.reviewer, reason="Zweckverfehlung",
                now=at(date(2021, 6, 1)))
        hearing = session.exec(select(Deadline).where(Deadline.kind == "hearing_reply")).one()
        assert hearing.due_date == date(2021, 6, 15)
    summary = run_reminder_pass(engine, at(date(2021, 6, 22), 7))
    assert summary.sent["overdue"] == 1
    with Session(engine) as session:
        mahnung = session.exec(select(ReminderSent).where(
            ReminderSent.deadline_id == hearing.id, ReminderSent.step == "overdue")).one()
    return world, app.id, mahnung.grace_until


def _revoke(world, app_id, day):
    def action(session):
        return wf.fire(session, app_id, "revoke", world.approver, reason="Zweck verfehlt",
                       payload={"repayment": "1000"}, now=at(day))
    return action


def test_revoke_inside_the_hearing_replys_grace_period_is_refused(any_engine):
    world, app_id, grace = _hearing_with_mahnung(any_engine)
    assert grace == date(2021, 7, 6)
    # The reply period is over (hearing_done holds), but the Nachfrist runs to 6 July inclusive.
    for day in (date(2021, 6, 22), grace):
        refusal = refused(any_engine, GuardFailed, _revoke(world, app_id, day),
                          "Stellungnahme zur Anhörung", "Nachfrist bis 06.07.2021",
                          "Mahnung vom 22.06.2021")
        assert refusal.extra == {"deadline": "hearing_reply", "grace_until": "2021-07-06"}
        assert "grace period until 6\xa0July\xa02021" in refusal.en
    with Session(any_engine) as session:
        why = wf.check(session, app_id, "revoke", world.approver, now=at(grace))
        assert isinstance(why, GuardFailed) and "Nachfrist bis 06.07.2021" in why.de
    # The day after the grace period the decision may be taken.
    with unit_of_work(any_engine) as session:
        wf.fire(session, app_id, "revoke", world.approver, reason="Zweck verfehlt",
                payload={"repayment": "1000"}, now=at(date(2021, 7, 7)))
    with Session(any_engine) as session:
        assert session.get(Application, app_id).state == "revoked"


def _documents_with_mahnung(engine):
    with unit_of_work(engine) as session:
        world = make_world(session)
        app = application_in(session, world, "in_review")
        wf.fire(session, app, "request_documents", world.reviewer, reason="Satzung fehlt",
                now=at(date(2020, 11, 3)))
    assert run_reminder_pass(engine, at(date(2020, 11, 24), 7)).sent["overdue"] == 1
    return world, app.id


def test_reject_inside_a_document_requests_grace_period_is_refused(any_engine):
    world, app_id = _documents_with_mahnung(any_engine)

    def reject(day):
        return lambda session: wf.fire(session, app_id, "reject", world.reviewer,
                                       reason="Unterlagen fehlen", now=at(day))

    # Due 17 November, gemahnt 24 November: Nachfrist until 8 December 2020 (a Tuesday).
    refused(any_engine, GuardFailed, reject(date(2020, 12, 8)), "„Ablehnen“",
            "Nachforderung", "fällig am 17.11.2020", "Nachfrist bis 08.12.2020")
    with unit_of_work(any_engine) as session:
        wf.fire(session, app_id, "reject", world.reviewer, reason="Unterlagen fehlen",
                now=at(date(2020, 12, 9)))
    with Session(any_engine) as session:
        assert session.get(Application, app_id).state == "rejected"


def test_a_met_deadline_ends_the_guard_and_other_decisions_are_not_held(any_engine):
    world, app_id = _documents_with_mahnung(any_engine)
    with unit_of_work(any_engine) as session:
        wf.fire(session, app_id, "provide_documents", world.carrier,
                payload={"explanation": "Die Unterlagen kommen per Post."},
                now=at(date(2020, 11, 30)))
        # Met: the grace period no longer holds a decision back.
        wf.fire(session, app_id, "reject", world.reviewer, reason="Nicht förderfähig",
                now=at(date(2020, 12, 1)))
    with Session(any_engine) as session:
        assert session.get(Application, app_id).state == "rejected"
