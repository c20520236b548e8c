"""Shared fixtures: real SQLite files and a real PostgreSQL database per test session.

PostgreSQL tests skip only outside CI; with CI=true an unreachable server fails them.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine
from sqlmodel import SQLModel

import workflow.models  # noqa: F401
from workflow.db import make_engine

# Notices the engine renders in tests go to a throwaway store, not the work tree's var/.
if "QUARTIER_DOCUMENTS_DIR" not in os.environ:
    os.environ["QUARTIER_DOCUMENTS_DIR"] = tempfile.mkdtemp(prefix="quartier-documents-")
    atexit.register(shutil.rmtree, os.environ["QUARTIER_DOCUMENTS_DIR"], ignore_errors=True)

PG_ADMIN_URL = os.environ.get("QUARTIER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _pg_available() -> str | None:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return None
    except Exception as error:  # noqa: BLE001
        return str(error)


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The admin URL of the PostgreSQL server; required in CI, skipped elsewhere if absent."""
    problem = _pg_available()
    if problem:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI but unreachable: {problem}")
        pytest.skip(f"PostgreSQL not reachable: {problem}")
    return PG_ADMIN_URL


def create_pg_database(admin_url: str) -> str:
    name = f"quartier_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + "/" + name


def drop_pg_database(admin_url: str, url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test; dropped afterwards."""
    url = create_pg_database(pg_server)
    try:
        yield url
    finally:
        drop_pg_database(pg_server, url)


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'quartier.sqlite3'}"


def _engine_with_schema(url: str) -> Engine:
    engine = make_engine(url)
    SQLModel.metadata.create_all(engine)
    return engine


@pytest.fixture
def engine(sqlite_url: str) -> Iterator[Engine]:
    """A real SQLite file with the schema."""
    eng = _engine_with_schema(sqlite_url)
    yield eng
    eng.dispose()


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:
    """A real PostgreSQL database with the schema."""
    eng = _engine_with_schema(pg_url)
    yield eng
    eng.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_engine(request) -> Iterator[Engine]:
    """The same test on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        yield request.getfixturevalue("engine")
    else:
        yield request.getfixturevalue("pg_engine")
