"""Under load: a request that gets no connection or lock in time is a 503 problem with
Retry-After, at once; reads never wait for SQLite's write lock."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlmodel import SQLModel

from api.app import create_app
from tests.api.conftest import PROBLEM, api_settings, application_body, build_world, login
from workflow.db import make_engine, unit_of_work
from workflow.settings import get_settings


@pytest.fixture
def impatient_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """A SQLite file whose engine waits 0.3 s for a lock and 0.3 s for its one connection."""
    monkeypatch.setenv("QUARTIER_DB_LOCK_TIMEOUT_SECONDS", "0.3")
    get_settings.cache_clear()
    db = make_engine(f"sqlite:///{tmp_path / 'busy.sqlite3'}", pool_size=1, max_overflow=0,
                     pool_timeout=0.3)
    get_settings.cache_clear()
    SQLModel.metadata.create_all(db)
    yield db
    db.dispose()


def assert_busy(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == PROBLEM
    assert int(response.headers["retry-after"]) > 0
    assert response.json()["type"].endswith("/database-busy")


def test_locked_database_is_503_for_writes_and_no_wait_for_reads(impatient_engine: Engine,
                                                                 tmp_path: Path) -> None:
    aw = build_world(impatient_engine)
    app = create_app(engine=impatient_engine, settings=api_settings())
    with TestClient(app) as client:
        carrier = login(client, aw.emails["carrier"])
        other = make_engine(str(impatient_engine.url))  # another process's writer
        until, holding = threading.Event(), threading.Event()

        def hold() -> None:
            with unit_of_work(other) as s:
                s.execute(text("UPDATE call SET title = title"))
                holding.set()
                until.wait(10)

        writer = threading.Thread(target=hold)
        writer.start()
        try:
            assert holding.wait(10)
            assert client.get("/api/v1/calls/ZiQ-2021", headers=carrier).status_code == 200
            assert_busy(client.post("/api/v1/applications", json=application_body(),
                                    headers=carrier))
        finally:
            until.set()
            writer.join()
            other.dispose()
        # The lock gone, the same request goes through.
        assert client.post("/api/v1/applications", json=application_body(),
                           headers=carrier).status_code == 201


def test_no_connection_in_time_is_503(impatient_engine: Engine) -> None:
    aw = build_world(impatient_engine)
    app = create_app(engine=impatient_engine, settings=api_settings())
    with TestClient(app) as client:
        carrier = login(client, aw.emails["carrier"])
        with impatient_engine.connect():  # the pool's only connection, taken elsewhere
            assert_busy(client.get("/api/v1/calls/ZiQ-2021", headers=carrier))
        assert client.get("/api/v1/calls/ZiQ-2021", headers=carrier).status_code == 200


def test_the_thread_pool_is_sized_by_the_settings(api_world) -> None:  # type: ignore[no-untyped-def]
    settings = api_settings().model_copy(update={"threads": 7})
    app = create_app(engine=api_world.engine, settings=settings)

    async def tokens() -> float:
        return anyio.to_thread.current_default_thread_limiter().total_tokens

    with TestClient(app) as client:
        carrier = login(client, api_world.emails["carrier"])
        assert client.get("/api/v1/calls/ZiQ-2021", headers=carrier).status_code == 200
        assert client.portal.call(tokens) == 7
