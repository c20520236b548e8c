"""Leases under a slow SMTP server: two healthy workers never send a mail twice."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, select

from notifications.outbox import SENT, OutboxMessage, enqueue
from notifications.worker import deliver_due
from tests.notifications.conftest import SmtpServer
from tests.notifications.samples import sample_context
from workflow.db import make_engine
from workflow.settings import Settings


def test_two_workers_and_a_slow_server_deliver_every_mail_exactly_once(
        engine: Engine, sqlite_url: str, smtp_server: SmtpServer, smtp_port: int,
        tmp_path: Path) -> None:
    """0.3 s per mail, batches of 20 (6 s each), lease 8 s: a batch claimed ahead while the one
    before it is sending would lose its lease halfway through, unless it is renewed."""
    with Session(engine) as session:
        for i in range(200):
            enqueue(session.connection(), template="approval", recipient=f"t{i}@example.org",
                    language="de", context=sample_context("approval"))
        session.commit()
    smtp_server.set_delay(0.3)
    config = Settings(smtp_port=smtp_port, mail_lease_seconds=8, mail_batch_size=20,
                      mail_retry_schedule="1h").delivery()
    start = threading.Barrier(2)
    sent = [0, 0]
    failures: list[BaseException] = []

    def worker(index: int) -> None:
        db = make_engine(sqlite_url)  # each worker has its own engine and connections
        try:
            start.wait()
            while True:
                report = deliver_due(db, config)
                sent[index] += report.sent
                assert not report.errors, report.errors
                if report.claimed == 0:
                    return
        except BaseException as error:  # noqa: BLE001 - surfaced in the main thread below
            failures.append(error)
        finally:
            db.dispose()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not failures, failures
    assert all(sent), sent  # both workers took part

    ids = smtp_server.message_ids()
    with Session(engine) as session:
        rows = session.exec(select(OutboxMessage)).all()
    assert len(rows) == 200 and all(r.status == SENT and r.attempts == 1 for r in rows)
    assert set(ids) == {r.message_id for r in rows}
    assert set(ids.values()) == {1}, f"{sum(n > 1 for n in ids.values())} mails arrived twice"
    assert sum(sent) == 200
