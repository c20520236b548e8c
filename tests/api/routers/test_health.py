"""api/routers/health.py: readiness asks the database."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.app import create_app
from tests.api.conftest import (
    api_settings,
)


def test_readyz_checks_the_database(client: TestClient, tmp_path) -> None:
    assert client.get("/readyz").json() == {"status": "ready", "database": "ok"}
    empty = create_app(f"sqlite:///{tmp_path / 'leer.sqlite3'}", settings=api_settings())
    with TestClient(empty) as unready:
        response = unready.get("/readyz")
        assert unready.get("/healthz").status_code == 200
    assert response.status_code == 503 and response.json()["type"].endswith("/not-ready")
