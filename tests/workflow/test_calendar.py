"""The iCalendar feed: parses, lists exactly the organisation's open deadlines, secret per org."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlmodel import Session, select

from api.app import create_app
from tests.api.conftest import api_settings
from tests.factories import NOW, application_in, make_world
from workflow import calendar, reports
from workflow import engine as wf
from workflow.db import unit_of_work
from workflow.deadlines import BERLIN
from workflow.models import Application, Deadline, Organisation


@pytest.fixture
def feeds(engine):
    """Two organisations with deadlines; returns (tokens by org id, open deadline ids by org id)."""
    with unit_of_work(engine) as session:
        world = make_world(session)
        active = application_in(session, world, "active")
        in_review = application_in(session, world, "in_review")
        wf.fire(session, in_review, "request_documents", world.reviewer, reason="Satzung",
                now=NOW + timedelta(days=1))
        application_in(session, world, "active", carrier=world.other_carrier)
        application_in(session, world, "draft")  # no deadlines
        # A met deadline is not listed: the 2021 interim report arrives.
        reports.submit_interim_report(session, active, world.carrier, narrative="Bericht",
                                      spending={"2021": "100"},
                                      now=datetime(2022, 2, 1, 10, tzinfo=BERLIN))
        tokens = {o.id: calendar.ensure_token(session, o)
                  for o in session.exec(select(Organisation))}
        open_ids: dict[int, set[int]] = {}
        for deadline, app in session.exec(select(Deadline, Application).join(
                Application, Application.id == Deadline.application_id)
                .where(Deadline.status == "open")):
            open_ids.setdefault(app.organisation_id, set()).add(deadline.id)
    return tokens, open_ids


def events(body: bytes) -> dict[str, object]:
    cal = Calendar.from_ical(body)
    return {str(e["uid"]): e for e in cal.walk("VEVENT")}


def test_feed_lists_exactly_the_open_deadlines_of_its_organisation(engine, feeds):
    tokens, open_ids = feeds
    assert len(open_ids) == 2 and all(open_ids.values())
    with TestClient(create_app(engine=engine, settings=api_settings())) as client:
        for org_id, token in tokens.items():
            response = client.get(f"/api/v1/calendar/{token}.ics")
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/calendar")
            found = events(response.content)
            assert set(found) == {f"deadline-{i}@quartier" for i in open_ids[org_id]}
        other = events(client.get(f"/api/v1/calendar/{tokens[2]}.ics").content)
        assert not set(other) & {f"deadline-{i}@quartier" for i in open_ids[1]}
        missing = client.get("/api/v1/calendar/not-a-token.ics")
        assert missing.status_code == 404
        assert "existiert nicht" in missing.json()["detail"]


def test_events_carry_the_due_date_and_the_application(engine, feeds):
    tokens, open_ids = feeds
    with Session(engine) as session:
        org = session.get(Organisation, 1)
        found = events(calendar.organisation_calendar(session, org))
        final = next(e for e in found.values() if "Verwendungsnachweis" in str(e["summary"]))
        assert final.decoded("dtstart") == date(2023, 6, 30)
        assert final.decoded("dtend") == date(2023, 7, 1)
        assert "ZiQ-2020-0001" in str(final["summary"])
        alarms = final.walk("VALARM")
        assert alarms and alarms[0].decoded("trigger") == timedelta(days=-7)
        cal = Calendar.from_ical(calendar.organisation_calendar(session, org))
        assert "Träger 1 e.V." in str(cal["x-wr-calname"])


def test_rotated_token_retires_the_old_url(engine, feeds):
    tokens, _ = feeds
    with unit_of_work(engine) as session:
        new = calendar.rotate_token(session, session.get(Organisation, 1))
    with TestClient(create_app(engine=engine, settings=api_settings())) as client:
        assert client.get(f"/api/v1/calendar/{tokens[1]}.ics").status_code == 404
        assert client.get(f"/api/v1/calendar/{new}.ics").status_code == 200
