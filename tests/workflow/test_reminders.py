"""Reminder steps on a controlled clock: every step once, catch-up, cancellation, configuration."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlmodel import Session, select

from notifications.outbox import OutboxMessage
from tests.factories import application_in, final_report_payload, make_world
from workflow import engine as wf
from workflow import reports
from workflow.db import unit_of_work
from workflow.deadlines import BERLIN
from workflow.models import Deadline, Programme, TransitionRecord
from workflow.reminders import (
    DEFAULT_REMINDERS,
    ReminderSent,
    decide,
    overdue_application_ids,
    plan_steps,
    reminder_rule,
    run_reminder_pass,
)

CONTEXT_KEYS = {
    "programme_name", "programme_code", "contact_name", "contact_email", "reference", "title",
    "recipient_name", "state", "state_label", "deadline_kind", "deadline_label", "due_date",
    "step", "days", "grace_until", "case_officer_name", "case_officer_email", "mahnung_on",
    "reminded",
}
# The 2021 interim report of a project running 2021-03-01..2022-12-31 is due on 30 April 2022,
# a Saturday; 1 May is a Sunday and a holiday, so it moves to Monday, 2 May 2022.
INTERIM_DUE = date(2022, 5, 2)


def at(day: date, hour: int = 7) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=BERLIN)


def days(start: date, end: date):
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def run_daily(engine, start: date, end: date) -> None:
    for day in days(start, end):
        run_reminder_pass(engine, at(day))


@pytest.fixture
def active(engine):
    """An active project: (world, application id, interim deadline id, final deadline id)."""
    with unit_of_work(engine) as session:
        world = make_world(session)
        app = application_in(session, world, "active")
        by_kind = {d.kind: d.id for d in session.exec(
            select(Deadline).where(Deadline.application_id == app.id))}
    return world, app.id, by_kind["interim_report"], by_kind["final_report"]


def sent_steps(engine, deadline_id: int) -> list[tuple[str, str, date]]:
    with Session(engine) as session:
        rows = session.exec(select(ReminderSent).where(ReminderSent.deadline_id == deadline_id)
                            .order_by(ReminderSent.id)).all()
        return [(r.step, r.status, r.at.astimezone(BERLIN).date()) for r in rows]


def emails(engine, deadline_id: int) -> list[OutboxMessage]:
    """The reminder emails of one deadline (linked through their ReminderSent rows)."""
    with Session(engine) as session:
        return list(session.exec(select(OutboxMessage).join(
            ReminderSent, ReminderSent.outbox_id == OutboxMessage.id).where(
            ReminderSent.deadline_id == deadline_id).order_by(OutboxMessage.id)))


def test_every_step_is_sent_once_on_its_day(engine, active):
    world, app_id, interim_id, _ = active
    run_daily(engine, date(2022, 3, 1), date(2022, 6, 15))
    run_reminder_pass(engine, at(date(2022, 6, 15), 18))  # a second pass the same day: nothing
    grace = date(2022, 5, 23)  # 9 May + 14 days, a Monday
    assert sent_steps(engine, interim_id) == [
        ("before_28", "sent", INTERIM_DUE - timedelta(days=28)),
        ("before_7", "sent", INTERIM_DUE - timedelta(days=7)),
        ("due", "sent", INTERIM_DUE),
        ("overdue", "sent", INTERIM_DUE + timedelta(days=7)),
        ("escalation", "sent", grace + timedelta(days=1)),
    ]
    messages = emails(engine, interim_id)
    assert [(m.template, m.recipient, m.context["step"], m.context["days"]) for m in messages] == [
        ("deadline_reminder", "traeger@example.org", "before_28", 28),
        ("deadline_reminder", "traeger@example.org", "before_7", 7),
        ("deadline_reminder", "traeger@example.org", "due", 0),
        ("deadline_reminder", "traeger@example.org", "overdue", -7),
        ("deadline_escalation", "pruefung@example.org", "escalation", -22),
    ]
    for m in messages:
        # The carrier's reminders link to the page of the interim report; the escalation (for
        # the case officer) links nowhere.
        link = {"link", "link_label"} if m.template == "deadline_reminder" else set()
        assert set(m.context) == CONTEXT_KEYS | link
        if link:
            assert m.context["link"] == (f"http://127.0.0.1:8000/antraege/"
                                         f"{m.context['reference']}/zwischennachweis")
            assert m.context["link"] in m.body_text and m.context["link"] in m.body_html
        assert m.context["deadline_label"] == "Zwischennachweis"
        assert m.context["due_date"] == "2022-05-02"
        assert m.context["case_officer_email"] == "pruefung@example.org"
        assert m.context["state"] == "active" and m.context["reference"]
    assert messages[3].context["grace_until"] == grace.isoformat()
    assert messages[4].context["grace_until"] == grace.isoformat()
    assert messages[0].context["grace_until"] == ""
    assert messages[4].context["recipient_name"] == "Sabine Prüfer"
    with Session(engine) as session:
        rows = session.exec(select(ReminderSent).where(ReminderSent.deadline_id == interim_id)
                            .order_by(ReminderSent.id)).all()
        assert rows[3].grace_until == grace and rows[3].outbox_id == messages[3].id
        history = [r for r in session.exec(select(TransitionRecord).where(
            TransitionRecord.application_id == app_id).order_by(TransitionRecord.id))
            if r.trigger.startswith("reminder:")]
        assert [r.trigger for r in history] == [
            "reminder:before_28", "reminder:before_7", "reminder:due", "reminder:overdue",
            "reminder:escalation"]
        assert all(r.from_state == r.to_state == "active" for r in history)
        assert "Nachfrist bis 23.05.2022" in history[3].reason
        assert history[3].payload["grace_until"] == "2022-05-23"


def test_escalated_application_shows_as_overdue_until_the_report_arrives(engine, active):
    world, app_id, interim_id, _ = active
    run_daily(engine, date(2022, 5, 9), date(2022, 5, 23))
    with Session(engine) as session:
        assert overdue_application_ids(session) == set()
    run_reminder_pass(engine, at(date(2022, 5, 24)))
    with Session(engine) as session:
        assert overdue_application_ids(session) == {app_id}
        assert overdue_application_ids(session, date(2022, 5, 23)) == set()
    with unit_of_work(engine) as session:
        report = reports.submit_interim_report(
            session, app_id, world.carrier, narrative="Verspätet, aber vollständig.",
            spending={"2021": "40000"}, now=at(date(2022, 5, 30), 10))
        assert report.late
    with Session(engine) as session:
        assert overdue_application_ids(session) == set()


def test_catch_up_after_a_gap_sends_only_the_newest_step(engine, active):
    _, _, interim_id, _ = active
    run_reminder_pass(engine, at(date(2022, 3, 1)))  # plans the steps, nothing due yet
    assert sent_steps(engine, interim_id) == []
    # The scheduler was down from 1 March to 10 May: before_28, before_7, due and overdue are due.
    summary = run_reminder_pass(engine, at(date(2022, 5, 10)))
    assert dict(summary.sent) == {"overdue": 1} and summary.skipped == 3
    assert sent_steps(engine, interim_id) == [
        ("before_28", "skipped", date(2022, 5, 10)), ("before_7", "skipped", date(2022, 5, 10)),
        ("due", "skipped", date(2022, 5, 10)), ("overdue", "sent", date(2022, 5, 10))]
    (mahnung,) = emails(engine, interim_id)
    # The grace period runs from the day the formal reminder actually went out.
    assert mahnung.context["grace_until"] == "2022-05-24" and mahnung.context["days"] == -8
    run_daily(engine, date(2022, 5, 10), date(2022, 5, 24))
    assert len(emails(engine, interim_id)) == 1
    run_reminder_pass(engine, at(date(2022, 5, 25)))
    assert [m.context["step"] for m in emails(engine, interim_id)] == ["overdue", "escalation"]
    # Skipped steps never fire later, even on a pass with an older clock.
    run_reminder_pass(engine, at(date(2022, 4, 25)))
    assert len(emails(engine, interim_id)) == 2


def test_a_met_deadline_cancels_its_remaining_steps(engine, active):
    world, app_id, interim_id, final_id = active
    run_daily(engine, date(2022, 4, 1), date(2022, 4, 20))
    assert [s[0] for s in sent_steps(engine, interim_id)] == ["before_28"]
    with unit_of_work(engine) as session:
        reports.submit_interim_report(session, app_id, world.carrier, narrative="Läuft gut.",
                                      spending={"2021": "30000"}, now=at(date(2022, 4, 20), 11))
    run_daily(engine, date(2022, 4, 21), date(2022, 6, 30))
    assert [s[0] for s in sent_steps(engine, interim_id)] == ["before_28"]
    # The final report: reminders start 28 days before 30 June 2023, the report arrives, silence.
    run_daily(engine, date(2023, 6, 1), date(2023, 6, 5))
    assert [s[0] for s in sent_steps(engine, final_id)] == ["before_28"]
    with unit_of_work(engine) as session:
        wf.fire(session, app_id, "submit_final_report", world.carrier,
                payload=final_report_payload({"2021": "50000", "2022": "45000"}), reason="Nachweis",
                now=at(date(2023, 6, 5), 12))
    run_daily(engine, date(2023, 6, 6), date(2023, 8, 31))
    assert [s[0] for s in sent_steps(engine, final_id)] == ["before_28"]
    with Session(engine) as session:
        assert session.get(Deadline, final_id).status == "met"


def test_reopened_deadline_runs_through_its_steps_again(engine, active):
    world, app_id, interim_id, _ = active
    with unit_of_work(engine) as session:
        reports.submit_interim_report(session, app_id, world.carrier, narrative="Bericht",
                                      spending={"2021": "30000"}, now=at(date(2022, 4, 1), 11))
        reports.request_interim_changes(session, app_id, world.reviewer,
                                        reason="Bitte Belege ergänzen.",
                                        now=at(date(2022, 4, 4), 11))
    with Session(engine) as session:
        deadline = session.get(Deadline, interim_id)
        assert deadline.status == "open" and deadline.due_date == date(2022, 4, 19)  # Easter Monday
    run_daily(engine, date(2022, 4, 4), date(2022, 4, 26))
    # Opened on 4 April with 15 days to go: no 28-day reminder, then 7 days before and on the day.
    assert [(s[0], s[2]) for s in sent_steps(engine, interim_id)] == [
        ("before_7", date(2022, 4, 12)), ("due", date(2022, 4, 19)), ("overdue", date(2022, 4, 26))]


def test_document_request_gets_no_28_day_reminder(engine):
    with unit_of_work(engine) as session:
        world = make_world(session)
        app = application_in(session, world, "in_review")
        wf.fire(session, app, "request_documents", world.reviewer, reason="Satzung fehlt",
                now=at(date(2020, 11, 3)))
        deadline = session.exec(select(Deadline).where(Deadline.kind == "document_request")).one()
        assert deadline.due_date == date(2020, 11, 17)
    run_daily(engine, date(2020, 11, 3), date(2020, 12, 10))
    assert [(s[0], s[2]) for s in sent_steps(engine, deadline.id)] == [
        ("before_7", date(2020, 11, 10)), ("due", date(2020, 11, 17)),
        ("overdue", date(2020, 11, 24)), ("escalation", date(2020, 12, 9))]


def test_reminder_steps_are_configurable_per_programme(engine, active):
    _, _, interim_id, _ = active
    with unit_of_work(engine) as session:
        programme = session.exec(select(Programme)).one()
        programme.config = {**programme.config,
                            "reminders": {"default": {"before_days": [14]},
                                          "interim_report": {"grace_days": 7, "on_due": False}}}
        session.add(programme)
    run_daily(engine, date(2022, 4, 1), date(2022, 5, 31))
    assert [(s[0], s[2]) for s in sent_steps(engine, interim_id)] == [
        ("before_14", date(2022, 4, 18)), ("overdue", date(2022, 5, 9)),
        ("escalation", date(2022, 5, 17))]


def test_escalation_without_case_officer_goes_to_the_programme(engine):
    with unit_of_work(engine) as session:
        world = make_world(session)
        app = application_in(session, world, "submitted")  # nobody has taken the case yet
        deadline = Deadline(application_id=app.id, kind="hearing_reply", due_date=date(2021, 3, 1),
                            opened_at=at(date(2021, 2, 1)))
        session.add(deadline)
    run_reminder_pass(engine, at(date(2021, 4, 1)))  # long after the grace period
    (message,) = emails(engine, deadline.id)
    assert message.template == "deadline_escalation" and message.recipient == "ziq@mags.example"
    assert message.context["case_officer_email"] == "ziq@mags.example"


def test_a_disabled_carrier_gets_nothing_but_the_step_is_recorded(engine, active):
    from workflow.models import User

    _, _, interim_id, _ = active
    with unit_of_work(engine) as session:
        carrier = session.exec(select(User).where(User.email == "traeger@example.org")).one()
        carrier.disabled = True
        session.add(carrier)
    summary = run_reminder_pass(engine, at(date(2022, 4, 4)))
    assert summary.without_recipient == 1 and not summary.sent
    assert emails(engine, interim_id) == []
    assert sent_steps(engine, interim_id) == [("before_28", "skipped", date(2022, 4, 4))]


def test_planning_rules():
    rule = reminder_rule({}, "final_report")
    assert rule == DEFAULT_REMINDERS
    due = date(2023, 6, 30)
    steps = plan_steps(due, date(2021, 1, 1), rule)
    assert [(s.name, s.on) for s in steps] == [
        ("before_28", date(2023, 6, 2)), ("before_7", date(2023, 6, 23)), ("due", due),
        ("overdue", date(2023, 7, 7)), ("escalation", date(2023, 7, 22))]
    nothing = decide(steps, set(), date(2023, 6, 1))
    assert nothing.send is None and nothing.next_on == date(2023, 6, 2)
    burst = decide(steps, {"before_28"}, date(2023, 7, 10))
    assert burst.send.name == "overdue" and [s.name for s in burst.skip] == ["before_7", "due"]
    done = decide(steps, {"escalation"}, date(2024, 1, 1))
    assert done.send is None and done.skip == () and done.next_on.year == 9999


# ---------------------------------------------------------------- concurrent passes on PostgreSQL

# Days until the due date -> the newest step due today (older ones are skipped in a catch-up).
# 30 days overdue and never gemahnt: the Mahnung, not the escalation (it waits for the Nachfrist).
EXPECTED_STEP = {28: "before_28", 7: "before_7", 0: "due", -7: "overdue", -30: "overdue"}


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.postgres
def test_four_remind_processes_send_each_due_step_exactly_once(pg_url):
    import email
    import json
    import os
    import re
    import subprocess
    import sys
    from collections import Counter
    from pathlib import Path

    from aiosmtpd.controller import Controller
    from sqlalchemy import insert
    from sqlmodel import SQLModel

    from notifications.worker import deliver_due
    from workflow.db import make_engine
    from workflow.settings import Settings

    db = make_engine(pg_url)
    SQLModel.metadata.create_all(db)
    today = date(2022, 6, 1)
    with unit_of_work(db) as session:
        world = make_world(session)
        app_ids = [application_in(session, world, "active").id for _ in range(10)]
        for own in session.exec(select(Deadline)):  # only the deadlines below are due
            own.status = "met"
            session.add(own)
    opened = at(date(2020, 11, 2))
    rows, expected = [], {}
    for i in range(1000):
        offset = list(EXPECTED_STEP)[i % 5]
        rows.append({"application_id": app_ids[i % 10], "kind": "interim_report",
                     "period": f"p{i}", "due_date": today + timedelta(days=offset),
                     "status": "open", "opened_at": opened,
                     "next_reminder_on": None if i % 2 else today})
    for i in range(500):  # open but not due: never touched
        rows.append({"application_id": app_ids[i % 10], "kind": "hearing_reply",
                     "period": f"q{i}", "due_date": today + timedelta(days=60),
                     "status": "open", "opened_at": opened,
                     "next_reminder_on": today + timedelta(days=32)})
    with db.begin() as conn:
        conn.execute(insert(Deadline.__table__), rows)
    with Session(db) as session:
        for d in session.exec(select(Deadline).where(Deadline.period.like("p%"))):
            expected[(d.id, EXPECTED_STEP[(d.due_date - today).days])] = 1
    assert len(expected) == 1000

    with Session(db) as session:
        transition_emails = len(session.exec(select(OutboxMessage.id)).all())

    quartier = Path(sys.executable).with_name("quartier")
    env = {**os.environ, "QUARTIER_DATABASE_URL": pg_url}
    procs = [subprocess.Popen([str(quartier), "remind", "--now", at(today).isoformat(), "--json"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [err for _, err in outputs]
    assert sum(json.loads(out)["sent_total"] for out, _ in outputs) == 1000

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        report = deliver_due(db, Settings(smtp_host="127.0.0.1", smtp_port=controller.port,
                                          mail_batch_size=250).delivery())
    finally:
        controller.stop()
    assert report.sent == 1000 + transition_emails and not report.errors
    with Session(db) as session:
        sent_rows = session.exec(select(ReminderSent).where(ReminderSent.status == "sent")).all()
        assert len(sent_rows) == 1000
        steps = {r.outbox_id: (r.deadline_id, r.step) for r in sent_rows}
        history = session.exec(select(TransitionRecord).where(
            TransitionRecord.trigger.like("reminder:%"))).all()
        assert len(history) == 1000
    counted: Counter = Counter()
    for raw in inbox.messages:
        message = email.message_from_bytes(raw)
        outbox_id = int(re.search(r"outbox-(\d+)\.", message["Message-ID"]).group(1))
        if outbox_id in steps:  # the others are the transition emails of the set-up
            counted[steps[outbox_id]] += 1
    assert dict(counted) == expected
    # A fifth pass later the same day finds nothing left to send.
    assert sum(run_reminder_pass(db, at(today, 20)).sent.values()) == 0
    db.dispose()


# ---------------------------------------------------------------- issue 12, item 3: premises


def _active_on(engine):
    """An active project on `engine` (either database): (application id, interim deadline id)."""
    with unit_of_work(engine) as session:
        world = make_world(session)
        app = application_in(session, world, "active")
        interim = session.exec(select(Deadline).where(
            Deadline.application_id == app.id, Deadline.kind == "interim_report")).one()
    return app.id, interim.id


def test_catch_up_after_a_long_outage_sends_the_mahnung_not_the_escalation(any_engine):
    app_id, interim_id = _active_on(any_engine)
    run_reminder_pass(any_engine, at(date(2022, 3, 1)))  # plans the steps, nothing due yet
    # Down from before the due date (2 May) until long after the planned escalation (24 May).
    down_until = date(2022, 7, 1)
    first = run_reminder_pass(any_engine, at(down_until))
    again = run_reminder_pass(any_engine, at(down_until, 9))  # a second scheduler: nothing more
    assert dict(first.sent) == {"overdue": 1} and first.skipped == 3
    assert not again.sent and not again.skipped
    assert sent_steps(any_engine, interim_id) == [
        ("before_28", "skipped", down_until), ("before_7", "skipped", down_until),
        ("due", "skipped", down_until), ("overdue", "sent", down_until)]
    (mahnung,) = emails(any_engine, interim_id)
    grace = date(2022, 7, 15)  # 14 days from the day the Mahnung actually went out
    assert mahnung.template == "deadline_reminder" and mahnung.recipient == "traeger@example.org"
    assert mahnung.context["grace_until"] == grace.isoformat()
    assert "15.07.2022" in mahnung.body_text and mahnung.subject.startswith("Mahnung")
    # Inside the grace period nothing follows; the day after it, the escalation.
    run_daily(any_engine, date(2022, 7, 2), grace)
    assert len(emails(any_engine, interim_id)) == 1
    run_reminder_pass(any_engine, at(grace + timedelta(days=1)))
    run_reminder_pass(any_engine, at(grace + timedelta(days=1), 15))
    mahnung, escalation = emails(any_engine, interim_id)
    assert escalation.template == "deadline_escalation"
    assert escalation.recipient == "pruefung@example.org"
    assert escalation.context["mahnung_on"] == "2022-07-01"
    assert escalation.context["grace_until"] == grace.isoformat()
    text = " ".join(escalation.body_text.split())
    assert "am 01.07.2022 gemahnt" in text and "Nachfrist bis 15.07.2022 ist verstrichen" in text
    with Session(any_engine) as session:
        history = [r for r in session.exec(select(TransitionRecord).where(
            TransitionRecord.application_id == app_id).order_by(TransitionRecord.id))
            if r.trigger.startswith("reminder:")]
    assert [(r.trigger, r.at.astimezone(BERLIN).date()) for r in history] == [
        ("reminder:overdue", down_until), ("reminder:escalation", grace + timedelta(days=1))]
    assert history[0].reason == (
        "Mahnung: Zwischennachweis 2021, fällig am 02.05.2022; Nachfrist bis 15.07.2022")
    assert history[1].reason == (
        "Eskalation an die Sachbearbeitung: Zwischennachweis 2021, fällig am 02.05.2022; "
        "gemahnt am 01.07.2022, Nachfrist am 15.07.2022 abgelaufen")
    assert history[1].payload["mahnung_on"] == "2022-07-01"


def test_escalation_waits_for_its_premise_in_the_plan():
    rule = reminder_rule({}, "final_report")
    steps = plan_steps(date(2023, 6, 30), date(2021, 1, 1), rule)
    late = decide(steps, {"before_28"}, date(2024, 1, 1))
    assert late.send.name == "overdue" and [s.name for s in late.skip] == ["before_7", "due"]
    after_mahnung = plan_steps(date(2023, 6, 30), date(2021, 1, 1), rule, date(2024, 1, 15))
    waiting = decide(after_mahnung, {"overdue"}, date(2024, 1, 15))
    assert waiting.send is None and waiting.next_on == date(2024, 1, 16)
    assert decide(after_mahnung, {"overdue"}, date(2024, 1, 16)).send.name == "escalation"


# ---------------------------------------------------------------- issue 12, item 4a: no Mahnung


def test_ziq_hearing_reply_gets_reminders_but_no_mahnung(any_engine):
    from workflow.seed import load_programme_data

    with unit_of_work(any_engine) as session:
        world = make_world(session)
        programme = session.exec(select(Programme)).one()
        programme.config = load_programme_data()["programme"]["config"]
        session.add(programme)
        app = application_in(session, world, "active")
        wf.fire(session, app, "open_hearing", world.reviewer, reason="Zweckverfehlung",
                now=at(date(2021, 6, 1)))
        hearing = session.exec(select(Deadline).where(Deadline.kind == "hearing_reply")).one()
        rule = reminder_rule(programme.config, "hearing_reply")
    assert rule["mahnung"] is False and reminder_rule(programme.config, "interim_report")["mahnung"]
    assert hearing.due_date == date(2021, 6, 15)
    run_daily(any_engine, date(2021, 6, 1), date(2021, 8, 31))
    assert [(s[0], s[1], s[2]) for s in sent_steps(any_engine, hearing.id)] == [
        ("before_7", "sent", date(2021, 6, 8)), ("due", "sent", date(2021, 6, 15)),
        ("escalation", "sent", date(2021, 6, 16))]
    escalation = emails(any_engine, hearing.id)[-1]
    assert escalation.context["grace_until"] == "" and escalation.context["mahnung_on"] == ""
    text = " ".join(escalation.body_text.split())
    assert "Nachfrist bis" not in text
    assert "erinnert; eine Mahnung mit Nachfrist wurde nicht versandt. Eingegangen" in text
    with Session(any_engine) as session:
        assert not session.exec(select(ReminderSent).where(
            ReminderSent.grace_until.is_not(None))).all()


def test_the_code_default_gives_a_hearing_no_mahnung_and_a_programme_may():
    assert reminder_rule({}, "hearing_reply")["mahnung"] is False
    assert reminder_rule({}, "document_request")["mahnung"] is True
    config = {"reminders": {"hearing_reply": {"mahnung": True}}}
    names = [s.name for s in plan_steps(date(2021, 6, 15), date(2021, 6, 1),
                                        reminder_rule(config, "hearing_reply"))]
    assert names == ["before_7", "due", "overdue", "escalation"]
