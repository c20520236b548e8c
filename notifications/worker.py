"""Delivering the outbox: claim due rows under a lease, send outside any transaction, mark them.

Claiming sets `lease_until` (and counts the attempt) in its own short transaction. On PostgreSQL
the candidates are locked with `FOR UPDATE SKIP LOCKED`, so several workers take disjoint rows;
on SQLite (and as a second safety on PostgreSQL) each row is claimed by a conditional update that
only succeeds while the row is pending and unleased. A worker that dies leaves its rows leased;
when the lease expires another worker takes them again. Only such in-flight rows can be sent
twice, and always with the same Message-ID.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Engine, or_, update
from sqlmodel import Session, col, select

from notifications.outbox import DEAD, PENDING, SENT, OutboxMessage, utcnow
from notifications.sender import SendResult, SmtpConfig, send_batch
from workflow.settings import Settings, get_settings

log = logging.getLogger("quartier.mail")

MARK_WINDOW_SECONDS = 0.05  # sent rows are marked in groups, at most about this long after


@dataclass
class DeliveryReport:
    """What one pass did."""

    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: DeliveryReport) -> None:
        self.claimed += other.claimed
        self.sent += other.sent
        self.retrying += other.retrying
        self.dead += other.dead
        self.errors += other.errors


def backoff(attempts: int, base_seconds: float, max_seconds: float,
            rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with jitter: about base * 2^(attempts-1), between half and all of it."""
    ceiling = min(max_seconds, base_seconds * 2 ** max(attempts - 1, 0))
    return timedelta(seconds=(rng or random).uniform(ceiling / 2, ceiling))


def _due(now: datetime) -> Any:
    return (
        (col(OutboxMessage.status) == PENDING)
        & (col(OutboxMessage.next_attempt_at) <= now)
        & or_(col(OutboxMessage.lease_until).is_(None), col(OutboxMessage.lease_until) < now)
    )


def claim(engine: Engine, now: datetime, limit: int, lease_seconds: float,
          exclude: Iterable[int] = ()) -> list[OutboxMessage]:
    """Take up to `limit` due rows under a lease, in their own committed transaction."""
    lease_until = now + timedelta(seconds=lease_seconds)
    exclude = list(exclude)
    with Session(engine, expire_on_commit=False) as session:
        query = select(OutboxMessage.id).where(_due(now)).order_by(col(OutboxMessage.id))
        if exclude:
            query = query.where(col(OutboxMessage.id).not_in(exclude))
        query = query.limit(limit)
        if engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        candidates = list(session.exec(query).all())
        claimed = []
        if candidates:
            # One conditional UPDATE for the whole batch: each row still only if it is still due.
            claimed = list(session.execute(
                update(OutboxMessage)
                .where(col(OutboxMessage.id).in_(candidates), _due(now))
                .values(lease_until=lease_until, attempts=OutboxMessage.attempts + 1)
                .returning(OutboxMessage.id)
                .execution_options(synchronize_session=False)).scalars())
        session.commit()
        if not claimed:
            return []
        return list(session.exec(
            select(OutboxMessage).where(col(OutboxMessage.id).in_(claimed))
            .order_by(col(OutboxMessage.id)).execution_options(populate_existing=True)).all())


def mark_sent(engine: Engine, outbox_id: int | Sequence[int], now: datetime) -> None:
    ids = [outbox_id] if isinstance(outbox_id, int) else list(outbox_id)
    with Session(engine) as session:
        session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id).in_(ids), col(OutboxMessage.status) == PENDING)
            .values(status=SENT, sent_at=now, lease_until=None, last_error=None)
            .execution_options(synchronize_session=False))
        session.commit()


def mark_failed(engine: Engine, row: OutboxMessage, now: datetime, error: str, permanent: bool,
                settings: Settings, rng: random.Random | None = None) -> str:
    """Record a failed attempt: retry later with backoff, or dead. Returns the new status."""
    dead = permanent or row.attempts >= settings.mail_max_attempts
    values: dict[str, Any] = {"lease_until": None, "last_error": error}
    if dead:
        values["status"] = DEAD
    else:
        values["next_attempt_at"] = now + backoff(row.attempts, settings.mail_retry_base_seconds,
                                                  settings.mail_retry_max_seconds, rng)
    with Session(engine) as session:
        # Only while this worker still holds the lease: a row someone else took over (or sent)
        # after our lease expired is theirs now.
        session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == row.id, col(OutboxMessage.status) == PENDING,
                   col(OutboxMessage.lease_until) == row.lease_until)
            .values(**values).execution_options(synchronize_session=False))
        session.commit()
    return DEAD if dead else PENDING


async def deliver_due_async(engine: Engine, settings: Settings | None = None, *,
                            now: datetime | None = None, batch_size: int | None = None,
                            rng: random.Random | None = None,
                            clock: Callable[[], datetime] = utcnow) -> DeliveryReport:
    """One pass: send every message due at `now`, batch by batch, one connection per batch."""
    settings = settings or get_settings()
    config = SmtpConfig.from_settings(settings)
    size = batch_size or settings.mail_batch_size
    report = DeliveryReport()
    tried: set[int] = set()
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-mark") as marker:
        return await _deliver(engine, settings, config, size, report, tried, loop, marker, now,
                              rng, clock)


async def _deliver(engine: Engine, settings: Settings, config: SmtpConfig, size: int,
                   report: DeliveryReport, tried: set[int], loop: asyncio.AbstractEventLoop,
                   marker: ThreadPoolExecutor, now: datetime | None,
                   rng: random.Random | None, clock: Callable[[], datetime]) -> DeliveryReport:
    while True:
        moment = now or clock()
        rows = claim(engine, moment, size, settings.mail_lease_seconds, exclude=tried)
        if not rows:
            return report
        tried.update(r.id for r in rows)
        by_id = {r.id: r for r in rows}
        batch = DeliveryReport(claimed=len(rows))
        # Sent rows are marked by one helper thread while the next messages go out; each run
        # waits MARK_WINDOW_SECONDS, then marks every id sent so far in one transaction. A crash
        # can only resend what was sent in that window (with the same Message-ID).
        sent_ids: list[int] = []
        marks: list[asyncio.Future[None]] = []

        def mark_sent_so_far(sent_ids: list[int] = sent_ids, wait: bool = True) -> None:
            if wait:
                time.sleep(MARK_WINDOW_SECONDS)
            ids = sent_ids[:]
            del sent_ids[:len(ids)]
            if ids:
                mark_sent(engine, ids, now or clock())

        def on_result(result: SendResult, batch: DeliveryReport = batch,
                      by_id: dict[int, OutboxMessage] = by_id, sent_ids: list[int] = sent_ids,
                      marks: list[asyncio.Future[None]] = marks) -> None:
            moment = now or clock()
            if result.sent:
                sent_ids.append(result.outbox_id)
                if not marks or marks[-1].done():
                    marks.append(loop.run_in_executor(marker, mark_sent_so_far))
                batch.sent += 1
                return
            status = mark_failed(engine, by_id[result.outbox_id], moment, result.error or "",
                                 result.permanent, settings, rng)
            batch.dead += status == DEAD
            batch.retrying += status == PENDING
            batch.errors.append(f"{result.outbox_id}: {result.error}")
            log.warning("outbox %s not sent (%s): %s", result.outbox_id, status, result.error)

        try:
            await send_batch(config, rows, on_result)
        finally:
            await asyncio.gather(*marks)
            await loop.run_in_executor(marker, partial(mark_sent_so_far, wait=False))
        report.add(batch)
        if batch.sent == 0 and batch.retrying:
            return report  # the server is not taking mail; the rest waits for its backoff


def deliver_due(engine: Engine, settings: Settings | None = None, *,
                now: datetime | None = None, batch_size: int | None = None,
                rng: random.Random | None = None) -> DeliveryReport:
    """`deliver_due_async` for synchronous callers (CLI, tests, the worker loop)."""
    return asyncio.run(deliver_due_async(engine, settings, now=now, batch_size=batch_size,
                                         rng=rng))


# ---------------------------------------------------------------- the long-running worker


@dataclass
class Periodic:
    """A job the worker runs every `every_seconds` (e.g. the reminder pass): fn(engine, now)."""

    fn: Callable[[Engine, datetime], Any]
    every_seconds: float = 60.0
    name: str = ""
    last_run: datetime | None = None

    def due(self, now: datetime) -> bool:
        return self.last_run is None or (now - self.last_run).total_seconds() >= self.every_seconds


PERIODIC: list[Periodic] = []


def register_periodic(fn: Callable[[Engine, datetime], Any], every_seconds: float = 60.0,
                      name: str | None = None) -> Periodic:
    """Have `quartier worker` call fn(engine, now) every `every_seconds` (register at import)."""
    job = Periodic(fn, every_seconds, name or getattr(fn, "__name__", "job"))
    PERIODIC.append(job)
    return job


def run_worker(engine: Engine, settings: Settings | None = None, *,
               periodic: Sequence[Periodic | Callable[[Engine, datetime], Any]] | None = None,
               stop: threading.Event | None = None, poll_seconds: float | None = None,
               clock: Callable[[], datetime] = utcnow,
               on_report: Callable[[DeliveryReport], None] | None = None) -> None:
    """Deliver the outbox until `stop` is set; run the periodic jobs (default: registered ones)."""
    settings = settings or get_settings()
    stop = stop or threading.Event()
    poll = settings.mail_poll_seconds if poll_seconds is None else poll_seconds
    jobs = [p if isinstance(p, Periodic) else Periodic(p, 60.0, getattr(p, "__name__", "job"))
            for p in (PERIODIC if periodic is None else periodic)]
    while not stop.is_set():
        now = clock()
        for job in jobs:
            if job.due(now):
                job.last_run = now
                try:
                    job.fn(engine, now)
                except Exception:  # noqa: BLE001 - one failing job must not stop the mail
                    log.exception("periodic job %s failed", job.name)
        try:
            report = deliver_due(engine, settings)
        except Exception:  # noqa: BLE001 - e.g. the database is briefly away; try again later
            log.exception("delivery pass failed")
            report = DeliveryReport()
        if on_report and report.claimed:
            on_report(report)
        stop.wait(poll)
