"""The outbox: emails are rows written in the caller's transaction and delivered after commit."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, Session, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class OutboxMessage(SQLModel, table=True):
    """One email to one recipient; its content is fixed when the row is written."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    application_id: int | None = Field(default=None, foreign_key="application.id", index=True)
    template: str
    recipient: str
    language: str = "de"
    context: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    subject: str | None = None
    body_text: str | None = None
    body_html: str | None = None
    # A stable key for emails that must go out at most once (e.g. one funding-stop notice).
    dedupe_key: str | None = Field(default=None, unique=True)
    status: str = "pending"  # pending | sent | dead
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    lease_until: datetime | None = None
    sent_at: datetime | None = None
    last_error: str | None = None
    created_at: datetime = Field(default_factory=utcnow)


def enqueue(
    session: Session,
    *,
    template: str,
    recipient: str,
    language: str,
    context: dict[str, Any],
    application_id: int | None = None,
    dedupe_key: str | None = None,
    now: datetime | None = None,
) -> OutboxMessage:
    """Add an email to the outbox inside the caller's transaction (no commit here)."""
    message = OutboxMessage(
        template=template,
        recipient=recipient,
        language=language,
        context=context,
        application_id=application_id,
        dedupe_key=dedupe_key,
        created_at=now or utcnow(),
        next_attempt_at=now or utcnow(),
    )
    session.add(message)
    return message
