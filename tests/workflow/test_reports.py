"""Interim reports: submit, accept, ask for changes; deadlines, history and refusals."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from sqlmodel import Session, select

from tests.factories import application_in, make_world
from tests.workflow.helpers import refused
from workflow import applications, reports
from workflow.db import unit_of_work
from workflow.deadlines import BERLIN
from workflow.errors import GuardFailed, InvalidInput, NotFound, NotPermitted, WrongState
from workflow.models import Application, Deadline, TransitionRecord


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=BERLIN)


@pytest.fixture
def active(engine):
    with unit_of_work(engine) as session:
        world = make_world(session)
        app = application_in(session, world, "active")
    return world, app.id


def interim_deadline(session: Session, app_id: int, period: str = "2021") -> Deadline:
    return session.exec(select(Deadline).where(
        Deadline.application_id == app_id, Deadline.kind == "interim_report",
        Deadline.period == period)).one()


def test_submit_accept_closes_the_deadline_and_writes_history(engine, active):
    world, app_id = active
    with unit_of_work(engine) as session:
        version = session.get(Application, app_id).version
        report = reports.submit_interim_report(
            session, app_id, world.carrier, narrative="Elterncafé läuft, 40 Familien erreicht.",
            spending={"2021": "38.500,50"}, now=at(date(2022, 3, 15)))
        assert report.period == "2021" and report.spending_cents == {"2021": 3_850_050}
        assert not report.late
        deadline = interim_deadline(session, app_id)
        assert deadline.status == "met" and deadline.closed_at is not None
    with unit_of_work(engine) as session:
        accepted = reports.accept_interim_report(session, app_id, world.reviewer,
                                                 now=at(date(2022, 3, 20)))
        assert accepted.status == "accepted" and accepted.reviewed_by_id == world.reviewer.id
        app = session.get(Application, app_id)
        assert app.state == "active" and app.version == version  # a record, not a state change
        history = applications.history(session, app)
        mine = [(r.trigger, r.from_state, r.to_state, r.actor_role) for r in history[-2:]]
        assert mine == [("submit_interim_report", "active", "active", "carrier"),
                        ("accept_interim_report", "active", "active", "reviewer")]
        assert history[-2].payload["spending_cents"] == {"2021": 3_850_050}
        assert interim_deadline(session, app_id).status == "met"


def test_changes_requested_reopen_the_deadline_with_the_14_day_rule(engine, active):
    world, app_id = active
    with unit_of_work(engine) as session:
        reports.submit_interim_report(session, app_id, world.carrier, narrative="Bericht",
                                      spending={"2021": "1000"}, now=at(date(2022, 4, 20)))
        report = reports.request_interim_changes(
            session, app_id, world.reviewer, reason="Belege für Honorare fehlen.",
            now=at(date(2022, 4, 22)))
        assert report.status == "changes_requested"
        deadline = interim_deadline(session, app_id)
        # 22 April + 14 days = Friday 6 May 2022.
        assert deadline.status == "open" and deadline.due_date == date(2022, 5, 6)
    with unit_of_work(engine) as session:
        second = reports.submit_interim_report(
            session, app_id, world.carrier, narrative="Bericht mit Belegen",
            spending={"2021": "1000"}, now=at(date(2022, 5, 9)))
        assert second.late and second.id != report.id
        reports.accept_interim_report(session, app_id, world.approver, note="Passt.",
                                      now=at(date(2022, 5, 10)))
        triggers = [r.trigger for r in session.exec(select(TransitionRecord).where(
            TransitionRecord.application_id == app_id).order_by(TransitionRecord.id))]
        assert triggers[-4:] == ["submit_interim_report", "request_interim_report_changes",
                                 "submit_interim_report", "accept_interim_report"]
        late_row = session.exec(select(TransitionRecord).where(
            TransitionRecord.trigger == "submit_interim_report").order_by(
            TransitionRecord.id.desc())).first()
        assert late_row.late
        assert [r.status for r in reports.interim_reports(session, session.get(
            Application, app_id))] == ["changes_requested", "accepted"]


def test_refusals_say_why_and_write_nothing(engine, active):
    world, app_id = active

    def submit(actor, when=at(date(2022, 3, 1)), **kw):
        args = {"narrative": "Bericht", "spending": {"2021": "100"}, **kw}
        return lambda s: reports.submit_interim_report(s, app_id, actor, now=when, **args)

    refused(engine, NotPermitted, submit(world.reviewer), "Träger")
    refused(engine, NotFound, submit(world.other_carrier), "nicht gefunden")
    refused(engine, InvalidInput, submit(world.carrier, narrative="  "), "Sachbericht")
    refused(engine, InvalidInput, submit(world.carrier, spending={}), "Ausgaben")
    refused(engine, InvalidInput, submit(world.carrier, spending={"2021": "60000"}),
            "übersteigen")
    refused(engine, InvalidInput, submit(world.carrier, spending={"2023": "1"}), "2023")
    refused(engine, GuardFailed, submit(world.carrier, when=at(date(2021, 6, 1))),
            "nach Ablauf des Haushaltsjahres")
    refused(engine, NotFound, submit(world.carrier, period="2019"), "2019")
    refused(engine, WrongState, lambda s: reports.accept_interim_report(
        s, app_id, world.reviewer, now=at(date(2022, 3, 2))), "kein eingereichter")
    with unit_of_work(engine) as session:
        submit(world.carrier)(session)
    refused(engine, WrongState, submit(world.carrier, period="2021"), "bereits")
    refused(engine, NotPermitted, lambda s: reports.accept_interim_report(
        s, app_id, world.carrier), "Sachbearbeitung")
    refused(engine, InvalidInput, lambda s: reports.request_interim_changes(
        s, app_id, world.reviewer, reason=" "), "begründen")


def test_only_active_projects_submit_interim_reports(engine):
    with unit_of_work(engine) as session:
        world = make_world(session)
        app = application_in(session, world, "approved")
    refused(engine, WrongState, lambda s: reports.submit_interim_report(
        s, app.id, world.carrier, narrative="x", spending={"2021": "1"},
        now=at(date(2022, 2, 1))), "in Durchführung")


def test_interim_reports_over_http(engine, active):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from tests.api.conftest import PASSWORD, api_settings, login
    from workflow.models import User
    from workflow.reminders import run_reminder_pass
    from workflow.security import hash_password

    world, app_id = active
    with unit_of_work(engine) as session:
        hashed = hash_password(PASSWORD)
        for user in session.exec(select(User)):
            user.password_hash = hashed
            session.add(user)
        reference = session.get(Application, app_id).reference
    run_reminder_pass(engine, at(date(2022, 4, 4), 6))
    base = f"/api/v1/applications/{reference}"
    with TestClient(create_app(engine=engine, settings=api_settings())) as client:
        carrier = login(client, "traeger@example.org")
        other = login(client, "andere@example.org")
        reviewer = login(client, "pruefung@example.org")
        body = {"narrative": "Elterncafé läuft.", "spending": {"2021": "12000.50"}}
        assert client.post(f"{base}/interim-reports", json=body,
                           headers=other).status_code == 404
        refused_ = client.post(f"{base}/interim-reports", json=body, headers=reviewer)
        assert refused_.status_code == 403 and "Träger" in refused_.json()["detail"]
        created = client.post(f"{base}/interim-reports", json=body, headers=carrier)
        assert created.status_code == 201, created.text
        assert created.json()["spending"] == {"2021": "12000.50"}
        assert created.json()["period"] == "2021" and created.json()["late"]  # real clock
        changes = client.post(f"{base}/interim-reports/2021/request-changes",
                              json={"reason": "Belege fehlen."}, headers=reviewer)
        assert changes.status_code == 200 and changes.json()["status"] == "changes_requested"
        again = client.post(f"{base}/interim-reports", json=body, headers=carrier)
        assert again.status_code == 201
        accepted = client.post(f"{base}/interim-reports/2021/accept", headers=reviewer)
        assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
        listed = client.get(f"{base}/interim-reports", headers=carrier).json()
        assert [r["status"] for r in listed] == ["changes_requested", "accepted"]
        triggers = [h["trigger"] for h in client.get(f"{base}/history", headers=carrier).json()]
        assert triggers[-4:] == ["submit_interim_report", "request_interim_report_changes",
                                 "submit_interim_report", "accept_interim_report"]
        assert "reminder:before_28" in triggers
        reminders = client.get(f"{base}/reminders", headers=reviewer).json()
        assert [(r["step"], r["status"]) for r in reminders] == [("before_28", "sent")]


@pytest.mark.postgres
def test_two_submissions_at_once_meet_the_deadline_once(pg_engine):
    import threading

    from workflow.reminder_tables import InterimReport

    with unit_of_work(pg_engine) as session:
        world = make_world(session)
        app_id = application_in(session, world, "active").id
    barrier, outcomes = threading.Barrier(4), []

    def submit() -> None:
        barrier.wait()
        try:
            with unit_of_work(pg_engine) as session:
                reports.submit_interim_report(session, app_id, world.carrier, narrative="Bericht",
                                              spending={"2021": "100"}, now=at(date(2022, 3, 1)))
            outcomes.append("ok")
        except WrongState:
            outcomes.append("refused")

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ok", "refused", "refused", "refused"]
    with Session(pg_engine) as session:
        assert len(session.exec(select(InterimReport)).all()) == 1


def test_carrier_is_emailed_on_every_interim_report_step(engine, active):
    from notifications.outbox import OutboxMessage
    world, app_id = active
    with unit_of_work(engine) as session:
        before = len(session.exec(select(OutboxMessage)).all())
        reports.submit_interim_report(session, app_id, world.carrier, narrative="Bericht",
                                      spending={"2021": "1000"}, now=at(date(2022, 3, 15)))
        reports.request_interim_changes(session, app_id, world.reviewer,
                                        reason="Belege für Honorare fehlen",
                                        now=at(date(2022, 3, 18)))
        reports.submit_interim_report(session, app_id, world.carrier, narrative="Bericht, ergänzt",
                                      spending={"2021": "1000"}, now=at(date(2022, 3, 25)))
        reports.accept_interim_report(session, app_id, world.reviewer, now=at(date(2022, 3, 28)))
        sent = session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()[before:]
    assert [m.template for m in sent] == [
        "interim_report_received", "case_officer_notice", "interim_report_changes_requested",
        "interim_report_received", "case_officer_notice", "interim_report_accepted"]
    carrier_mails = [m for m in sent if m.template != "case_officer_notice"]
    assert {m.recipient for m in carrier_mails} == {world.carrier_email}
    assert {m.recipient for m in sent} - {world.carrier_email} == {"pruefung@example.org"}
    changes = carrier_mails[1]
    assert "Belege für Honorare fehlen" in changes.body_text
    assert "01.04.2022" in changes.body_text  # 18.03. + 14 days
