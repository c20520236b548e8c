"""Several workers on PostgreSQL: SKIP LOCKED claims keep them apart, each message goes out once."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from notifications.outbox import SENT, OutboxMessage, enqueue, utcnow
from notifications.worker import DeliveryConfig, claim, deliver_due
from tests.notifications.conftest import SmtpServer
from tests.notifications.samples import sample_context
from workflow.db import make_engine

pytestmark = pytest.mark.postgres


def fill_outbox(engine: Engine, count: int) -> None:
    context = sample_context("receipt_confirmation")
    with Session(engine) as session:
        for i in range(count):
            enqueue(session.connection(), template="receipt_confirmation",
                    recipient=f"traeger{i}@example.org",
                    language="de" if i % 2 else "en",
                    context={**context, "reference": f"ZiQ-2021-{i:04d}"})
        session.commit()


def test_a_locked_candidate_is_skipped_not_waited_for(pg_engine: Engine,
                                                      mail_settings: DeliveryConfig) -> None:
    fill_outbox(pg_engine, 6)
    with Session(pg_engine) as holder:
        # Another worker's claim transaction, still open, holds the first three rows.
        held = holder.exec(select(OutboxMessage.id).order_by(col(OutboxMessage.id)).limit(3)
                           .with_for_update(skip_locked=True)).all()
        taken = claim(pg_engine, utcnow(), 10, mail_settings.lease_seconds)
        assert {m.id for m in taken}.isdisjoint(held) and len(taken) == 3
        holder.rollback()


def test_two_workers_drain_500_messages_exactly_once(pg_url: str, pg_engine: Engine,
                                                     smtp_server: SmtpServer,
                                                     mail_settings: DeliveryConfig) -> None:
    fill_outbox(pg_engine, 500)
    start = threading.Barrier(2)
    sent: list[int] = [0, 0]
    failures: list[BaseException] = []

    def worker(index: int) -> None:
        engine = make_engine(pg_url)  # each worker has its own engine and connections
        try:
            start.wait()
            while True:
                report = deliver_due(engine, mail_settings, batch_size=20)
                sent[index] += report.sent
                assert not report.errors, report.errors
                if report.claimed == 0:
                    return
        except BaseException as error:  # noqa: BLE001 - surfaced in the main thread below
            failures.append(error)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not failures, failures
    assert sum(sent) == 500, sent

    ids = smtp_server.message_ids()
    with Session(pg_engine) as session:
        rows = session.exec(select(OutboxMessage)).all()
    assert len(rows) == 500 and all(r.status == SENT and r.attempts == 1 for r in rows)
    assert set(ids) == {r.message_id for r in rows}
    assert set(ids.values()) == {1}, "a message arrived more than once"
