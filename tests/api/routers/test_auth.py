"""api/routers/auth.py: logging in, who am I, expired tokens."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.conftest import (
    A,
    ApiWorld,
    api_settings,
)
from workflow.db import unit_of_work


def test_expired_token_is_401(client: TestClient, api_world: ApiWorld) -> None:
    from datetime import UTC, datetime, timedelta

    from api.auth import create_access_token
    from workflow.models import User

    with unit_of_work(api_world.engine) as session:
        user = session.get(User, api_world.user_ids["carrier"])
    old = create_access_token(user, api_settings(), now=datetime.now(UTC) - timedelta(hours=2))
    response = client.get(f"{A}/me", headers={"Authorization": f"Bearer {old}"})
    assert response.status_code == 401 and "abgelaufen" in response.json()["detail"]


def test_login_answers_a_bearer_token(client: TestClient, api_world: ApiWorld) -> None:
    response = client.post(f"{A}/auth/token", data={"username": api_world.emails["reviewer"],
                                                    "password": "richtig-geheim-42"})
    token = response.json()
    assert token["token_type"] == "bearer" and token["expires_in"] == 30 * 60
    me = client.get(f"{A}/me", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert me.json()["role"] == "reviewer" and me.json()["role_label"] == "Sachbearbeitung"
    wrong = client.post(f"{A}/auth/token", data={"username": api_world.emails["reviewer"],
                                                 "password": "falsch"})
    assert wrong.status_code == 401 and wrong.headers["WWW-Authenticate"] == "Bearer"
