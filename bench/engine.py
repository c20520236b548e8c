"""Engine without HTTP: `workflow.engine.fire` per transition against bare SQLAlchemy writes.

Quartier: N drafts go through the whole journey (submit … close, 7 transitions), each transition in
its own `unit_of_work` calling `fire`. Baseline: the same number of transactions with SQLAlchemy
Core doing the writes every transition needs at least (update the application row, insert one
history row, insert one outbox row), on the same tables of the same database. Both run on SQLite
and on PostgreSQL; the figure is transitions per second and the ratio Quartier / baseline.

    python bench/engine.py [--n 200] [--db sqlite,postgres] [--profile out.html]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

# The project root, not bench/ (bench/http.py would hide the standard library's http).
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from sqlalchemy import Engine, insert, update  # noqa: E402

from bench.common import (  # noqa: E402
    JOURNEY,
    BenchWorld,
    CpuClock,
    build_world,
    chunks,
    database,
    draft_fields,
    interleaved,
    ratio,
    schema_engine,
    table,
    verdict,
)
from notifications.outbox import OutboxMessage  # noqa: E402
from states import Role  # noqa: E402
from workflow import drafts, rows  # noqa: E402
from workflow import engine as wf  # noqa: E402
from workflow.db import unit_of_work  # noqa: E402
from workflow.models import Application, TransitionRecord  # noqa: E402

TARGET = 0.6
ROUNDS = 6  # alternating rounds: load from other processes hits both sides alike
# What a rendered email weighs in the outbox (subject, text and HTML body), for the baseline.
BODY_TEXT = "Sehr geehrte Damen und Herren,\n" + "Ihr Antrag wurde bearbeitet. " * 40
BODY_HTML = "<html><body><p>" + "Ihr Antrag wurde bearbeitet. " * 60 + "</p></body></html>"


def actors(world: BenchWorld) -> dict[str, rows.Actor]:
    return {role: rows.Actor(uid, Role(role), world.organisation_id if role == "carrier" else None,
                           f"Bench {role}") for role, uid in world.user_ids.items()}


def create_drafts(engine: Engine, world: BenchWorld, n: int) -> list[int]:
    carrier = actors(world)["carrier"]
    ids = []
    with unit_of_work(engine) as session:
        for _ in range(n):
            draft = drafts.create_application(session, carrier, world.call_id, draft_fields())
            ids.append(draft.id)
    return ids


def run_quartier(engine: Engine, world: BenchWorld, ids: list[int]) -> tuple[int, float]:
    people = actors(world)
    started = time.perf_counter()
    count = 0
    for app_id in ids:
        for role, trigger, reason, payload in JOURNEY:
            with unit_of_work(engine) as session:
                wf.fire(session, app_id, trigger, people[role], reason=reason, payload=payload)
            count += 1
    return count, time.perf_counter() - started


def run_bare(engine: Engine, world: BenchWorld, ids: list[int]) -> tuple[int, float]:
    """The same number of transactions, each: update the row, insert history, insert outbox."""
    started = time.perf_counter()
    count = 0
    for app_id in ids:
        version = 1
        for step, (role, trigger, reason, _payload) in enumerate(JOURNEY):
            now = datetime.now(UTC)
            with engine.begin() as conn:
                result = conn.execute(
                    update(Application)
                    .where(Application.id == app_id, Application.version == version)
                    .values(version=version + 1, updated_at=now,
                            assessment=f"bare step {step}"))
                assert result.rowcount == 1
                conn.execute(insert(TransitionRecord).values(
                    application_id=app_id, trigger=trigger, from_state="x", to_state="y",
                    actor_id=world.user_ids[role], actor_role=role, at=now, reason=reason,
                    late=False, payload={}))
                conn.execute(insert(OutboxMessage).values(
                    application_id=app_id, template="receipt_confirmation",
                    recipient="carrier@bench.example", language="de",
                    context={"reference": f"ZiQ-{app_id}"}, subject=f"Antrag ZiQ-{app_id}",
                    body_text=BODY_TEXT, body_html=BODY_HTML, status="pending", attempts=0,
                    next_attempt_at=now, created_at=now))
            version += 1
            count += 1
    return count, time.perf_counter() - started


def measure(kind: str, n: int, profile: str | None) -> list:
    with database(kind) as url:
        engine = schema_engine(url)
        try:
            world = build_world(engine)
            warm = create_drafts(engine, world, 3)
            run_quartier(engine, world, warm)
            run_bare(engine, world, create_drafts(engine, world, 3))
            quartier_ids = create_drafts(engine, world, n)
            bare_ids = create_drafts(engine, world, n)
            if profile:
                from pyinstrument import Profiler
                profiler = Profiler(interval=0.0005)
                profiler.start()
                run_quartier(engine, world, quartier_ids)
                profiler.stop()
                Path(profile).write_text(profiler.output_html())
                print(profiler.output_text(unicode=True, color=False, show_all=False)[:12000],
                      file=sys.stderr)
                return []
            q_chunks, b_chunks = chunks(quartier_ids, ROUNDS), chunks(bare_ids, ROUNDS)
            q_cpu, b_cpu = CpuClock(), CpuClock()

            def quartier_round(i: int) -> tuple[int, float]:
                with q_cpu.measuring():
                    return run_quartier(engine, world, q_chunks[i])

            def bare_round(i: int) -> tuple[int, float]:
                with b_cpu.measuring():
                    return run_bare(engine, world, b_chunks[i])

            q_rate, b_rate = interleaved(ROUNDS, quartier_round, bare_round)
        finally:
            engine.dispose()
    ops = n * len(JOURNEY)
    return [kind, n, ops, f"{q_rate:.0f}", f"{b_rate:.0f}", ratio(q_rate, b_rate),
            verdict(q_rate / b_rate, TARGET), f"{1000 * q_cpu.seconds / ops:.2f}",
            f"{1000 * b_cpu.seconds / ops:.2f}", ratio(b_cpu.seconds, q_cpu.seconds)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="applications per database")
    parser.add_argument("--db", default="sqlite,postgres", help="sqlite, postgres or both")
    parser.add_argument("--profile", help="write a pyinstrument profile of the Quartier run")
    args = parser.parse_args()
    rows = [measure(kind, args.n, args.profile) for kind in args.db.split(",")]
    if args.profile:
        return
    print(table(["database", "applications", "transitions", "Quartier fire/s",
                 "bare SQLAlchemy tx/s", "ratio", f"target {TARGET}", "CPU ms/fire",
                 "CPU ms/bare tx", "CPU ratio"], rows))


if __name__ == "__main__":
    main()
