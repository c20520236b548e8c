"""Due dates: opened and closed by transitions, moved off weekends and NRW holidays."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlmodel import Session, select

from tests.factories import NOW, application_in, draft_fields, make_world
from workflow import drafts
from workflow import engine as wf
from workflow.db import unit_of_work
from workflow.deadlines import BERLIN, DEFAULT_RULES, next_working_day, rules_for
from workflow.models import Deadline
from workflow.reminders import ReminderSent, run_reminder_pass


def at(day: date, hour: int = 7) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=BERLIN)


def approved_with_end(session: Session, world, end: str, start: str = "2021-03-01"):
    app = drafts.create_application(session, world.carrier, world.call_id,
                                draft_fields(project_start=start, project_end=end), now=NOW)
    wf.fire(session, app, "submit", world.carrier, now=NOW)
    wf.fire(session, app, "start_review", world.reviewer, now=NOW)
    wf.fire(session, app, "recommend", world.reviewer, reason="ok",
            payload={"amounts": {"2021": "50000", "2022": "50000"}}, now=NOW)
    wf.fire(session, app, "approve", world.approver, now=NOW)
    return app


def final_due(session: Session, app) -> date:
    return session.exec(select(Deadline.due_date).where(
        Deadline.application_id == app.id, Deadline.kind == "final_report")).one()


def test_next_working_day():
    assert next_working_day(date(2023, 7, 30)) == date(2023, 7, 31)  # Sunday -> Monday
    assert next_working_day(date(2023, 10, 3)) == date(2023, 10, 4)  # Tag der Deutschen Einheit
    assert next_working_day(date(2022, 4, 30)) == date(2022, 5, 2)  # Saturday, 1 May Sunday
    assert next_working_day(date(2021, 11, 1)) == date(2021, 11, 2)  # Allerheiligen (NRW)
    assert next_working_day(date(2022, 6, 16)) == date(2022, 6, 17)  # Fronleichnam (NRW)
    assert next_working_day(date(2022, 12, 24)) == date(2022, 12, 27)  # Sat, then two holidays
    assert next_working_day(date(2023, 6, 30)) == date(2023, 6, 30)  # a Friday stays


def test_final_report_due_on_a_sunday_moves_to_monday(engine):
    with unit_of_work(engine) as session:
        world = make_world(session)
        # Six months after 31 January 2022 is Sunday, 31 July 2022.
        app = approved_with_end(session, world, "2022-01-31")
        assert date(2022, 7, 31).weekday() == 6
        assert final_due(session, app) == date(2022, 8, 1)
        app_id = app.id
    # The reminders count from the moved date.
    for day in (date(2022, 7, 4), date(2022, 7, 25), date(2022, 8, 1)):
        run_reminder_pass(engine, at(day))
    with Session(engine) as session:
        rows = session.exec(select(ReminderSent).where(ReminderSent.application_id == app_id,
                                                       ReminderSent.due_date == date(2022, 8, 1))
                            .order_by(ReminderSent.id)).all()
        assert [(r.step, r.scheduled_on) for r in rows] == [
            ("before_28", date(2022, 7, 4)), ("before_7", date(2022, 7, 25)),
            ("due", date(2022, 8, 1))]


def test_final_report_due_on_3_october_moves_to_the_next_working_day(engine):
    with unit_of_work(engine) as session:
        world = make_world(session)
        # Six months after 3 April 2023 is Tuesday, 3 October 2023, a public holiday.
        app = approved_with_end(session, world, "2023-04-03")
        assert date(2023, 10, 3).weekday() == 1
        assert final_due(session, app) == date(2023, 10, 4)


def test_interim_reports_open_on_approval_one_per_year(engine):
    with unit_of_work(engine) as session:
        world = make_world(session)
        app = approved_with_end(session, world, "2023-06-30")
        rows = session.exec(select(Deadline).where(Deadline.application_id == app.id,
                                                   Deadline.kind == "interim_report")
                            .order_by(Deadline.period)).all()
        # 30 April 2022 is a Saturday (1 May a holiday Sunday); 30 April 2023 a Sunday and
        # 1 May 2023 a holiday Monday.
        assert [(d.period, d.due_date) for d in rows] == [
            ("2021", date(2022, 5, 2)), ("2022", date(2023, 5, 2))]


def test_document_request_deadline_opens_and_closes_with_transitions(engine):
    with unit_of_work(engine) as session:
        world = make_world(session)
        app = application_in(session, world, "in_review")
        # 14 days after Friday 18 December 2020 is 1 January 2021 (holiday), then a Saturday.
        when = datetime(2020, 12, 18, 9, tzinfo=BERLIN)
        wf.fire(session, app, "request_documents", world.reviewer, reason="Satzung", now=when)
        deadline = session.exec(select(Deadline).where(Deadline.application_id == app.id)).one()
        assert deadline.due_date == date(2021, 1, 4) and deadline.status == "open"
        wf.fire(session, app, "provide_documents", world.carrier, now=when + timedelta(days=3),
                payload={"explanation": "Liegt bei"})
        session.refresh(deadline)
        assert deadline.status == "met"


def test_final_states_cancel_open_deadlines(engine):
    with unit_of_work(engine) as session:
        world = make_world(session)
        app = application_in(session, world, "in_review")
        wf.fire(session, app, "request_documents", world.reviewer, reason="Satzung", now=NOW)
        wf.fire(session, app, "withdraw", world.carrier, now=NOW + timedelta(days=1))
        deadline = session.exec(select(Deadline).where(Deadline.application_id == app.id)).one()
        assert deadline.status in ("met", "cancelled")
        assert deadline.closed_at is not None


def test_programme_overrides_default_rules():
    assert rules_for({})["final_report"] == DEFAULT_RULES["final_report"]
    assert rules_for({"deadlines": {"final_report": {"months_after_end": 3}}})[
        "final_report"] == {"months_after_end": 3}
