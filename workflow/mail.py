"""Administration of the outbox as users see it: the overview that leads with the dead letters,
the dead letters, and requeueing one with a refusal that says why it cannot be requeued."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import literal_column
from sqlmodel import Session, col, func, select

from notifications import outbox
from notifications.formatting import moment
from notifications.outbox import DEAD, PENDING, SENT, OutboxMessage, aware
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


@dataclass(frozen=True)
class MailOverview:
    """The outbox at a glance, dead letters first: they need an administrator."""

    dead: int
    oldest_dead: OutboxMessage | None
    pending: int
    retrying: int  # pending after at least one failed attempt
    sent: int

    def warning(self, language: str = "de") -> str | None:
        """The line an administrator must see first while dead letters exist, else None."""
        if not self.dead or self.oldest_dead is None:
            return None
        since = aware(self.oldest_dead.created_at)
        assert since is not None
        if language == "en":
            return (f"{self.dead} {'email' if self.dead == 1 else 'emails'} could not be "
                    f"delivered after every retry (oldest from {moment(since, 'en')}, to "
                    f"{self.oldest_dead.recipient}); requeue them once the cause is fixed.")
        return (f"{self.dead} {'E-Mail ist' if self.dead == 1 else 'E-Mails sind'} nach allen "
                f"Zustellversuchen unzustellbar (älteste vom {moment(since)}, an "
                f"{self.oldest_dead.recipient}); nach Behebung der Ursache erneut einreihen.")


def overview(session: Session) -> MailOverview:
    """Counts by status (one grouped statement) and the oldest dead letter."""
    table = OutboxMessage.__table__
    # A literal, not a bound parameter: PostgreSQL groups only by the very same expression, and
    # two parameters (`attempts > $1`, `attempts > $2`) are not.
    retried = table.c.attempts > literal_column("0")
    counts = {(status, was_retried): n for status, was_retried, n in session.execute(
        select(table.c.status, retried, func.count()).group_by(table.c.status, retried))}
    dead = counts.get((DEAD, True), 0) + counts.get((DEAD, False), 0)
    oldest = session.exec(select(OutboxMessage).where(OutboxMessage.status == DEAD)
                          .order_by(col(OutboxMessage.created_at), col(OutboxMessage.id))
                          .limit(1)).first() if dead else None
    return MailOverview(
        dead=dead, oldest_dead=oldest,
        pending=counts.get((PENDING, True), 0) + counts.get((PENDING, False), 0),
        retrying=counts.get((PENDING, True), 0),
        sent=counts.get((SENT, True), 0) + counts.get((SENT, False), 0))
