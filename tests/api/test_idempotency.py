"""api/idempotency.py: an Idempotency-Key makes retries safe; the stored answer commits with the
change, a refused request stores nothing, two requests with one key have one effect."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.app import create_app
from tests.api.conftest import (
    A,
    ApiWorld,
    api_settings,
    application_body,
    application_in,
    count,
    login,
    version_of,
)
from workflow.models import Application, LedgerEntry, TransitionRecord


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


def test_concurrent_requests_with_one_key_have_one_effect(pg_engine) -> None:
    """Two simultaneous creates with the same key on PostgreSQL: one draft, never a 500."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from tests.api.conftest import build_world

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
