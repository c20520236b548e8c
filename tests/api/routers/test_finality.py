"""Finality over HTTP: the application shows it; the carrier waives its right of appeal, staff set
the date of notification; refusals are German-first problem+json and write nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from tests.api.conftest import PROBLEM, A, ApiWorld, application_in, count, login, version_of
from workflow import deadlines
from workflow.models import TransitionRecord


def test_the_application_shows_finality_and_the_carrier_waives(
        client: TestClient, api_world: ApiWorld, carrier) -> None:
    ref = application_in(api_world, "approved")  # approved today
    today = deadlines.local_date(datetime.now(UTC))
    shown = client.get(f"{A}/applications/{ref}", headers=carrier).json()["finality"]
    assert shown["notified_on"] == today.isoformat() and shown["final"] is False
    assert shown["appeal_waived_at"] is None and shown["final_on"] > shown["appeal_ends_on"]

    reviewer = login(client, api_world.emails["reviewer"])
    rows = count(api_world, TransitionRecord)
    refused = client.post(f"{A}/applications/{ref}/waiver-of-appeal", headers=reviewer)
    assert refused.status_code == 403 and refused.headers["content-type"] == PROBLEM
    assert "nur dem Träger" in refused.json()["detail"]
    assert count(api_world, TransitionRecord) == rows

    _, version = version_of(api_world.engine, ref)
    stale = client.post(f"{A}/applications/{ref}/waiver-of-appeal",
                        headers={**carrier, "If-Match": f'W/"{version - 1}"'})
    assert stale.status_code == 412
    waived = client.post(f"{A}/applications/{ref}/waiver-of-appeal", headers=carrier)
    assert waived.status_code == 200, waived.text
    body = waived.json()
    assert body["transition"]["trigger"] == "waive_appeal"
    assert body["application"]["finality"]["final"] is True
    assert body["application"]["finality"]["final_on"] == today.isoformat()
    assert waived.headers["ETag"] == f'W/"{version + 1}"'
    again = client.post(f"{A}/applications/{ref}/waiver-of-appeal",
                        headers={**carrier, "Accept-Language": "en"})
    assert again.status_code == 409 and "already waived" in again.json()["detail"]


def test_staff_set_the_date_of_notification(client: TestClient, api_world: ApiWorld,
                                            carrier) -> None:
    ref = application_in(api_world, "approved")
    today = deadlines.local_date(datetime.now(UTC))
    reviewer = login(client, api_world.emails["reviewer"])
    url = f"{A}/applications/{ref}/notification-date"
    rows = count(api_world, TransitionRecord)
    for body, status, words in (
            ({"notified_on": (today + timedelta(days=1)).isoformat(), "reason": "Rückschein"},
             422, "in der Zukunft"),
            ({"notified_on": (today - timedelta(days=1)).isoformat(), "reason": "Rückschein"},
             422, "nicht vor dem Erlass"),
            ({"notified_on": today.isoformat(), "reason": " "}, 422, ""),
    ):
        answer = client.put(url, json=body, headers=reviewer)
        assert answer.status_code == status and answer.headers["content-type"] == PROBLEM
        assert words in answer.json()["detail"]
    by_carrier = client.put(url, json={"notified_on": today.isoformat(), "reason": "x"},
                            headers=carrier)
    assert by_carrier.status_code == 403
    assert count(api_world, TransitionRecord) == rows

    done = client.put(url, json={"notified_on": today.isoformat(), "reason": "Zustellung per "
                                 "E-Mail"}, headers=reviewer)
    assert done.status_code == 200, done.text
    assert done.json()["transition"]["payload"]["notified_on"] == today.isoformat()
    assert done.json()["application"]["finality"]["notified_on"] == today.isoformat()
