"""Delivering the outbox: claim due rows under a lease, send outside any transaction, mark them.

Claiming sets `lease_until` (and counts the attempt) in its own short transaction. On PostgreSQL
the candidates are locked with `FOR UPDATE SKIP LOCKED`, so several workers take disjoint rows;
on SQLite (and as a second safety on PostgreSQL) each row is claimed by a conditional update that
only succeeds while the row is pending and unleased. A worker that dies leaves its rows leased;
when the lease expires another worker takes them again. While a batch is sending, the lease of
its rows still to send is renewed whenever less than half of it is left (a batch claimed ahead,
while the one before it went out, may start with half of it gone), so a healthy worker never
loses a row to another. Only the in-flight rows of a worker that died or stalled for longer than
a lease can be sent twice, and always with the same Message-ID.

A failed attempt is retried after the next delay of an explicit retry schedule (by default
spanning more than four days, so an SMTP outage of hours or a long weekend loses nothing); a
message is dead only when the attempt after the schedule's last delay failed too (or the server
refused it for good). Every new dead letter is logged as a WARNING.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any, BinaryIO

from sqlalchemy import Connection, Engine, Integer, any_, bindparam, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY

from notifications.outbox import DEAD, PENDING, SENT, OutboxMessage, message_id, utcnow
from notifications.sender import SendResult, SmtpConfig, send_batch

log = logging.getLogger("quartier.mail")

MARK_WINDOW_SECONDS = 0.05  # sent rows are marked in groups, at most about this long after


@dataclass(frozen=True)
class DeliveryConfig:
    """How the outbox goes out: the SMTP server, leases, batches, retries and polling."""

    smtp: SmtpConfig
    lease_seconds: float
    batch_size: int
    # Seconds to wait after the 1st, 2nd, ... failed attempt; after the last one, dead.
    retry_schedule: tuple[float, ...]
    poll_seconds: float  # how long the worker waits between two passes
    # Reads an attachment from the document store by checksum (notifications knows no store).
    open_attachment: Callable[[str], BinaryIO] | None = None

    @property
    def max_attempts(self) -> int:
        """The first attempt and one per scheduled retry."""
        return len(self.retry_schedule) + 1


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


# The default retry schedule: 1 minute to 24 hours, 4 days 3 hours 51 minutes in all.
DEFAULT_RETRY_SCHEDULE = "1m,5m,15m,30m,1h,2h,4h,8h,12h,24h,24h,24h"
RETRY_JITTER = 0.1  # a retry waits its delay plus up to this share of it (never less)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DELAY = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])")


class InvalidRetrySchedule(ValueError):
    """A retry schedule that cannot be read; the message says why, in German and English."""


def parse_retry_schedule(text: str) -> tuple[float, ...]:
    """Read a schedule such as "1m,5m,1h,24h" (units s, m, h, d) into seconds per retry."""
    parts = [p.strip().lower() for p in str(text).split(",")]
    if not any(parts):
        raise InvalidRetrySchedule(
            "Der Wiederholungsplan für E-Mails ist leer; erwartet z. B. „1m,5m,1h,24h“. / "
            "The mail retry schedule is empty; expected e.g. '1m,5m,1h,24h'.")
    delays = []
    for number, part in enumerate(parts, 1):
        match = _DELAY.fullmatch(part)
        seconds = float(match.group(1)) * _UNITS[match.group(2)] if match else 0.0
        if not match or seconds <= 0:
            raise InvalidRetrySchedule(
                f"Wiederholungsplan für E-Mails: Eintrag {number} („{part}“) ist keine Dauer "
                "größer null wie 30s, 5m, 2h oder 1d. / "
                f"Mail retry schedule: entry {number} ('{part}') is not a duration above zero "
                "such as 30s, 5m, 2h or 1d.")
        delays.append(seconds)
    return tuple(delays)


def retry_delay(attempts: int, schedule: Sequence[float],
                rng: random.Random | None = None) -> timedelta | None:
    """How long to wait after the `attempts`-th failed attempt (the schedule's entry, plus up
    to RETRY_JITTER of it), or None when the schedule is exhausted: the message is dead."""
    if attempts < 1 or attempts > len(schedule):
        return None
    delay = schedule[attempts - 1]
    return timedelta(seconds=(rng or random).uniform(delay, delay * (1 + RETRY_JITTER)))


_OUTBOX = OutboxMessage.__table__
# What sending and bookkeeping a claimed row need, returned by the claiming UPDATE itself.
_CLAIMED_COLUMNS = [_OUTBOX.c[name] for name in (
    "id", "recipient", "language", "template", "context", "subject", "body_text", "body_html",
    "attempts", "lease_until", "created_at", "attachments")]


@dataclass(frozen=True, slots=True)
class Claimed:
    """A row this worker holds under a lease: what `send_batch` and `mark_failed` need."""

    id: int
    recipient: str
    language: str
    template: str
    context: dict[str, Any]
    subject: str | None
    body_text: str | None
    body_html: str | None
    attempts: int
    lease_until: datetime
    created_at: datetime
    attachments: list[dict[str, str]] | None = None  # references to the document store

    @property
    def message_id(self) -> str:
        """The stable Message-ID, the same on every attempt (as `OutboxMessage.message_id`)."""
        return message_id(self.id, self.created_at)


def _due(now: datetime) -> Any:
    c = _OUTBOX.c
    return ((c.status == PENDING) & (c.next_attempt_at <= now)
            & or_(c.lease_until.is_(None), c.lease_until < now))


def claim(engine: Engine | Connection, now: datetime, limit: int, lease_seconds: float,
          exclude: Iterable[int] = (), after_id: int = 0) -> list[Claimed]:
    """Take up to `limit` due rows under a lease, in their own committed transaction.

    One statement: an UPDATE of the candidates (on PostgreSQL locked with `FOR UPDATE SKIP
    LOCKED`, so concurrent workers take disjoint rows) that sets the lease only where the row is
    still due, and returns what sending needs. Rows up to `after_id` and those in `exclude` are
    left alone (a pass takes each row at most once).
    """
    lease_until = now + timedelta(seconds=lease_seconds)
    exclude = list(exclude)
    c = _OUTBOX.c
    candidates = select(c.id).where(_due(now))
    if after_id:
        candidates = candidates.where(c.id > after_id)
    if exclude:
        candidates = candidates.where(c.id.not_in(exclude))
    candidates = candidates.order_by(c.id).limit(limit)
    if engine.dialect.name == "postgresql":
        # Locked in a materialized CTE, run once: as `IN (subquery)` the planner may run
        # the LIMIT ... SKIP LOCKED subquery again per row and take more than `limit` rows.
        locked = (candidates.with_for_update(skip_locked=True).cte("candidates")
                  .prefix_with("MATERIALIZED"))
        taken = c.id == locked.c.id
    else:
        taken = c.id.in_(candidates.scalar_subquery())  # SQLite runs it once, writers serialise
    statement = (
        update(_OUTBOX)
        # Each row still only if it is still due (the second safety, and all of it on SQLite).
        .where(taken, _due(now))
        .values(lease_until=lease_until, attempts=c.attempts + 1)
        .returning(*_CLAIMED_COLUMNS))
    with _transaction(engine) as conn:
        rows = conn.execute(statement).all()
    return sorted((Claimed(*row) for row in rows), key=lambda row: row.id)


@contextmanager
def _transaction(bind: Engine | Connection) -> Iterator[Connection]:
    """A committed transaction on an engine, or on a connection held for a whole pass."""
    if isinstance(bind, Engine):
        with bind.begin() as conn:
            yield conn
    else:
        with bind.begin():
            yield bind


def renew_lease(engine: Engine | Connection, ids: Sequence[int], held_until: datetime,
                until: datetime) -> set[int]:
    """Extend the lease of rows still held (pending, with the lease `held_until` this worker
    set); the ids renewed. A row missing from the result was taken over: it is not ours."""
    c = _OUTBOX.c
    statement = (update(_OUTBOX)
                 .where(c.id.in_(list(ids)), c.status == PENDING, c.lease_until == held_until)
                 .values(lease_until=until).returning(c.id))
    with _transaction(engine) as conn:
        return set(conn.execute(statement).scalars())


class _Lease:
    """The lease of one batch while it is sending: renewed before a send when less than half
    of it is left, for the rows still to send."""

    def __init__(self, run: Callable[..., asyncio.Future[Any]], rows: list[Claimed],
                 by_id: dict[int, Claimed], lease_seconds: float, claimed_at: float) -> None:
        self.run, self.rows, self.by_id = run, rows, by_id
        self.seconds = lease_seconds
        self.renewed_at = claimed_at  # monotonic time the current lease was counted from
        self.until = rows[0].lease_until  # one claim or renewal sets one value for the batch
        self.held = {r.id for r in rows}

    async def before_send(self, index: int) -> bool:
        row = self.rows[index]
        elapsed = time.monotonic() - self.renewed_at
        if row.id in self.held and elapsed > self.seconds / 2:
            rest = [r.id for r in self.rows[index:] if r.id in self.held]
            # Counted on from the lease's own clock (the pass may run at a simulated `now`).
            until = self.until + timedelta(seconds=elapsed)
            renewed_at = time.monotonic()
            self.held = await self.run(renew_lease, rest, self.until, until)
            self.until, self.renewed_at = until, renewed_at
            for outbox_id in self.held:
                self.by_id[outbox_id] = replace(self.by_id[outbox_id], lease_until=until)
            lost = set(rest) - self.held
            if lost:
                log.warning("outbox %s: lease lost to another worker, not sent", sorted(lost))
        return row.id in self.held


_SENT_VALUES = {"status": SENT, "sent_at": bindparam("now"), "lease_until": None,
                "last_error": None}
# On PostgreSQL the ids travel as one array parameter: one cached statement for any group size.
_MARK_SENT_ANY = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == any_(bindparam("ids", type_=ARRAY(Integer))),
           _OUTBOX.c.status == PENDING)
    .values(_SENT_VALUES))
_MARK_SENT_IN = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id.in_(bindparam("ids", expanding=True)), _OUTBOX.c.status == PENDING)
    .values(_SENT_VALUES))


def mark_sent(engine: Engine | Connection, outbox_id: int | Sequence[int], now: datetime) -> None:
    """Mark rows sent: one UPDATE for all of them (only rows still pending)."""
    ids = [outbox_id] if isinstance(outbox_id, int) else list(outbox_id)
    statement = _MARK_SENT_ANY if engine.dialect.name == "postgresql" else _MARK_SENT_IN
    with _transaction(engine) as conn:
        conn.execute(statement, {"ids": ids, "now": now})


def failure(row: Claimed | OutboxMessage, now: datetime, error: str, permanent: bool,
            config: DeliveryConfig, rng: random.Random | None = None) -> tuple[str, dict[str, Any]]:
    """What a failed attempt makes of a row: (new status, values): retried after the schedule's
    next delay, or dead (refused for good, or the schedule is exhausted)."""
    delay = None if permanent else retry_delay(row.attempts, config.retry_schedule, rng)
    values: dict[str, Any] = {"lease_until": None, "last_error": error}
    if delay is None:
        values["status"] = DEAD
    else:
        values["next_attempt_at"] = now + delay
    return (DEAD if delay is None else PENDING), values


def log_dead_letter(row: Claimed | OutboxMessage, error: str) -> None:
    """The WARNING every new dead letter gets: an admin must requeue it or tell the recipient."""
    log.warning("outbox %s: dead letter after %s attempts (to %s, %s): %s; "
                "see `quartier mail list --dead`, then `quartier mail requeue %s`",
                row.id, row.attempts, row.recipient, row.template, error, row.id)


def record_failure(engine: Engine | Connection, row: Claimed | OutboxMessage,
                   values: dict[str, Any]) -> None:
    c = _OUTBOX.c
    with _transaction(engine) as conn:
        # Only while this worker still holds the lease: a row someone else took over (or sent)
        # after our lease expired is theirs now.
        conn.execute(
            update(_OUTBOX)
            .where(c.id == row.id, c.status == PENDING, c.lease_until == row.lease_until)
            .values(**values))


def mark_failed(engine: Engine | Connection, row: Claimed | OutboxMessage, now: datetime,
                error: str, permanent: bool, config: DeliveryConfig,
                rng: random.Random | None = None) -> str:
    """Record a failed attempt: retry later by the schedule, or dead. Returns the new status."""
    status, values = failure(row, now, error, permanent, config, rng)
    record_failure(engine, row, values)
    if status == DEAD:
        log_dead_letter(row, error)
    return status


class _Marker:
    """Marks sent rows from the pass's database thread, in groups at most about a window late.

    The first id sent after a mark starts a timer on the event loop; when it fires, every id sent
    so far goes to the database thread as one UPDATE. A crash can only resend (with the same
    Message-ID) what was sent in the last window. The thread does only database work: the window
    is timed by the loop, so a claim queued on the same thread never waits for it.
    """

    def __init__(self, run: Callable[..., asyncio.Future[Any]], now: datetime | None,
                 clock: Callable[[], datetime], window: float = MARK_WINDOW_SECONDS) -> None:
        self.run, self.now, self.clock, self.window = run, now, clock, window
        self.loop = asyncio.get_running_loop()
        self.ids: list[int] = []
        self.first_at = 0.0  # loop time of the oldest unmarked id
        self.timer: asyncio.TimerHandle | None = None
        self.running: asyncio.Future[Any] | None = None
        self.error: BaseException | None = None
        self.flushing = False

    def sent(self, outbox_id: int) -> None:
        if not self.ids:
            self.first_at = self.loop.time()
        self.ids.append(outbox_id)
        self._schedule()

    def _schedule(self) -> None:
        if (self.ids and self.timer is None and self.running is None and self.error is None
                and not self.flushing):
            delay = max(0.0, self.first_at + self.window - self.loop.time())
            self.timer = self.loop.call_later(delay, self._start)

    def _start(self) -> None:
        self.timer = None
        ids, self.ids = self.ids, []
        self.running = self.run(mark_sent, ids, self.now or self.clock())
        self.running.add_done_callback(self._done)

    def _done(self, future: asyncio.Future[Any]) -> None:
        self.running = None
        if not future.cancelled() and future.exception() is not None:
            self.error = future.exception()
        self._schedule()

    async def flush(self) -> None:
        """Mark everything sent so far, now; raise if a mark failed."""
        self.flushing = True  # no more timers: what is left is marked here
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        while self.running is not None:
            await asyncio.wait([self.running])
        if self.error is None and self.ids:
            ids, self.ids = self.ids, []
            await self.run(mark_sent, ids, self.now or self.clock())
        if self.error is not None:
            raise self.error


async def deliver_due_async(engine: Engine, config: DeliveryConfig, *,
                            now: datetime | None = None, batch_size: int | None = None,
                            rng: random.Random | None = None,
                            clock: Callable[[], datetime] = utcnow) -> DeliveryReport:
    """One pass: send every message due at `now`, batch by batch, one connection per batch.

    The database work (claims, marks) runs on one helper thread with one connection for the
    pass, so it overlaps with sending: while a batch goes out, sent rows are marked and the next
    batch is claimed. Each row is taken at most once per pass.
    """
    size = batch_size or config.batch_size
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-db") as thread:
        conn = await loop.run_in_executor(thread, engine.connect)
        try:
            def run(fn: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
                return loop.run_in_executor(thread, partial(fn, conn, *args))

            return await _deliver(run, config, size, now, rng, clock)
        finally:
            await loop.run_in_executor(thread, conn.close)


async def _deliver(run: Callable[..., asyncio.Future[Any]], config: DeliveryConfig,
                   size: int, now: datetime | None,
                   rng: random.Random | None, clock: Callable[[], datetime]) -> DeliveryReport:
    report = DeliveryReport()
    writes: list[asyncio.Future[Any]] = []  # failures being recorded

    claimed_at: dict[asyncio.Future[Any], float] = {}

    def claim_after(after_id: int) -> asyncio.Future[Any]:
        # Claims go up the ids: a row this pass took (sent, or failed and back in the queue)
        # is never taken again by it; a row that only became due meanwhile waits for the next.
        started = time.monotonic()  # the lease runs from about now, not from when it is used
        future = run(claim, now or clock(), size, config.lease_seconds, (), after_id)
        claimed_at[future] = started
        return future

    marker = _Marker(run, now, clock)
    next_claim = claim_after(0)
    try:
        while True:
            rows: list[Claimed] = await next_claim
            if not rows:
                return report
            by_id = {r.id: r for r in rows}
            lease = _Lease(run, rows, by_id, config.lease_seconds, claimed_at.pop(next_claim))
            batch = DeliveryReport(claimed=len(rows))
            after_id = rows[-1].id
            prefetch: list[asyncio.Future[Any]] = []

            def on_result(result: SendResult, batch: DeliveryReport = batch,
                          by_id: dict[int, Claimed] = by_id, after_id: int = after_id,
                          prefetch: list[asyncio.Future[Any]] = prefetch) -> None:
                if marker.error is not None:
                    # Sent rows are not being marked (the database is away): stop sending, so
                    # that no more than the unmarked ones go out again after their lease.
                    raise marker.error
                if result.sent:
                    marker.sent(result.outbox_id)
                    batch.sent += 1
                    if not prefetch:
                        # The server takes mail: claim the next batch while this one goes out.
                        prefetch.append(claim_after(after_id))
                    return
                row = by_id[result.outbox_id]
                status, values = failure(row, now or clock(), result.error or "",
                                         result.permanent, config, rng)
                writes.append(run(record_failure, row, values))
                batch.dead += status == DEAD
                batch.retrying += status == PENDING
                batch.errors.append(f"{result.outbox_id}: {result.error}")
                log.warning("outbox %s not sent (%s): %s", result.outbox_id, status, result.error)
                if status == DEAD:
                    log_dead_letter(row, result.error or "")

            await send_batch(config.smtp, rows, on_result, lease.before_send,
                             config.open_attachment)
            report.add(batch)
            if batch.sent == 0 and batch.retrying:
                return report  # the server is not taking mail; the rest waits for its retry
            next_claim = prefetch[0] if prefetch else claim_after(after_id)
    finally:
        try:
            await marker.flush()
        finally:
            await asyncio.gather(*writes)


def deliver_due(engine: Engine, config: DeliveryConfig, *,
                now: datetime | None = None, batch_size: int | None = None,
                rng: random.Random | None = None) -> DeliveryReport:
    """`deliver_due_async` for synchronous callers (CLI, tests, the worker loop)."""
    return asyncio.run(deliver_due_async(engine, config, now=now, batch_size=batch_size,
                                         rng=rng))


# ---------------------------------------------------------------- the long-running worker


@dataclass
class Periodic:
    """A job the worker runs every `every_seconds` (0: on every pass): fn(engine, now)."""

    fn: Callable[[Engine, datetime], Any]
    every_seconds: float = 60.0
    name: str = ""
    last_run: datetime | None = None

    def due(self, now: datetime) -> bool:
        return self.last_run is None or (now - self.last_run).total_seconds() >= self.every_seconds


def delivery_job(config: DeliveryConfig,
                 on_report: Callable[[DeliveryReport], None] | None = None) -> Periodic:
    """The worker's job that delivers the outbox on every pass; `on_report` hears of each one
    that claimed something."""
    def deliver(engine: Engine, now: datetime) -> None:
        # On the real clock, not the loop's: a message is due at a real instant, and what the
        # jobs before this one enqueued in the same pass goes out at once.
        report = deliver_due(engine, config)
        if on_report and report.claimed:
            on_report(report)

    return Periodic(deliver, 0.0, "outbox delivery")


def run_worker(engine: Engine, jobs: Sequence[Periodic], *, poll_seconds: float,
               stop: threading.Event | None = None, clock: Callable[[], datetime] = utcnow,
               once: bool = False) -> None:
    """Run the given jobs, each when it is due, every `poll_seconds` until `stop` is set (with
    `once`: one pass). A failing job is logged and does not stop the others."""
    stop = stop or threading.Event()
    while not stop.is_set():
        now = clock()
        for job in jobs:
            if job.due(now):
                job.last_run = now
                try:
                    job.fn(engine, now)
                except Exception:  # noqa: BLE001 - e.g. the database is briefly away; next pass
                    log.exception("worker job %s failed", job.name)
        if once:
            return
        stop.wait(poll_seconds)
