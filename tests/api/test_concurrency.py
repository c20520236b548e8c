"""Idempotency-Key makes retries safe; a stale If-Match is refused with 412 and changes nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import func, select

from tests.api.conftest import ApiWorld, application_body, application_in, login, version_of
from workflow.db import unit_of_work
from workflow.models import Application, LedgerEntry, TransitionRecord

A = "/api/v1"


def count(aw: ApiWorld, model, *where) -> int:
    with unit_of_work(aw.engine) as session:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()


def test_retried_create_has_one_effect(client: TestClient, api_world: ApiWorld) -> None:
    carrier = login(client, api_world.emails["carrier"])
    key = {"Idempotency-Key": "create-7f3a"}
    first = client.post(f"{A}/applications", json=application_body(), headers={**carrier, **key})
    second = client.post(f"{A}/applications", json=application_body(), headers={**carrier, **key})
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.headers["ETag"] == first.headers["ETag"]
    assert second.headers["Location"] == first.headers["Location"]
    assert count(api_world, Application) == 1

    reused = client.post(f"{A}/applications", json=application_body(title="Anderes Projekt"),
                         headers={**carrier, **key})
    assert reused.status_code == 422
    assert reused.json()["type"].endswith("/idempotency-key-reused")
    assert count(api_world, Application) == 1

    # Keys belong to their user: another carrier's identical key is a different request.
    other = login(client, api_world.emails["other_carrier"])
    assert client.post(f"{A}/applications", json=application_body(),
                       headers={**other, **key}).status_code == 201
    assert count(api_world, Application) == 2


def test_retried_fire_has_one_effect(client: TestClient, api_world: ApiWorld) -> None:
    ref = application_in(api_world, "recommended")
    approver = login(client, api_world.emails["approver"])
    url = f"{A}/applications/{ref}/transitions/approve"
    headers = {**approver, "Idempotency-Key": "approve-1", "If-Match": 'W/"4"'}
    assert version_of(api_world.engine, ref) == ("recommended", 4)
    first = client.post(url, json={}, headers=headers)
    assert first.status_code == 200, first.text
    # The retry carries the old If-Match; it still gets the stored answer, not a 412.
    second = client.post(url, json={}, headers=headers)
    assert second.status_code == 200 and second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert version_of(api_world.engine, ref) == ("approved", 5)
    assert count(api_world, TransitionRecord, TransitionRecord.trigger == "approve") == 1
    assert count(api_world, LedgerEntry, LedgerEntry.kind == "commit") == 2  # one per year
    calls = client.get(f"{A}/calls/ZiQ-2021", headers=approver).json()
    assert [y["committed"] for y in calls["years"]] == ["50000.00", "50000.00"]

    reused = client.post(url, json={"reason": "anders"}, headers=headers)
    assert reused.status_code == 422 and reused.json()["field"] == "Idempotency-Key"


def test_a_refused_request_stores_nothing_under_its_key(client: TestClient,
                                                        api_world: ApiWorld) -> None:
    carrier = login(client, api_world.emails["carrier"])
    created = client.post(f"{A}/applications", json=application_body(summary=""),
                          headers=carrier).json()
    url = f"{A}/applications/{created['reference']}/transitions/submit"
    key = {**carrier, "Idempotency-Key": "submit-1"}
    refused = client.post(url, json={}, headers=key)
    assert refused.status_code == 422 and refused.json()["type"].endswith("/incomplete")
    assert refused.json()["fields"] == ["summary"]
    assert version_of(api_world.engine, created["reference"]) == ("draft", 1)
    patched = client.patch(f"{A}/applications/{created['reference']}",
                           json={"summary": "Familien im Quartier"}, headers=carrier)
    assert patched.status_code == 200
    accepted = client.post(url, json={}, headers=key)
    assert accepted.status_code == 200 and "Idempotent-Replayed" not in accepted.headers
    assert accepted.json()["application"]["state"] == "submitted"


def test_stale_if_match_is_412_and_changes_nothing(client: TestClient,
                                                   api_world: ApiWorld) -> None:
    carrier = login(client, api_world.emails["carrier"])
    created = client.post(f"{A}/applications", json=application_body(), headers=carrier)
    ref, etag = created.json()["reference"], created.headers["ETag"]
    assert etag == 'W/"1"'
    edited = client.patch(f"{A}/applications/{ref}", json={"title": "Stadtteilmütter Nord"},
                          headers={**carrier, "If-Match": etag})
    assert edited.status_code == 200 and edited.headers["ETag"] == 'W/"2"'

    stale_fire = client.post(f"{A}/applications/{ref}/transitions/submit", json={},
                             headers={**carrier, "If-Match": etag})
    assert stale_fire.status_code == 412
    problem = stale_fire.json()
    assert problem["type"].endswith("/precondition-failed") and problem["current_version"] == 2
    stale_edit = client.patch(f"{A}/applications/{ref}", json={"title": "Überschrieben"},
                              headers={**carrier, "If-Match": '"1"'})
    assert stale_edit.status_code == 412
    assert version_of(api_world.engine, ref) == ("draft", 2)
    detail = client.get(f"{A}/applications/{ref}", headers=carrier)
    assert detail.json()["title"] == "Stadtteilmütter Nord" and detail.headers["ETag"] == 'W/"2"'
    assert count(api_world, TransitionRecord, TransitionRecord.trigger == "submit") == 0

    fresh = client.post(f"{A}/applications/{ref}/transitions/submit", json={},
                        headers={**carrier, "If-Match": detail.headers["ETag"]})
    assert fresh.status_code == 200 and fresh.headers["ETag"] == 'W/"3"'

    bad = client.post(f"{A}/applications/{ref}/transitions/start_review", json={},
                      headers={**login(client, api_world.emails["reviewer"]),
                               "If-Match": "irgendwas"})
    assert bad.status_code == 422 and bad.json()["field"] == "If-Match"


def test_concurrent_requests_with_one_key_have_one_effect(pg_engine) -> None:
    """Two simultaneous creates with the same key on PostgreSQL: one draft, never a 500."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from api.app import create_app
    from tests.api.conftest import api_settings, build_world

    aw = build_world(pg_engine)
    app = create_app(engine=pg_engine, settings=api_settings())
    with TestClient(app) as setup:
        headers = {**login(setup, aw.emails["carrier"]), "Idempotency-Key": "together"}
    barrier = Barrier(2)

    def create(_: int) -> int:
        client = TestClient(app)
        barrier.wait()
        return client.post(f"{A}/applications", json=application_body(),
                           headers=headers).status_code

    with ThreadPoolExecutor(2) as pool:
        statuses = sorted(pool.map(create, range(2)))
    assert statuses in ([201, 201], [201, 409]), statuses
    assert count(aw, Application) == 1
    with TestClient(app) as client:
        retry = client.post(f"{A}/applications", json=application_body(), headers=headers)
    assert retry.status_code == 201 and retry.headers["Idempotent-Replayed"] == "true"
    assert count(aw, Application) == 1
