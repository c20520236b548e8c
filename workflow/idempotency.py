"""Stored responses of requests with an Idempotency-Key, so that a retry has no second effect.

The row is written in the same transaction as the effect it describes: either both are committed
or neither, so a retried request finds either the stored response or a clean slate. Rows older
than QUARTIER_IDEMPOTENCY_RETENTION_HOURS are deleted by the worker (`delete_expired`).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Column, Engine, UniqueConstraint, delete
from sqlmodel import Field, Session, SQLModel, select

from workflow.sqltypes import UTCDateTime


def utcnow() -> datetime:
    return datetime.now(UTC)


class IdempotencyRecord(SQLModel, table=True):
    """One idempotent request of one user: what was asked and what was answered."""

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotency_user_key"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str
    user_id: int = Field(foreign_key="app_user.id", index=True)
    endpoint: str  # "POST /api/v1/applications"
    request_hash: str  # sha256 of endpoint and canonical request body
    status_code: int
    response_body: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    response_headers: dict[str, str] = Field(default_factory=dict,
                                             sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow,
                                 sa_column=Column(UTCDateTime(), nullable=False))


def request_hash(endpoint: str, body: Any) -> str:
    """A fingerprint of the request: same endpoint and same JSON body give the same hash."""
    canonical = json.dumps([endpoint, body], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def find(session: Session, user_id: int, key: str) -> IdempotencyRecord | None:
    return session.exec(select(IdempotencyRecord).where(
        IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key)).first()


def remember(session: Session, *, user_id: int, key: str, endpoint: str, fingerprint: str,
             status_code: int, body: Any, headers: dict[str, str]) -> IdempotencyRecord:
    """Store the response in the caller's transaction (it commits together with the effect)."""
    record = IdempotencyRecord(key=key, user_id=user_id, endpoint=endpoint,
                               request_hash=fingerprint, status_code=status_code,
                               response_body=body, response_headers=headers)
    session.add(record)
    session.flush()
    return record


def delete_expired(engine: Engine, now: datetime, retention: timedelta) -> int:
    """Delete the stored responses older than `retention` (a retry after that is a new request);
    how many went."""
    table = IdempotencyRecord.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        return conn.execute(delete(table).where(table.c.created_at < now - retention)).rowcount
