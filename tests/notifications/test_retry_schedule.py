"""Issue 12, item 6: a mail is retried by an explicit schedule spanning days before it is dead."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlmodel import Session

from notifications.outbox import DEAD, PENDING, SENT, OutboxMessage, enqueue
from notifications.worker import DEFAULT_RETRY_SCHEDULE, deliver_due, parse_retry_schedule
from tests.factories import NOW
from tests.notifications.handlers import RefusingHandler
from tests.notifications.samples import sample_context
from workflow.settings import Settings


def one_mail(engine: Engine) -> int:
    with Session(engine) as s:
        outbox_id = enqueue(s.connection(), template="approval", recipient="traeger@example.org",
                            language="de", context=sample_context("approval"), now=NOW)
        s.commit()
    return outbox_id


def row_of(engine: Engine, outbox_id: int) -> OutboxMessage:
    with Session(engine) as s:
        return s.get(OutboxMessage, outbox_id)


@pytest.fixture
def refusing_server(tmp_path: Path, smtp_port: int):
    """A real SMTP server that answers every recipient with a temporary refusal."""
    handler = RefusingHandler(tmp_path / "refused", "", "451 4.3.0 Mail system not available")
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    yield handler
    controller.stop()


def test_an_outage_of_days_kills_no_mail_before_the_schedule_is_exhausted(
        any_engine: Engine, refusing_server, smtp_port: int, caplog) -> None:
    config = Settings(smtp_host="127.0.0.1", smtp_port=smtp_port).delivery()  # the default
    assert config.max_attempts == 13
    outbox_id = one_mail(any_engine)
    caplog.set_level(logging.WARNING, logger="quartier.mail")
    moment, seen = NOW, []  # (time since the first attempt, status after the attempt)
    while True:
        report = deliver_due(any_engine, config, now=moment)
        assert report.claimed == 1 and report.sent == 0
        row = row_of(any_engine, outbox_id)
        seen.append((moment - NOW, row.status, row.attempts))
        if row.status == DEAD:
            break
        assert "451" in row.last_error
        # Before its scheduled time a pass leaves the row alone.
        assert deliver_due(any_engine, config, now=row.next_attempt_at
                           - timedelta(seconds=1)).claimed == 0
        moment = row.next_attempt_at.replace(tzinfo=NOW.tzinfo)
    after_two_hours = next(s for s in seen if s[0] >= timedelta(hours=2))
    after_two_days = next(s for s in seen if s[0] >= timedelta(days=2))
    assert after_two_hours[1] == PENDING and after_two_days[1] == PENDING
    died_after, status, attempts = seen[-1]
    assert status == DEAD and attempts == 13 and len(seen) == 13
    assert all(s[1] == PENDING for s in seen[:-1])
    assert died_after >= timedelta(days=3)
    dead_warnings = [r for r in caplog.records
                     if r.levelno == logging.WARNING and "dead letter" in r.getMessage()]
    assert len(dead_warnings) == 1 and f"outbox {outbox_id}:" in dead_warnings[0].getMessage()
    # Dead stays dead: no later pass takes it.
    assert deliver_due(any_engine, config, now=moment + timedelta(days=30)).claimed == 0


def test_a_mail_still_goes_out_when_the_server_is_back_after_two_days(
        any_engine: Engine, smtp_server, smtp_port: int) -> None:
    config = Settings(smtp_host="127.0.0.1", smtp_port=smtp_port).delivery()
    outbox_id = one_mail(any_engine)
    smtp_server.stop()  # the server is down: connections are refused
    moment = NOW
    while moment - NOW < timedelta(days=2):
        deliver_due(any_engine, config, now=moment)
        row = row_of(any_engine, outbox_id)
        assert row.status == PENDING
        moment = row.next_attempt_at.replace(tzinfo=NOW.tzinfo)
    smtp_server.start()
    assert deliver_due(any_engine, config, now=moment).sent == 1
    assert row_of(any_engine, outbox_id).status == SENT
    assert len(smtp_server.raw()) == 1


def test_the_default_schedule_spans_more_than_three_days() -> None:
    schedule = parse_retry_schedule(DEFAULT_RETRY_SCHEDULE)
    assert sum(schedule) >= 3 * 86400
    assert Settings().delivery().retry_schedule == schedule
    assert parse_retry_schedule(" 30s, 1.5m ,2h,1d ") == (30.0, 90.0, 7200.0, 86400.0)


@pytest.mark.parametrize("bad", ["", "5", "1m,,2m", "0m", "1w", "-1h", "1h;2h", "abc"])
def test_an_unreadable_retry_schedule_is_refused_with_the_reason(bad: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(mail_retry_schedule=bad)
    message = str(caught.value)
    assert "QUARTIER_MAIL_RETRY_SCHEDULE" in message and "Wiederholungsplan" in message


def test_the_schedule_is_read_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("QUARTIER_MAIL_RETRY_SCHEDULE", "10m,1d")
    assert Settings().delivery().retry_schedule == (600.0, 86400.0)
    monkeypatch.setenv("QUARTIER_MAIL_RETRY_SCHEDULE", "10 Minuten")
    with pytest.raises(ValidationError, match="Eintrag 1"):
        Settings()
