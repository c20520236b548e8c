"""The outbox: emails are rows written in the caller's transaction and delivered after commit.

`enqueue` renders the email at once (StrictUndefined), so the content is fixed at transition time
and a broken template fails the transition's own transaction instead of getting lost later.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, Connection, Index, bindparam, insert, update
from sqlmodel import Field, Session, SQLModel, col, select

from notifications.render import language_of, render

PENDING, SENT, DEAD = "pending", "sent", "dead"


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime | None) -> datetime | None:
    """Timestamps are UTC; a driver that returns them naive still means UTC."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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
    status: str = PENDING  # pending | sent | dead; a claimed row stays pending under a lease
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    lease_until: datetime | None = None
    sent_at: datetime | None = None
    last_error: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    # Files sent with the email, by reference to the document store, never copied into the row:
    # [{"sha256": ..., "filename": ..., "content_type": ...}].
    attachments: list[dict[str, str]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]"))

    @property
    def message_id(self) -> str:
        """The stable Message-ID: every attempt to send this row carries the same one."""
        return message_id(self.id, self.created_at)


def message_id(outbox_id: int | None, created_at: datetime) -> str:
    epoch = int(aware(created_at).timestamp())
    return f"<outbox-{outbox_id}.{epoch}@quartier>"


_INSERT = insert(OutboxMessage.__table__).returning(OutboxMessage.__table__.c.id)
_BY_DEDUPE_KEY = select(OutboxMessage.__table__.c.id).where(
    OutboxMessage.__table__.c.dedupe_key == bindparam("key"))


def enqueue(
    conn: Connection,
    *,
    template: str,
    recipient: str,
    language: str,
    context: dict[str, Any],
    application_id: int | None = None,
    dedupe_key: str | None = None,
    now: datetime | None = None,
    attachments: list[dict[str, str]] | None = None,
) -> int:
    """Render an email and add it to the outbox on the caller's connection (no commit);
    returns the outbox row's id.

    A template error (unknown template, missing variable) raises here, so the caller's
    transaction rolls back with it. With a `dedupe_key` that is already in the outbox, nothing is
    added and the existing row's id is returned: such an email goes out at most once.
    `attachments` name files in the document store (sha256, filename, content_type); the
    sender reads them from there when it builds the message.
    """
    # A Core statement on the caller's connection: the email commits or rolls back with it.
    if dedupe_key is not None:
        existing = conn.execute(_BY_DEDUPE_KEY, {"key": dedupe_key}).scalar()
        if existing is not None:
            return existing
    language = language_of(language)
    rendered = render(template, language, context)
    moment = now or utcnow()
    return conn.execute(_INSERT, {
        "template": template, "recipient": recipient, "language": language, "context": context,
        "subject": rendered.subject, "body_text": rendered.text, "body_html": rendered.html,
        "application_id": application_id, "dedupe_key": dedupe_key, "status": PENDING,
        "attempts": 0, "next_attempt_at": moment, "lease_until": None, "sent_at": None,
        "last_error": None, "created_at": moment, "attachments": list(attachments or []),
    }).scalar_one()


def list_dead(session: Session) -> list[OutboxMessage]:
    """Messages that failed `mail_max_attempts` times (or were refused for good), oldest first."""
    return list(session.exec(
        select(OutboxMessage).where(OutboxMessage.status == DEAD).order_by(col(OutboxMessage.id))))


class NotInOutbox(LookupError):
    """No outbox row has this id."""


class NotDead(ValueError):
    """Only a dead message can be requeued; `status` says what it is."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


def requeue(session: Session, outbox_id: int, now: datetime | None = None) -> OutboxMessage:
    """Give a dead message a fresh set of attempts; it keeps its Message-ID and its last error.

    Raises NotInOutbox or NotDead (the caller words the refusal)."""
    now = now or utcnow()
    message = session.get(OutboxMessage, outbox_id)
    if message is None:
        raise NotInOutbox(outbox_id)
    if message.status != DEAD:
        raise NotDead(message.status)
    session.execute(
        update(OutboxMessage).where(col(OutboxMessage.id) == outbox_id,
                                    col(OutboxMessage.status) == DEAD)
        .values(status=PENDING, attempts=0, next_attempt_at=now, lease_until=None)
        .execution_options(synchronize_session=False))
    session.flush()
    session.refresh(message)
    return message
