"""Benchmark: one reminder pass over 1,000 due deadlines among 100,000 and 1,000,000 open ones.

    python bench/reminders.py                       # SQLite files in /tmp
    python bench/reminders.py --url postgresql://postgres@127.0.0.1:5432/postgres

The pass should cost about the same whatever the number of open deadlines that are not due: it
only reads rows whose `next_reminder_on` has come (index on (status, next_reminder_on)).
For PostgreSQL the given URL is the admin database; a scratch database is created and dropped.
"""

# ruff: noqa: E402  (the repository root goes on sys.path before the imports)
from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, insert, text
from sqlmodel import Session, SQLModel, select

import workflow.models  # noqa: F401  (every table)
from notifications.outbox import OutboxMessage
from workflow import reminders
from workflow.db import make_engine, unit_of_work
from workflow.deadlines import BERLIN, next_working_day
from workflow.models import Application, Call, Module, Organisation, Programme, User
from workflow.reminders import run_reminder_pass

TODAY = date(2022, 6, 1)
NOW = datetime(2022, 6, 1, 6, 0, tzinfo=BERLIN)
OPENED = datetime(2020, 11, 2, 9, 0, tzinfo=UTC)
APPLICATIONS = 1000
DUE = 1000


def build_world(db: Engine) -> None:
    """A programme, a call, one carrier organisation and its user, a reviewer, 1,000 projects."""
    SQLModel.metadata.create_all(db)
    with unit_of_work(db) as session:
        programme = Programme(code="ZiQ", name="Zusammen im Quartier", contact_email="z@x.example")
        session.add(programme)
        session.flush()
        session.add(Module(programme_id=programme.id, code="B1", name="Baustein 1"))
        call = Call(programme_id=programme.id, code="ZiQ-2021", title="ZiQ",
                    opens_at=OPENED, closes_at=OPENED + timedelta(days=3650))
        org = Organisation(name="Träger e.V.")
        session.add(call)
        session.add(org)
        session.flush()
        carrier = User(email="traeger@example.org", name="Jana Kowalski", role="carrier",
                       organisation_id=org.id)
        reviewer = User(email="pruefung@example.org", name="Sabine Weiß", role="reviewer")
        session.add(carrier)
        session.add(reviewer)
        session.flush()
        ids = (call.id, org.id, carrier.id, reviewer.id)
    call_id, org_id, carrier_id, reviewer_id = ids
    with db.begin() as conn:
        conn.execute(insert(Application.__table__), [
            {"reference": f"ZiQ-2020-{i:05d}", "call_id": call_id, "module_code": "B1",
             "organisation_id": org_id, "created_by_id": carrier_id, "municipality": "Hagen",
             "quartier": "Altenhagen", "title": f"Projekt {i}", "summary": "",
             "own_contribution_cents": 0, "early_start_granted": False, "state": "active",
             "version": 5, "case_officer_id": reviewer_id, "created_at": OPENED,
             "updated_at": OPENED} for i in range(1, APPLICATIONS + 1)])


FILL = {
    # i < DUE: due in 7 days, their next step (before_7) is due today; everything else is open
    # with its next step between 1 and 200 days ahead.
    "sqlite": """
        WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < :n - 1)
        INSERT INTO deadline (application_id, kind, period, due_date, status, opened_at,
                              next_reminder_on)
        SELECT 1 + i % :apps, 'interim_report', 'p' || i,
               CASE WHEN i < :due THEN date(:today, '+7 days')
                    ELSE date(:today, '+' || (36 + i % 200) || ' days') END,
               'open', :opened,
               CASE WHEN i < :due THEN :today
                    ELSE date(:today, '+' || (8 + i % 200) || ' days') END
        FROM seq
    """,
    "postgresql": """
        INSERT INTO deadline (application_id, kind, period, due_date, status, opened_at,
                              next_reminder_on)
        SELECT 1 + i % :apps, 'interim_report', 'p' || i,
               CASE WHEN i < :due THEN CAST(:today AS date) + 7
                    ELSE CAST(:today AS date) + 36 + i % 200 END,
               'open', CAST(:opened AS timestamptz),
               CASE WHEN i < :due THEN CAST(:today AS date)
                    ELSE CAST(:today AS date) + 8 + i % 200 END
        FROM generate_series(0, :n - 1) AS i
    """,
}


def fill(db: Engine, open_deadlines: int) -> float:
    started = time.perf_counter()
    dialect = db.dialect.name
    opened = OPENED.isoformat(" ") if dialect == "postgresql" else \
        OPENED.strftime("%Y-%m-%d %H:%M:%S.000000")
    with db.begin() as conn:
        conn.execute(text(FILL[dialect]), {"n": open_deadlines, "apps": APPLICATIONS, "due": DUE,
                                           "today": TODAY.isoformat(), "opened": opened})
    with db.begin() as conn:
        conn.execute(text("ANALYZE"))
    return time.perf_counter() - started


class EnqueueClock:
    """Time spent in notifications.outbox.enqueue (rendering the email, the outbox row)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.original = reminders.enqueue

    def __call__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return self.original(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - started


def measure(db: Engine) -> dict[str, float]:
    clock = EnqueueClock()
    reminders.enqueue = clock
    try:
        started, cpu = time.perf_counter(), time.process_time()
        summary = run_reminder_pass(db, NOW)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        reminders.enqueue = clock.original
    with Session(db) as session:
        emails = len(session.exec(select(OutboxMessage.id)).all())
    assert emails == DUE == sum(summary.sent.values()), (emails, summary.as_dict())
    return {"wall": elapsed, "cpu": cpu, "enqueue": clock.seconds}


def warm_up() -> None:
    """One-time costs of a fresh process (holiday tables, template compilation) are not the
    pass's: pay them before measuring."""
    from notifications.render import render

    next_working_day(TODAY)
    render("deadline_reminder", "de", {
        "programme_name": "P", "programme_code": "P", "contact_name": "", "contact_email": "",
        "reference": "R", "title": "T", "recipient_name": "N", "state": "active",
        "state_label": "In Durchführung", "deadline_kind": "interim_report",
        "deadline_label": "Zwischennachweis", "due_date": TODAY.isoformat(), "step": "before_7",
        "days": 7, "grace_until": "", "case_officer_name": "", "case_officer_email": ""})


def scratch(url: str | None, label: str) -> tuple[str, callable]:
    """A fresh database URL for one run, and how to get rid of it afterwards."""
    if not url:
        path = Path(f"/tmp/quartier_bench_{label}.sqlite3")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}", lambda: [Path(f"{path}{s}").unlink(missing_ok=True)
                                            for s in ("", "-wal", "-shm")]
    import psycopg

    name = f"quartier_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return url.rsplit("/", 1)[0] + "/" + name, drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="PostgreSQL admin URL (default: SQLite files in /tmp)")
    parser.add_argument("--sizes", default="100000,1000000",
                        help="numbers of open deadlines, comma-separated")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    warm_up()
    results = []
    for size in sizes:
        url, cleanup = scratch(args.url, str(size))
        db = make_engine(url)
        try:
            build_world(db)
            filled = fill(db, size)
            timing = measure(db)
            results.append((size, timing))
            print(f"{size:>9,} open: filled in {filled:.1f} s, pass {timing['wall']:.3f} s",
                  file=sys.stderr)
        finally:
            db.dispose()
            cleanup()
    backend = "PostgreSQL" if args.url else "SQLite"
    load = os.getloadavg()[0]
    print(f"\nOne reminder pass, {DUE:,} due deadlines (1,000 reminders written), {backend}, "
          f"{os.cpu_count()} CPUs, load average {load:.1f}")
    print(f"{'open deadlines':>15} | {'pass wall (s)':>13} | {'pass CPU (s)':>12} | "
          f"{'in enqueue (s)':>14} | {'rest (s)':>8}")
    print(f"{'-' * 15}-+-{'-' * 13}-+-{'-' * 12}-+-{'-' * 14}-+-{'-' * 8}")
    for size, t in results:
        print(f"{size:>15,} | {t['wall']:>13.3f} | {t['cpu']:>12.3f} | {t['enqueue']:>14.3f} | "
              f"{t['wall'] - t['enqueue']:>8.3f}")
    if len(results) >= 2:
        (small, a), (large, b) = results[0], results[-1]
        print(f"ratio {large:,} / {small:,}: wall {b['wall'] / a['wall']:.2f}, "
              f"CPU {b['cpu'] / a['cpu']:.2f}")
    print("(in enqueue: notifications.outbox.enqueue rendering each email and building its row)")

if __name__ == "__main__":
    main()
