"""A timestamp column that is timezone-aware UTC on every database.

PostgreSQL keeps the offset (timestamptz); SQLite has no time zone type, and SQLAlchemy's SQLite
DateTime drops the offset without converting. Here every moment is written as UTC and read back
as aware UTC, so SQLite and PostgreSQL agree (a Mahnung's time is provable on both).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
