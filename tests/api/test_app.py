"""The app factory: the request log line with its id, the start-up check of the secret, OpenAPI."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from workflow.settings import OLD_PUBLIC_SECRET, InsecureSettings, Settings


def test_request_id_is_echoed_or_made_and_logged_once(client: TestClient, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="quartier.api"):
        echoed = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
        made = client.get("/healthz")
    assert echoed.headers["X-Request-ID"] == "abc-123"
    generated = made.headers["X-Request-ID"]
    assert len(generated) == 32
    lines = [r.getMessage() for r in caplog.records if r.name == "quartier.api"]
    assert len(lines) == 2
    assert "GET /healthz 200" in lines[0] and "request_id=abc-123" in lines[0]
    assert f"request_id={generated}" in lines[1]


def test_the_old_public_secret_and_short_secrets_are_refused() -> None:
    for environment in ("development", "production"):
        with pytest.raises(InsecureSettings, match="QUARTIER_SECRET_KEY"):
            create_app("sqlite://", settings=Settings(environment=environment,
                                                      secret_key=OLD_PUBLIC_SECRET))
    with pytest.raises(InsecureSettings, match="32 Bytes"):
        create_app("sqlite://", settings=Settings(environment="production", secret_key="s" * 31))
    create_app("sqlite://", settings=Settings(environment="production", secret_key="s" * 32))


def test_openapi_lists_everything_under_api_v1(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {p for p in paths if not p.startswith("/api/v1/")} == {"/healthz", "/readyz"}
    assert client.get("/docs").status_code == 200
