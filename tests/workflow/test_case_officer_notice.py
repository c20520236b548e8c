"""Issue 12, item 14: the case officer is told when the carrier provides documents, submits an
interim or final report, or replies to a hearing; in the outbox with the carrier's act, or not at
all."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from sqlmodel import Session, select

from notifications.outbox import OutboxMessage
from tests.factories import application_in, make_world
from workflow import engine as wf
from workflow import reports
from workflow.db import unit_of_work
from workflow.deadlines import BERLIN
from workflow.models import Application, User

OFFICER = "pruefung@example.org"


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=BERLIN)


def officer_mails(engine) -> list[OutboxMessage]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxMessage).where(
            OutboxMessage.template == "case_officer_notice").order_by(OutboxMessage.id)))


def _documents_requested(engine):
    with unit_of_work(engine) as session:
        world = make_world(session)
        app = application_in(session, world, "in_review")
        wf.fire(session, app, "request_documents", world.reviewer, reason="Satzung fehlt",
                now=at(date(2020, 11, 3)))
    return world, app.id


def test_documents_provided_reach_the_case_officer_with_the_act(any_engine):
    world, app_id = _documents_requested(any_engine)
    with unit_of_work(any_engine) as session:
        wf.fire(session, app_id, "provide_documents", world.carrier, reason="Anbei die Satzung.",
                payload={"documents": ["Satzung des Trägers"],
                         "explanation": "Die Satzung kommt im Original per Post."},
                now=at(date(2020, 11, 20)))
    (mail,) = officer_mails(any_engine)
    assert mail.recipient == OFFICER and mail.language == "de" and mail.application_id == app_id
    assert mail.subject.startswith("Eingang: Nachgereichte Unterlagen zu Antrag ZiQ-")
    text = " ".join(mail.body_text.split())
    assert text.startswith("Guten Tag Sabine Prüfer,")
    assert "eingereicht: Nachgereichte Unterlagen – nach Ablauf der gesetzten Frist" in text
    assert "Mitteilung des Trägers: Anbei die Satzung." in text and "Satzung des Trägers" in text


def test_a_rolled_back_act_tells_nobody(any_engine):
    world, app_id = _documents_requested(any_engine)

    class Abort(Exception):
        pass

    with pytest.raises(Abort), unit_of_work(any_engine) as session:
        wf.fire(session, app_id, "provide_documents", world.carrier,
                payload={"explanation": "Die Unterlagen kommen per Post."},
                now=at(date(2020, 11, 10)))
        assert [m.template for m in session.exec(select(OutboxMessage).where(
            OutboxMessage.recipient == OFFICER))] == ["case_officer_notice"]
        raise Abort
    assert officer_mails(any_engine) == []
    with Session(any_engine) as session:
        assert session.get(Application, app_id).state == "documents_requested"


def test_no_case_officer_no_mail(any_engine):
    world, app_id = _documents_requested(any_engine)
    with unit_of_work(any_engine) as session:
        app = session.get(Application, app_id)
        app.case_officer_id = None  # e.g. the case was handed back and nobody has taken it
        session.add(app)
    with unit_of_work(any_engine) as session:
        wf.fire(session, app_id, "provide_documents", world.carrier,
                payload={"explanation": "Die Unterlagen kommen per Post."},
                now=at(date(2020, 11, 10)))
    assert officer_mails(any_engine) == []
    with Session(any_engine) as session:  # the carrier still hears of it
        assert session.exec(select(OutboxMessage).where(
            OutboxMessage.template == "documents_received")).one().recipient == world.carrier_email


def test_reports_and_hearing_replies_reach_the_case_officer_in_their_language(any_engine):
    with unit_of_work(any_engine) as session:
        world = make_world(session)
        officer = session.exec(select(User).where(User.email == OFFICER)).one()
        officer.language = "en"
        session.add(officer)
        app = application_in(session, world, "active")
    with unit_of_work(any_engine) as session:
        reports.submit_interim_report(session, app.id, world.carrier, narrative="Läuft gut.",
                                      spending={"2021": "30000"}, now=at(date(2022, 3, 15)))
    with unit_of_work(any_engine) as session:
        wf.fire(session, app.id, "open_hearing", world.reviewer, reason="Zweckverfehlung",
                now=at(date(2022, 4, 1)))
        wf.fire(session, app.id, "answer_hearing", world.carrier, now=at(date(2022, 4, 8)),
                reason="Die Mittel wurden zweckentsprechend verwendet.")
    interim, hearing = officer_mails(any_engine)
    assert {interim.recipient, hearing.recipient} == {OFFICER}
    assert interim.language == hearing.language == "en"
    assert interim.subject.startswith("Received: Interim report 2021 for application ZiQ-")
    assert hearing.subject.startswith("Received: Hearing reply for application ZiQ-")
    assert "The carrier's message: Die Mittel wurden zweckentsprechend verwendet." in " ".join(
        hearing.body_text.split())


def test_the_final_report_reaches_the_case_officer(any_engine):
    with unit_of_work(any_engine) as session:
        world = make_world(session)
        app = application_in(session, world, "report_submitted")
    (mail,) = officer_mails(any_engine)
    assert mail.recipient == OFFICER and mail.application_id == app.id
    assert mail.context["received_label"] == "Verwendungsnachweis"
    assert mail.context["trigger"] == "submit_final_report"


def test_a_case_returned_to_review_tells_its_case_officer_with_the_reason(any_engine):
    with unit_of_work(any_engine) as session:
        world = make_world(session)
        app = application_in(session, world, "recommended")
        app_id = app.id
        wf.fire(session, app, "return_to_review", world.approver,
                reason="Die Finanzierung 2022 ist nicht belegt.", now=at(date(2020, 12, 1)))
    with Session(any_engine) as session:
        (mail,) = session.exec(select(OutboxMessage).where(
            OutboxMessage.template == "case_returned")).all()
        officer = session.get(User, session.get(Application, app_id).case_officer_id)
    assert mail.recipient == officer.email and mail.application_id == app_id
    assert mail.subject.startswith("Zurück in der Prüfung: Antrag ZiQ-")
    text = " ".join(mail.body_text.split())
    assert "an die Prüfung zurückgegeben" in text
    assert "Begründung: Die Finanzierung 2022 ist nicht belegt." in text
    assert "https://" not in text  # staff emails link nowhere
