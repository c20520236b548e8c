"""Timestamps are aware UTC on SQLite as on PostgreSQL (issue 12, item 2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlmodel import select

from tests.factories import NOW, application_in, make_world
from workflow.db import unit_of_work
from workflow.models import Call, TransitionRecord

SUMMER = timezone(timedelta(hours=2))  # Berlin in summer


def test_moments_come_back_aware_and_in_utc(any_engine):
    opens = datetime(2020, 6, 1, 9, 0, tzinfo=SUMMER)
    with unit_of_work(any_engine) as s:
        w = make_world(s, opens_at=opens)
        application_in(s, w, "submitted", now=NOW)
    with unit_of_work(any_engine) as s:
        call = s.get(Call, w.call_id)
        assert call.opens_at == opens and call.opens_at.utcoffset() == timedelta(0)
        assert call.opens_at.hour == 7  # 09:00 in Berlin summer time is 07:00 UTC
        received = s.exec(select(TransitionRecord.at)
                          .where(TransitionRecord.trigger == "submit")).one()
        assert received == NOW and received.tzinfo is not None
        assert received.astimezone(UTC) == NOW
