"""workflow.db: a firing writes with Core statements; ORM objects loaded before it stay current;
readers never wait for SQLite's write lock, and no wait for a lock outlasts the lock timeout."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, SQLModel, select

from tests.factories import NOW, application_in, make_world
from workflow import engine
from workflow.db import DatabaseBusy, make_engine, unit_of_work
from workflow.models import Application, ApplicationYear, BudgetLine, Call, Deadline
from workflow.settings import get_settings


def test_orm_objects_loaded_before_a_firing_see_its_writes(any_engine: Engine) -> None:
    with Session(any_engine, expire_on_commit=False) as s:
        world = make_world(s)
        reference = application_in(s, world, "in_review").reference
        s.commit()

    with Session(any_engine, expire_on_commit=False) as s:
        # Loaded through the ORM first, then changed by the engine's Core statements.
        app = s.exec(select(Application).where(Application.reference == reference)).one()
        years = s.exec(select(ApplicationYear).where(ApplicationYear.application_id == app.id))
        years = list(years)
        lines = list(s.exec(select(BudgetLine)))
        version = app.version

        engine.fire(s, reference, "request_documents", world.reviewer, now=NOW, reason="Fehlt",
                    payload={"documents": ["Kosten- und Finanzierungsplan"]})
        request = s.exec(select(Deadline).where(Deadline.application_id == app.id)).one()
        assert (app.state, app.version, request.status) == ("documents_requested", version + 1,
                                                            "open")

        engine.fire(s, reference, "provide_documents", world.carrier, now=NOW,
                    payload={"explanation": "Liegt bei"})
        engine.fire(s, reference, "recommend", world.reviewer, reason="Förderfähig", now=NOW,
                    payload={"amounts": {"2021": "40000", "2022": "30000"}})
        engine.fire(s, reference, "approve", world.approver, now=NOW)

        assert request.status == "met"
        assert (app.state, app.version) == ("approved", version + 4)
        assert app.approved_at is not None
        assert {y.year: y.approved_cents for y in years} == {2021: 40_000_00, 2022: 30_000_00}
        assert {ln.year: ln.committed_cents for ln in lines} == {2021: 40_000_00, 2022: 30_000_00}
        # The values are the database's, not pending ORM changes.
        assert not s.dirty and not s.new
        s.commit()

    with Session(any_engine) as s:
        app = s.exec(select(Application).where(Application.reference == reference)).one()
        assert (app.state, app.version) == ("approved", version + 4)
        committed = {ln.year: ln.committed_cents for ln in s.exec(select(BudgetLine))}
        assert committed == {2021: 40_000_00, 2022: 30_000_00}


@pytest.fixture
def impatient(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Settings with a short lock wait (0.3 s), for engines made while the test runs."""
    monkeypatch.setenv("QUARTIER_DB_LOCK_TIMEOUT_SECONDS", "0.3")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _hold_write_lock(url: str, until: threading.Event, holding: threading.Event) -> None:
    db = make_engine(url)
    with unit_of_work(db) as s:
        s.execute(text("UPDATE call SET title = title"))  # writer: BEGIN IMMEDIATE, lock held
        holding.set()
        until.wait(10)
    db.dispose()


@pytest.mark.usefixtures("impatient")
def test_sqlite_readers_do_not_wait_for_a_writer_and_writers_get_busy(sqlite_url: str) -> None:
    db = make_engine(sqlite_url)
    SQLModel.metadata.create_all(db)
    with unit_of_work(db) as s:
        make_world(s)
    until, holding = threading.Event(), threading.Event()
    writer = threading.Thread(target=_hold_write_lock, args=(sqlite_url, until, holding))
    writer.start()
    try:
        assert holding.wait(10)
        with unit_of_work(db, read_only=True) as s:  # WAL: reads while the writer writes
            assert s.exec(select(Call)).first() is not None
        # A writing unit of work waits for the lock no longer than the lock timeout.
        with pytest.raises(DatabaseBusy) as refused, unit_of_work(db) as s:
            s.exec(select(Call)).first()
        assert refused.value.status == 503
    finally:
        until.set()
        writer.join()
        db.dispose()


def test_a_write_in_a_read_only_unit_of_work_fails_loudly(any_engine: Engine) -> None:
    with unit_of_work(any_engine) as s:
        make_world(s)
    with pytest.raises(DBAPIError, match="(?i)read.?only"), \
            unit_of_work(any_engine, read_only=True) as s:
        s.execute(text("UPDATE call SET title = 'x'"))
    # The same connection writes again in a writing unit of work (the pool reuses it).
    with unit_of_work(any_engine) as s:
        s.execute(text("UPDATE call SET title = 'y'"))
    with unit_of_work(any_engine, read_only=True) as s:
        assert {c.title for c in s.exec(select(Call))} == {"y"}
