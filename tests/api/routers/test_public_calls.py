"""api/routers/calls.py: a call's public status, readable without logging in."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import select

from tests.api.conftest import A, ApiWorld, login
from workflow.db import unit_of_work
from workflow.models import Call

INTERNAL = {"policy", "min_grant", "years", "budget", "committed", "available",
            "available_cents", "id", "programme_id", "min_grant_cents", "earliest_project_start",
            "min_project_months"}


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def test_public_status_needs_no_login_and_hides_internal_fields(client: TestClient) -> None:
    listed = client.get(f"{A}/public/calls")
    assert listed.status_code == 200, listed.text
    [call] = listed.json()
    one = client.get(f"{A}/public/calls/ZiQ-2021")
    assert one.status_code == 200 and one.json() == call
    assert _keys(call) & INTERNAL == set()
    assert set(call) == {"code", "title", "programme", "open_now", "submission_window",
                         "funding_stop", "status", "status_label"}
    assert call["code"] == "ZiQ-2021" and call["programme"].startswith("Zusammen im Quartier")
    assert call["open_now"] is True and call["status"] == "open"
    assert call["funding_stop"] == {"in_force": False, "kind": None, "since": None,
                                    "reason": None}
    assert call["status_label"]["de"].startswith("Anträge können bis 31.12.2030")
    assert call["status_label"]["en"].startswith("Applications can be submitted until")
    # ISO with the Berlin offset: 2030-12-31T00:00Z is 01:00 in Berlin (winter time).
    assert call["submission_window"]["closes_at"] == "2030-12-31T01:00:00+01:00"
    assert client.get(f"{A}/calls").status_code == 401  # the full status still needs a login
    missing = client.get(f"{A}/public/calls/ZiQ-1900")
    assert missing.status_code == 404 and "nicht gefunden" in missing.json()["detail"]


def test_public_status_shows_the_stop_and_since_when(client: TestClient,
                                                     api_world: ApiWorld) -> None:
    admin = login(client, api_world.emails["admin"])
    declared = client.post(f"{A}/admin/calls/ZiQ-2021/funding-stop",
                           json={"reason": "Haushaltssperre"}, headers=admin)
    assert declared.status_code == 200
    call = client.get(f"{A}/public/calls/ZiQ-2021").json()
    stop = call["funding_stop"]
    assert stop["in_force"] is True and stop["kind"] == "declared"
    assert stop["reason"] == "Haushaltssperre"
    since = datetime.fromisoformat(stop["since"])
    assert since.utcoffset() in (timedelta(hours=1), timedelta(hours=2))
    with unit_of_work(api_world.engine) as session:
        stored = session.exec(select(Call).where(Call.code == "ZiQ-2021")).one().stop_since
    assert since == stored
    assert call["status"] == "funding_stop" and call["open_now"] is True
    assert call["status_label"]["de"].startswith("Fördermittelstopp seit ")
    assert "nicht eingereicht" in call["status_label"]["de"]
    assert call["status_label"]["en"].startswith("Funding stop since ")


def test_public_status_in_openapi(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    operation = spec["paths"][f"{A}/public/calls/{{code}}"]["get"]
    assert "security" not in operation
    schema = spec["components"]["schemas"]["PublicCallOut"]
    assert "policy" not in schema["properties"] and "funding_stop" in schema["properties"]
