"""The worklist with 200 and with 20,000 applications (issue 15): the time of one page (count and
rows) of the usual views, on SQLite and PostgreSQL, and PostgreSQL's EXPLAIN of its queries.

    .venv/bin/python -m bench.worklist [--sizes 200,20000] [--rounds 15] [--no-postgres]

The applications are written with plain INSERTs (the engine would take hours for 20,000): states
spread like a running call, a case officer on most, requested and approved years, open deadlines
and history rows, so every filter and subquery has real rows to look at.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, insert

from bench.common import Y1, Y2, build_world, database, schema_engine, table
from states import Role, State
from states.staff import WorklistSort
from workflow.db import unit_of_work
from workflow.models import (
    Application,
    ApplicationYear,
    Deadline,
    Organisation,
    TransitionRecord,
    User,
)
from workflow.rows import Actor
from workflow.worklist import WorklistFilter, worklist_page

STATES = [State.submitted, State.in_review, State.in_review, State.documents_requested,
          State.recommended, State.approved, State.active, State.active, State.closed,
          State.draft]
VIEWS: dict[str, tuple[WorklistFilter, WorklistSort, bool]] = {
    "all, by receipt (newest first)": (WorklistFilter(), WorklistSort.received, True),
    "mine": (WorklistFilter(mine=True), WorklistSort.received, False),
    "unassigned": (WorklistFilter(unassigned=True), WorklistSort.received, False),
    "in review, by reference": (WorklistFilter(state=State.in_review), WorklistSort.reference,
                                False),
    "waiting for me": (WorklistFilter(waiting_for_me=True), WorklistSort.received, False),
    "mine, by due date": (WorklistFilter(mine=True), WorklistSort.due, False),
}


def fill(engine: Any, n: int, seed: int = 15) -> Actor:
    """n applications of 40 carriers, handled by 100 reviewers; the first reviewer as actor."""
    rng = random.Random(seed)
    world = build_world(engine)
    now = datetime.now(UTC)
    with unit_of_work(engine) as session:
        orgs = [world.organisation_id]
        for i in range(39):
            org = Organisation(name=f"Träger {i + 2} e.V.", municipality=f"Stadt {i % 20}")
            session.add(org)
            session.flush()
            orgs.append(org.id)
        reviewers = [world.user_ids["reviewer"]]
        for i in range(99):
            user = User(email=f"pruefung{i}@bench.example", name=f"Prüfung {i}", role="reviewer")
            session.add(user)
            session.flush()
            reviewers.append(user.id)
        conn = session.connection()
        apps, years, deadlines, records = [], [], [], []
        for i in range(1, n + 1):
            state = rng.choice(STATES)
            received = now - timedelta(days=rng.randrange(400), minutes=i)
            officer = None if state in (State.draft, State.submitted) or rng.random() < 0.05 \
                else rng.choice(reviewers)
            apps.append({"id": i, "reference": f"ZiQ-B-{i:06d}", "call_id": world.call_id,
                         "module_code": rng.choice(("B1", "B2")),
                         "organisation_id": rng.choice(orgs),
                         "created_by_id": world.user_ids["carrier"],
                         "municipality": f"Stadt {i % 20}", "quartier": f"Quartier {i % 97}",
                         "title": f"Projekt {i}", "summary": "", "own_contribution_cents": 0,
                         "early_start_granted": False, "state": state.value, "version": 3,
                         "case_officer_id": officer,
                         "received_at": None if state == State.draft else received,
                         "created_at": received, "updated_at": received})
            approved = state in (State.approved, State.active, State.closed)
            for year in (Y1, Y2):
                years.append({"application_id": i, "year": year,
                              "requested_cents": rng.randrange(40_000, 115_000) * 100,
                              "approved_cents": 50_000_00 if approved else None})
            if state == State.documents_requested:
                deadlines.append({"application_id": i, "kind": "document_request", "period": "",
                                  "due_date": (received + timedelta(days=14)).date(),
                                  "status": "open", "opened_at": received})
            if state == State.active:
                deadlines.append({"application_id": i, "kind": "final_report", "period": "",
                                  "due_date": (now + timedelta(days=rng.randrange(300))).date(),
                                  "status": "open", "opened_at": received})
            if officer is not None:
                records.append({"application_id": i, "trigger": "start_review",
                                "from_state": "submitted", "to_state": "in_review",
                                "actor_id": officer, "actor_role": Role.reviewer.value,
                                "at": received + timedelta(days=1), "late": False,
                                "payload": {}})
            if state == State.in_review and rng.random() < 0.3:
                records.append({"application_id": i, "trigger": "provide_documents",
                                "from_state": "documents_requested", "to_state": "in_review",
                                "actor_id": world.user_ids["carrier"],
                                "actor_role": Role.carrier.value,
                                "at": received + timedelta(days=9), "late": False,
                                "payload": {}})
        for rows, model in ((apps, Application), (years, ApplicationYear),
                            (deadlines, Deadline), (records, TransitionRecord)):
            for start in range(0, len(rows), 2000):
                conn.execute(insert(model), rows[start:start + 2000])
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SELECT setval('application_id_seq', %s)" % (n + 1))
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE")
        else:
            conn.exec_driver_sql("ANALYZE")
        conn.commit()
    return Actor(reviewers[0], Role.reviewer, None, "Bench reviewer")


def time_view(engine: Any, actor: Actor, view: tuple[WorklistFilter, WorklistSort, bool],
              rounds: int) -> tuple[float, int]:
    where, sort, desc = view
    times, total = [], 0
    for _ in range(rounds):
        with unit_of_work(engine) as session:
            start = time.perf_counter()
            page = worklist_page(session, actor, where, sort=sort, descending=desc, limit=50)
            times.append(time.perf_counter() - start)
            total = page.total
    return statistics.median(times) * 1000, total


def explain(engine: Any, actor: Actor) -> list[str]:
    """PostgreSQL's plan of each query of each view (with the parameters it ran with)."""
    statements: list[tuple[str, Any]] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    out = []
    for name, (where, sort, desc) in VIEWS.items():
        statements.clear()
        event.listen(engine, "before_cursor_execute", record)
        try:
            with unit_of_work(engine) as session:
                worklist_page(session, actor, where, sort=sort, descending=desc, limit=50)
        finally:
            event.remove(engine, "before_cursor_execute", record)
        for statement, parameters in statements:
            if "app_user" in statement and "token_version" in statement:
                continue
            with engine.connect() as conn:
                plan = conn.exec_driver_sql("EXPLAIN " + statement, parameters).scalars().all()
            out.append(f"-- {name}\n" + "\n".join(plan))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="200,20000")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    kinds = ["sqlite"] + ([] if args.no_postgres else ["postgres"])
    results: dict[tuple[str, str, int], tuple[float, int]] = {}
    plans: list[str] = []
    for kind in kinds:
        for n in sizes:
            with database(kind) as url:
                engine = schema_engine(url)
                try:
                    actor = fill(engine, n)
                    for name, view in VIEWS.items():
                        results[(kind, name, n)] = time_view(engine, actor, view, args.rounds)
                    if kind == "postgres" and n == max(sizes):
                        plans = explain(engine, actor)
                finally:
                    engine.dispose()
    headers = ["database", "view", *(f"{n} apps: ms (total)" for n in sizes),
               f"ratio {sizes[-1]}/{sizes[0]}"]
    rows = []
    for kind in kinds:
        for name in VIEWS:
            cells = [f"{results[(kind, name, n)][0]:.2f} ({results[(kind, name, n)][1]})"
                     for n in sizes]
            ratio = results[(kind, name, sizes[-1])][0] / results[(kind, name, sizes[0])][0]
            rows.append([kind, name, *cells, f"{ratio:.1f}"])
    print("Median time of one worklist page (50 rows, with its total), "
          f"{args.rounds} rounds each:\n")
    print(table(headers, rows))
    if plans:
        print(f"\nPostgreSQL EXPLAIN with {max(sizes)} applications:\n")
        print("\n\n".join(plans))


if __name__ == "__main__":
    main()
