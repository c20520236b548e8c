"""api/routers/auth.py: logging in (throttled), who am I, expired, forged and revoked tokens,
password change and reset, disabling and enabling accounts."""

from __future__ import annotations

import hashlib
import logging
import stat
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.api.conftest import (
    PASSWORD,
    PROBLEM,
    A,
    ApiWorld,
    api_settings,
    login,
)
from workflow import users
from workflow.db import unit_of_work
from workflow.errors import Conflict
from workflow.models import User
from workflow.settings import OLD_PUBLIC_SECRET, Settings


def test_expired_token_is_401(client: TestClient, api_world: ApiWorld) -> None:
    from api.auth import create_access_token

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


# ------------------------------------------------------------------ secrets, logout, passwords


NEW_PASSWORD = "sieben-bunte-Fahrräder-im-Hof"


def forged(user_id: int, secret: str) -> str:
    """An admin token made by someone who knows `secret`, the way api.auth signs them."""
    key = hashlib.sha256(b"quartier-access-token:" + secret.encode()).digest()
    now = datetime.now(UTC)
    return jwt.encode({"sub": str(user_id), "ver": 0, "iat": now, "typ": "access",
                       "exp": now + timedelta(hours=1)}, key, algorithm="HS256")


def test_without_a_secret_key_one_is_generated_and_the_old_default_forges_nothing(
        api_world: ApiWorld, tmp_path) -> None:
    settings = Settings(environment="development", data_dir=str(tmp_path / "data"))
    with TestClient(create_app(engine=api_world.engine, settings=settings)) as client:
        admin_id = api_world.user_ids["admin"]
        for secret in (OLD_PUBLIC_SECRET, ""):
            for token in (forged(admin_id, secret),
                          jwt.encode({"sub": str(admin_id), "ver": 0, "typ": "access",
                                      "exp": datetime.now(UTC) + timedelta(hours=1)},
                                     secret or "x", algorithm="HS256")):
                refused = client.get(f"{A}/admin/users",
                                     headers={"Authorization": f"Bearer {token}"})
                assert refused.status_code == 401, refused.text
        headers = login(client, api_world.emails["admin"])
        assert client.get(f"{A}/admin/users", headers=headers).status_code == 200
    key_file = tmp_path / "data" / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key_file.read_text().strip()) >= 32
    # The next start (or another worker) takes the same key: the token still works.
    again = Settings(environment="development", data_dir=str(tmp_path / "data"))
    with TestClient(create_app(engine=api_world.engine, settings=again)) as client:
        assert client.get(f"{A}/admin/users", headers=headers).status_code == 200


def test_logout_revokes_the_token_at_once(client: TestClient, api_world: ApiWorld) -> None:
    headers = login(client, api_world.emails["reviewer"])
    other = login(client, api_world.emails["reviewer"])
    assert client.get(f"{A}/me", headers=headers).status_code == 200  # cached as verified
    assert client.post(f"{A}/auth/logout", headers=headers).status_code == 204
    for token in (headers, other):  # every token of the account
        gone = client.get(f"{A}/me", headers=token)
        assert gone.status_code == 401 and gone.headers["content-type"] == PROBLEM
        assert "nicht mehr" in gone.json()["detail"]
    assert client.get(f"{A}/me", headers=login(client, api_world.emails["reviewer"])).is_success


def test_change_own_password(client: TestClient, api_world: ApiWorld) -> None:
    email = api_world.emails["carrier"]
    headers = login(client, email)
    wrong = client.post(f"{A}/me/password", headers=headers,
                        json={"current_password": "falsch", "new_password": NEW_PASSWORD})
    assert wrong.status_code == 422 and wrong.json()["field"] == "current_password"
    weak = client.post(f"{A}/me/password", headers={**headers, "Accept-Language": "en"},
                       json={"current_password": PASSWORD, "new_password": "password1234"})
    assert weak.status_code == 422 and "common" in weak.json()["detail"]
    changed = client.post(f"{A}/me/password", headers=headers,
                          json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert changed.status_code == 200, changed.text
    assert client.get(f"{A}/me", headers=headers).status_code == 401  # the old token is revoked
    fresh = {"Authorization": f"Bearer {changed.json()['access_token']}"}
    assert client.get(f"{A}/me", headers=fresh).json()["email"] == email
    assert client.post(f"{A}/auth/token", data={"username": email,
                                                "password": PASSWORD}).status_code == 401
    login(client, email, NEW_PASSWORD)


def test_admin_reset_forces_a_change_before_anything_else(client: TestClient,
                                                          api_world: ApiWorld) -> None:
    admin = login(client, api_world.emails["admin"])
    reviewer_id, email = api_world.user_ids["reviewer"], api_world.emails["reviewer"]
    before = login(client, email)
    reset = client.post(f"{A}/admin/users/{reviewer_id}/reset-password", headers=admin)
    assert reset.status_code == 200, reset.text
    one_time = reset.json()["password"]
    assert len(one_time) >= 16 and reset.json()["user"]["id"] == reviewer_id
    assert client.get(f"{A}/me", headers=before).status_code == 401
    pending = login(client, email, one_time)
    for method, path in (("GET", "/me"), ("GET", "/calls"), ("GET", "/applications")):
        refused = client.request(method, f"{A}{path}", headers=pending)
        assert refused.status_code == 403 and refused.headers["content-type"] == PROBLEM
        assert refused.json()["title"] == "Passwort muss geändert werden"
        assert refused.json()["type"].endswith("/password-change-required")
    changed = client.post(f"{A}/me/password", headers=pending,
                          json={"current_password": one_time, "new_password": NEW_PASSWORD})
    assert changed.status_code == 200, changed.text
    after = {"Authorization": f"Bearer {changed.json()['access_token']}"}
    assert client.get(f"{A}/calls", headers=after).status_code == 200
    # An administrator may also give the password; then the answer shows none.
    given = client.post(f"{A}/admin/users/{reviewer_id}/reset-password", headers=admin,
                        json={"password": "vorläufig-Gegebenes-9"})
    assert given.status_code == 200 and given.json()["password"] is None
    weak = client.post(f"{A}/admin/users/{reviewer_id}/reset-password", headers=admin,
                       json={"password": "qwertzuiop12"})
    assert weak.status_code == 422 and "zu leicht zu erraten" in weak.json()["detail"]


def test_no_self_disable_no_disabling_the_last_admin_and_enable(client: TestClient,
                                                                api_world: ApiWorld) -> None:
    admin = login(client, api_world.emails["admin"])
    admin_id = api_world.user_ids["admin"]
    own = client.post(f"{A}/admin/users/{admin_id}/disable", headers=admin)
    assert own.status_code == 409 and "eigene Konto" in own.json()["detail"]
    with unit_of_work(api_world.engine) as session:
        second = User(email="admin2@example.org", name="Zweite", role="admin",
                      password_hash=session.get(User, admin_id).password_hash)
        session.add(second)
        session.flush()
        second_id = second.id
    other = login(client, "admin2@example.org")
    assert client.post(f"{A}/admin/users/{admin_id}/disable", headers=other).status_code == 200
    assert client.get(f"{A}/me", headers=admin).status_code == 401  # disabled: token stopped
    # The second is now the last active admin: not even the command line disables it.
    with unit_of_work(api_world.engine) as session, pytest.raises(Conflict, match="letzte"):
        users.disable_user(session, second_id)
    enabled = client.post(f"{A}/admin/users/{admin_id}/enable", headers=other)
    assert enabled.status_code == 200 and enabled.json()["disabled"] is False
    assert client.get(f"{A}/me", headers=admin).status_code == 401  # old tokens stay dead
    assert client.get(f"{A}/me", headers=login(client, api_world.emails["admin"])).is_success


def test_the_eleventh_wrong_login_is_429_with_retry_after(client: TestClient,
                                                          api_world: ApiWorld,
                                                          caplog) -> None:
    email = api_world.emails["observer"]
    with caplog.at_level(logging.WARNING, logger="quartier"):
        for _ in range(10):
            wrong = client.post(f"{A}/auth/token",
                                data={"username": email, "password": "geheim-falsch-123"})
            assert wrong.status_code == 401
    eleventh = client.post(f"{A}/auth/token", data={"username": email, "password": PASSWORD})
    assert eleventh.status_code == 429 and eleventh.headers["content-type"] == PROBLEM
    assert 1 <= int(eleventh.headers["Retry-After"]) <= 900
    body = eleventh.json()
    assert body["status"] == 429 and body["type"].endswith("/too-many-login-attempts")
    assert body["retry_after"] == int(eleventh.headers["Retry-After"])
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("quartier")]
    assert len([line for line in lines if "login failed" in line]) == 10
    assert all(email in line and "address=testclient" in line for line in lines)
    assert not any("geheim-falsch-123" in line for line in lines)


def test_the_address_counts_failures_across_accounts_and_success_does_not_reset_it(
        client: TestClient, api_world: ApiWorld) -> None:
    for i in range(9):
        assert client.post(f"{A}/auth/token", data={
            "username": f"niemand{i}@example.org", "password": "x"}).status_code == 401
    login(client, api_world.emails["approver"])  # a success for another account
    assert client.post(f"{A}/auth/token", data={
        "username": "niemand9@example.org", "password": "x"}).status_code == 401
    blocked = client.post(f"{A}/auth/token", data={"username": api_world.emails["approver"],
                                                  "password": PASSWORD})
    assert blocked.status_code == 429 and "Retry-After" in blocked.headers
