"""Database engines and units of work. SQLite by default, PostgreSQL through the URL.

A unit of work either writes or only reads. On SQLite a writing one begins `IMMEDIATE` (it holds
the write lock from BEGIN, which money changes rely on); a reading one begins `DEFERRED` under
`PRAGMA query_only`, so in WAL mode it never waits for a writer and a write in it fails loudly.
On PostgreSQL a reading one is a `READ ONLY` transaction. Waiting is bounded everywhere: for a
pool connection by `QUARTIER_DB_POOL_TIMEOUT_SECONDS`, for a lock by
`QUARTIER_DB_LOCK_TIMEOUT_SECONDS`; either wait running out is `DatabaseBusy` (503).
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.pool import QueuePool, StaticPool
from sqlmodel import Session, create_engine

from workflow.errors import WorkflowError
from workflow.settings import get_settings

READ_ONLY = "quartier_read_only"  # the execution option a reading unit of work carries
_QUERY_ONLY = "quartier_query_only"  # whether PRAGMA query_only is on, per SQLite connection


class DatabaseBusy(WorkflowError):
    """No connection or lock within the configured wait: the client should retry shortly."""

    status, type, title = 503, "database-busy", "Vorübergehend überlastet"
    retry_after_seconds = 2

    def __init__(self) -> None:
        super().__init__("Der Dienst ist gerade ausgelastet; es wurde nichts gespeichert. Bitte "
                         "in wenigen Sekunden erneut versuchen.",
                         "The service is busy right now; nothing was saved. Please retry in a "
                         "few seconds.")


def is_busy(error: BaseException) -> bool:
    """Did the database refuse to wait longer (pool exhausted, lock not granted in time)?"""
    if isinstance(error, PoolTimeout):
        return True
    if isinstance(error, OperationalError):
        text = str(error.orig)
        # SQLite's busy timeout ran out; PostgreSQL's lock_timeout (55P03) ran out
        return ("database is locked" in text or "lock timeout" in text
                or getattr(error.orig, "sqlstate", None) == "55P03")
    return False


def make_engine(url: str | None = None, **kw: Any) -> Engine:
    """An engine for `url`, its pool and lock waits bounded by the `QUARTIER_DB_*` settings."""
    settings = get_settings()
    url = url or settings.database_url
    lock_timeout_ms = int(settings.db_lock_timeout_seconds * 1000)
    if "poolclass" not in kw and url not in ("sqlite://", "sqlite:///:memory:"):
        kw.setdefault("pool_size", settings.db_pool_size)
        kw.setdefault("max_overflow", settings.db_max_overflow)
        kw.setdefault("pool_timeout", settings.db_pool_timeout_seconds)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:" and not url.startswith("sqlite://?"):
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        if url in ("sqlite://", "sqlite:///:memory:"):
            kw.setdefault("poolclass", StaticPool)
        engine = create_engine(url, connect_args={"check_same_thread": False,
                                                  "timeout": lock_timeout_ms / 1000}, **kw)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, record):  # type: ignore[no-untyped-def]
            # Let SQLAlchemy, not the driver, decide when a transaction begins.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={lock_timeout_ms}")
            if url not in ("sqlite://", "sqlite:///:memory:"):
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()
            record.info[_QUERY_ONLY] = False

        @event.listens_for(engine, "begin")
        def _on_begin(conn):  # type: ignore[no-untyped-def]
            read_only = bool(conn.get_execution_options().get(READ_ONLY))
            fairy = conn.connection
            if fairy.info.get(_QUERY_ONLY, False) != read_only:
                fairy.driver_connection.execute(f"PRAGMA query_only={int(read_only)}")
                fairy.info[_QUERY_ONLY] = read_only
            # Readers take no lock (WAL); writers take the write lock at BEGIN, so that a
            # read-then-write inside the transaction stays consistent.
            conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    kw.setdefault("pool_pre_ping", True)
    connect_args = kw.pop("connect_args", {})
    connect_args.setdefault("options", f"-c lock_timeout={lock_timeout_ms}")
    return create_engine(url, connect_args=connect_args, **kw)


_READERS: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


def reader(engine: Engine) -> Engine:
    """The same engine (same pool) whose transactions only read: DEFERRED and query_only on
    SQLite, READ ONLY on PostgreSQL. Made once per engine."""
    found = _READERS.get(engine)
    if found is None:
        options: dict[str, Any] = {READ_ONLY: True}
        if engine.dialect.name == "postgresql":
            options["postgresql_readonly"] = True
        found = _READERS[engine] = engine.execution_options(**options)
    return found


def connection_slots(engine: Engine) -> int | None:
    """How many connections the engine's pool can hand out at once (None: no fixed limit)."""
    pool = engine.pool
    if isinstance(pool, QueuePool) and pool._max_overflow >= 0:  # noqa: SLF001 - no public getter
        return pool.size() + pool._max_overflow  # noqa: SLF001
    return None


def is_postgres(session_or_engine) -> bool:
    bind = (
        session_or_engine.get_bind()
        if isinstance(session_or_engine, Session)
        else session_or_engine
    )
    return bind.dialect.name == "postgresql"


@contextmanager
def unit_of_work(engine: Engine, *, read_only: bool = False) -> Iterator[Session]:
    """One transaction: commit once on success, roll back on any error.

    `read_only`: the transaction only reads (it never waits for SQLite's write lock, and any
    write in it fails). A wait for a connection or a lock that runs out is `DatabaseBusy`.
    """
    with Session(reader(engine) if read_only else engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException as error:
            session.rollback()
            if is_busy(error):
                raise DatabaseBusy() from error
            raise
