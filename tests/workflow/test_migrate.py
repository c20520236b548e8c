"""Migrations build exactly the schema of the models, on SQLite and on PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import workflow.models  # noqa: F401
from workflow import migrate
from workflow.db import make_engine


def _diff(url: str) -> list:
    migrate.upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = compare_metadata(ctx, SQLModel.metadata)
    engine.dispose()
    return diff


def test_sqlite_migrations_match_models(sqlite_url):
    assert _diff(sqlite_url) == []


def test_postgres_migrations_match_models_and_downgrade(pg_url):
    assert _diff(pg_url) == []
    migrate.downgrade(pg_url)
    migrate.upgrade(pg_url)
