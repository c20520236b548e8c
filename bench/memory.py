"""Memory: resident memory of `quartier serve` after 100,000 applications and their history.

The database is filled fast with bulk inserts (applications in every state, two budget years each,
three history rows each), then `quartier serve` starts and gets list, search, detail and history
requests; its VmRSS is read from /proc. Baseline: the bare FastAPI + SQLModel app of bench/http.py
served the same way against the same database, after as many requests to its endpoint.

    python bench/memory.py [--n 100000] [--db sqlite,postgres] [--requests 300]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

# The project root, not bench/ (bench/http.py would hide the standard library's http).
sys.path[0] = str(Path(__file__).resolve().parent.parent)

import httpx  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from bench.common import (  # noqa: E402
    JOURNEY,
    Y1,
    Y2,
    build_world,
    database,
    login,
    quartier_serve,
    rss_mb,
    schema_engine,
    table,
)
from bench.http import bare_serve  # noqa: E402
from states import State  # noqa: E402
from workflow.models import Application, ApplicationYear, TransitionRecord  # noqa: E402

LIMIT_MB = 250
CHUNK = 5000
STATES = [State.submitted, State.in_review, State.recommended, State.approved, State.active,
          State.report_submitted, State.closed, State.rejected, State.draft]


def fill(engine, world, n: int) -> float:  # type: ignore[no-untyped-def]
    """`n` applications with their years and history, in bulk; returns seconds."""
    started = time.perf_counter()
    now = datetime.now(UTC)
    carrier, reviewer = world.user_ids["carrier"], world.user_ids["reviewer"]
    rng = random.Random(7)
    first_id = 1
    for start in range(0, n, CHUNK):
        ids = range(first_id + start, first_id + min(start + CHUNK, n))
        apps, years, history = [], [], []
        for i in ids:
            state = STATES[i % len(STATES)]
            at = now - timedelta(minutes=n - i)
            apps.append({
                "id": i, "reference": f"ZiQ-{Y1 - 1}-{i:06d}", "call_id": world.call_id,
                "module_code": "B1" if i % 2 else "B2", "organisation_id": world.organisation_id,
                "created_by_id": carrier, "municipality": "Gelsenkirchen",
                "quartier": rng.choice(["Schalke", "Bismarck", "Hassel", "Ückendorf"]),
                "title": f"Stadtteilprojekt {i}", "summary": "Begleitung von Familien " * 4,
                "project_start": datetime(Y1, 3, 1).date(), "project_end": datetime(Y2, 12, 31)
                .date(), "own_contribution_cents": 100_000, "early_start_granted": False,
                "state": state.value, "version": 4, "case_officer_id": reviewer,
                "assessment": "Förderfähig", "received_at": at, "created_at": at,
                "updated_at": at})
            for year in (Y1, Y2):
                years.append({"application_id": i, "year": year, "requested_cents": 5_000_000,
                              "approved_cents": 5_000_000, "spent_cents": None})
            for step, (role, trigger, reason, _payload) in enumerate(JOURNEY[:3]):
                history.append({"application_id": i, "trigger": trigger, "from_state": "draft",
                                "to_state": "submitted", "actor_id": world.user_ids[role],
                                "actor_role": role, "at": at + timedelta(seconds=step),
                                "reason": reason, "late": False, "payload": {}})
        with engine.begin() as conn:
            conn.execute(insert(Application), apps)
            conn.execute(insert(ApplicationYear), years)
            conn.execute(insert(TransitionRecord), history)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("SELECT setval('application_id_seq', (SELECT max(id) FROM "
                                 "application))")
            conn.exec_driver_sql("ANALYZE")
    return time.perf_counter() - started


def hit_quartier(base_url: str, emails: dict[str, str], n: int, requests: int) -> int:
    """List pages (with the total), searches, details and histories, as staff and carrier."""
    rng = random.Random(11)
    done = 0
    with httpx.Client(base_url=base_url, timeout=120) as client:
        staff, carrier = login(client, emails["reviewer"]), login(client, emails["carrier"])
        for i in range(requests):
            headers = staff if i % 2 else carrier
            ref = f"ZiQ-{Y1 - 1}-{rng.randint(1, n):06d}"
            kind = i % 5
            if kind == 0:
                url = f"/api/v1/applications?limit=200&offset={rng.randint(0, n - 200)}"
            elif kind == 1:
                url = f"/api/v1/applications?state=approved&q=Schalke&limit=50&offset={i}"
            elif kind in (2, 3):
                url = f"/api/v1/applications/{ref}"
            else:
                url = f"/api/v1/applications/{ref}/history"
            response = client.get(url, headers=headers)
            if response.status_code != 200:
                raise RuntimeError(f"{url}: {response.status_code} {response.text[:300]}")
            done += 1
    return done


def hit_bare(base_url: str, n: int, requests: int) -> None:
    rng = random.Random(11)
    with httpx.Client(base_url=base_url, timeout=120) as client:
        for _ in range(requests):
            client.post(f"/bare/{rng.randint(1, n)}/submit", json={}).raise_for_status()


def measure(kind: str, n: int, requests: int) -> list:
    with database(kind) as url:
        engine = schema_engine(url)
        world = build_world(engine)
        seconds = fill(engine, world, n)
        engine.dispose()
        with quartier_serve(url) as server:
            pid = server.worker_pids()[0]
            at_start = rss_mb(pid)
            hit_quartier(server.base_url, world.emails, n, requests)
            after = rss_mb(pid)
        with bare_serve(url) as server:
            pid = server.worker_pids()[0]
            hit_bare(server.base_url, n, requests)
            bare = rss_mb(pid)
    return [kind, f"{n:,}", f"{seconds:.0f} s", requests, f"{at_start:.0f}", f"{after:.0f}",
            f"{bare:.0f}", f"{after / bare:.2f}",
            "ok" if after < LIMIT_MB else "MISSED"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="applications")
    parser.add_argument("--db", default="sqlite,postgres", help="sqlite, postgres or both")
    parser.add_argument("--requests", type=int, default=300, help="requests before reading RSS")
    args = parser.parse_args()
    rows = [measure(kind, args.n, args.requests) for kind in args.db.split(",")]
    print(table(["database", "applications", "bulk fill", "requests", "RSS at start MB",
                 "RSS after MB", "bare app RSS MB", "ratio", f"< {LIMIT_MB} MB"], rows))


if __name__ == "__main__":
    main()
