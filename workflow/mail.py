"""Administration of the outbox as users see it: dead letters, and requeueing one with a
refusal that says why it cannot be requeued."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from notifications import outbox
from notifications.outbox import OutboxMessage
from workflow.errors import NotFound, WrongState


def requeue(session: Session, outbox_id: int, now: datetime | None = None) -> OutboxMessage:
    """Give a dead message a fresh set of attempts (it keeps its Message-ID)."""
    try:
        return outbox.requeue(session, outbox_id, now)
    except outbox.NotInOutbox:
        raise NotFound(f"E-Mail {outbox_id} ist nicht im Postausgang.",
                       f"Email {outbox_id} is not in the outbox.") from None
    except outbox.NotDead as refusal:
        raise WrongState(
            "Nur unzustellbare E-Mails können erneut eingereiht werden "
            f"(Status: {refusal.status}).",
            f"Only dead emails can be requeued (status: {refusal.status}).",
            outbox_status=refusal.status) from None


def list_dead(session: Session) -> list[OutboxMessage]:
    return outbox.list_dead(session)
