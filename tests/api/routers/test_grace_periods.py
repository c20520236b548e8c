"""Issue 12, item 4 over HTTP: a decision inside a running Nachfrist is a problem response."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from tests.api.conftest import A, ApiWorld, application_in, login
from workflow import engine as wf
from workflow.db import unit_of_work
from workflow.reminders import run_reminder_pass


def test_reject_inside_a_running_nachfrist_is_a_problem_and_writes_nothing(
        client: TestClient, api_world: ApiWorld) -> None:
    ref = application_in(api_world, "in_review")
    now = datetime.now(UTC)
    with unit_of_work(api_world.engine) as session:  # asked a month ago, due two weeks ago
        wf.fire(session, ref, "request_documents", api_world.actor("reviewer"),
                reason="Satzung fehlt", now=now - timedelta(days=30))
    assert run_reminder_pass(api_world.engine, now).sent["overdue"] == 1  # Nachfrist: 14 days
    reviewer = login(client, api_world.emails["reviewer"])
    before = client.get(f"{A}/applications/{ref}/history", headers=reviewer).json()
    refused = client.post(f"{A}/applications/{ref}/transitions/reject",
                          json={"reason": "Unterlagen fehlen"}, headers=reviewer)
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert "Nachforderung" in problem["detail"] and "Nachfrist bis" in problem["detail"]
    assert problem["deadline"] == "document_request" and problem["grace_until"]
    assert client.get(f"{A}/applications/{ref}/history", headers=reviewer).json() == before
    offered = {t["trigger"]: t for t in client.get(
        f"{A}/applications/{ref}/transitions", headers=reviewer).json()}
    assert offered["reject"]["available"] is False
    assert "Nachfrist bis" in offered["reject"]["reason"]["detail"]
