"""Stored Idempotency-Key responses expire: the worker's job deletes old rows, keeps fresh ones."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from tests.factories import NOW, make_world
from workflow import idempotency
from workflow.cli import server
from workflow.db import unit_of_work
from workflow.idempotency import IdempotencyRecord


def _store(engine: Engine, ages_hours: dict[str, float]) -> None:
    with unit_of_work(engine) as s:
        user_id = make_world(s).carrier.id
        for key, age in ages_hours.items():
            record = idempotency.remember(
                s, user_id=user_id, key=key, endpoint="POST /api/v1/applications",
                fingerprint="f", status_code=201, body={"reference": key}, headers={})
            record.created_at = NOW - timedelta(hours=age)
            s.add(record)


def _keys(engine: Engine) -> set[str]:
    with unit_of_work(engine, read_only=True) as s:
        return set(s.exec(select(IdempotencyRecord.key)))


def test_the_worker_job_deletes_expired_records_and_keeps_fresh_ones(
        any_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    _store(any_engine, {"old": 25, "older": 24 * 30, "fresh": 1, "almost": 23.9})
    monkeypatch.setenv("QUARTIER_SMTP_PORT", "2525")
    server.get_settings.cache_clear()
    try:
        [expiry] = [job for job in server.worker_jobs() if job.name == "idempotency expiry"]
    finally:
        server.get_settings.cache_clear()
    assert expiry.every_seconds == server.IDEMPOTENCY_EXPIRY_EVERY_SECONDS
    expiry.fn(any_engine, NOW)
    assert _keys(any_engine) == {"fresh", "almost"}
    expiry.fn(any_engine, NOW)  # idempotent
    assert _keys(any_engine) == {"fresh", "almost"}


def test_the_retention_is_a_setting(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    _store(engine, {"a": 3, "b": 1})
    monkeypatch.setenv("QUARTIER_IDEMPOTENCY_RETENTION_HOURS", "2")
    server.get_settings.cache_clear()
    try:
        [expiry] = [job for job in server.worker_jobs() if job.name == "idempotency expiry"]
    finally:
        server.get_settings.cache_clear()
    expiry.fn(engine, NOW)
    assert _keys(engine) == {"b"}
