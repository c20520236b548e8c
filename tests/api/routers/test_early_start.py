"""The early start and the start rules over HTTP: problem+json refusals, German first, nothing
written; the response says an early start creates no right to funding."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.conftest import PROBLEM, Y1, A, ApiWorld, application_in, count, login, version_of
from workflow.models import TransitionRecord


def test_staff_grant_an_early_start(client: TestClient, api_world: ApiWorld, carrier) -> None:
    ref = application_in(api_world, "submitted")
    reviewer = login(client, api_world.emails["reviewer"])
    rows = count(api_world, TransitionRecord)
    for headers, status, kind, words in (
            (carrier, 403, "not-permitted", "Sachbearbeitung"),
            (login(client, api_world.emails["observer"]), 403, "not-permitted", "nur"),
    ):
        refused = client.post(f"{A}/applications/{ref}/early-start",
                              json={"reason": "Ferien"}, headers=headers)
        assert refused.status_code == status and refused.headers["content-type"] == PROBLEM
        assert refused.json()["type"].endswith(kind) and words in refused.json()["detail"]
    blank = client.post(f"{A}/applications/{ref}/early-start", json={"reason": " "},
                        headers=reviewer)
    assert blank.status_code == 422 and blank.headers["content-type"] == PROBLEM
    assert count(api_world, TransitionRecord) == rows
    assert version_of(api_world.engine, ref) == ("submitted", 2)

    granted = client.post(f"{A}/applications/{ref}/early-start",
                          json={"reason": "Ferienprogramm beginnt vor der Bewilligung"},
                          headers=reviewer)
    assert granted.status_code == 200, granted.text
    body = granted.json()
    assert body["right_to_funding"] is False and "keinen Rechtsanspruch" in body["notice"]
    assert body["application"]["early_start_granted"] is True
    assert body["transition"]["trigger"] == "grant_early_start"
    assert body["transition"]["actor_name"] == "Sabine Prüfer"
    assert granted.headers["ETag"] == 'W/"3"'
    again = client.post(f"{A}/applications/{ref}/early-start", json={"reason": "noch mal"},
                        headers={**reviewer, "Accept-Language": "en"})
    assert again.status_code == 409 and "already granted" in again.json()["detail"]
    english = client.post(f"{A}/applications/{ref}/early-start", json={"reason": "x"},
                          headers={**carrier, "Accept-Language": "en"})
    assert "only allowed for reviewers and approvers" in english.json()["detail"]


def test_no_early_start_after_the_decision(client: TestClient, api_world: ApiWorld) -> None:
    ref = application_in(api_world, "approved")
    reviewer = login(client, api_world.emails["reviewer"])
    refused = client.post(f"{A}/applications/{ref}/early-start", json={"reason": "zu spät"},
                          headers=reviewer)
    assert refused.status_code == 409 and refused.json()["type"].endswith("/wrong-state")
    assert "vor der Entscheidung" in refused.json()["detail"]


def test_start_over_http_only_from_the_start_date_or_with_a_waiver(
        client: TestClient, api_world: ApiWorld, carrier) -> None:
    ref = application_in(api_world, "approved")  # its project starts on 1 March of next year
    early = client.post(f"{A}/applications/{ref}/transitions/start", json={}, headers=carrier)
    assert early.status_code == 409 and early.headers["content-type"] == PROBLEM
    assert f"frühestens am 01.03.{Y1}" in early.json()["detail"]
    transitions = client.get(f"{A}/applications/{ref}/transitions", headers=carrier).json()
    start = next(t for t in transitions if t["trigger"] == "start")
    assert start["available"] is False and "Rechtsbehelfsverzicht" in start["reason"]["detail"]
    started = client.post(f"{A}/applications/{ref}/transitions/start",
                          json={"payload": {"waiver_of_appeal": True}}, headers=carrier)
    assert started.status_code == 200, started.text
    assert started.json()["transition"]["payload"] == {"waiver_of_appeal": True}
    assert started.json()["application"]["state"] == "active"
