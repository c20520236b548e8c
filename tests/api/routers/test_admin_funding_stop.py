"""api/routers/admin.py: the funding stop over HTTP; an automatic stop's `since` never moves."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.app import create_app
from notifications.outbox import OutboxMessage
from tests.api.conftest import (
    PROBLEM,
    Y1,
    Y2,
    A,
    ApiWorld,
    api_settings,
    application_in,
    build_world,
    count,
    login,
)
from tests.workflow.helpers import snapshot

STOP = f"{A}/admin/calls/ZiQ-2021/funding-stop"


@pytest.fixture
def both(any_engine: Engine) -> Iterator[tuple[ApiWorld, TestClient]]:
    aw = build_world(any_engine)
    with TestClient(create_app(engine=any_engine, settings=api_settings())) as client:
        yield aw, client


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _stop_mails(aw: ApiWorld) -> int:
    return count(aw, OutboxMessage, OutboxMessage.template == "funding_stop")


def test_automatic_stop_holds_its_since_over_http(both) -> None:
    aw, client = both
    admin = login(client, aw.emails["admin"])
    application_in(aw, "draft")
    for year in (Y1, Y2):  # 500 € left per year, below the minimum grant of 1.000 €
        cut = client.post(f"{A}/admin/calls/ZiQ-2021/budget-changes", headers=admin,
                          json={"year": year, "source": "Landesmittel", "delta": "-999500"})
        assert cut.status_code == 200, cut.text
    stop = cut.json()["funding_stop"]
    assert stop["in_force"] and stop["kind"] == "automatic" and stop["since"]
    assert _stop_mails(aw) == 1

    before = snapshot(aw.engine)
    lifted = client.delete(STOP, headers=admin)
    assert lifted.status_code == 409 and lifted.headers["content-type"].startswith(PROBLEM)
    assert lifted.json()["type"].endswith("/funding-stop")
    assert "Mindestzuwendung" in lifted.json()["detail"]
    declared = client.post(STOP, json={"reason": "Haushaltssperre"}, headers=admin)
    assert declared.status_code == 409 and "bereits" in declared.json()["detail"]
    english = client.delete(STOP, headers={**admin, "Accept-Language": "en"})
    assert "minimum grant" in english.json()["detail"]
    assert snapshot(aw.engine) == before, "a refused stop change wrote something"

    shown = client.get(f"{A}/calls/ZiQ-2021", headers=admin).json()["funding_stop"]
    assert (shown["kind"], _moment(shown["since"])) == ("automatic", _moment(stop["since"]))
    assert _stop_mails(aw) == 1


def test_declaring_twice_changes_nothing_over_http(both) -> None:
    aw, client = both
    admin = login(client, aw.emails["admin"])
    application_in(aw, "draft")
    first = client.post(STOP, json={"reason": "Haushaltssperre"}, headers=admin)
    assert first.status_code == 200
    before = snapshot(aw.engine)
    again = client.post(STOP, json={"reason": "Noch einmal"}, headers=admin)
    assert again.status_code == 409 and again.json()["stop_kind"] == "declared"
    assert snapshot(aw.engine) == before
    shown = client.get(f"{A}/calls/ZiQ-2021", headers=admin).json()["funding_stop"]
    assert shown == first.json()["funding_stop"] and shown["reason"] == "Haushaltssperre"
    assert _stop_mails(aw) == 1
