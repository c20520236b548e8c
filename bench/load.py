"""Load: one `quartier serve` worker under a burst of reads and of approvals, on each database.

Not a speed benchmark: it checks what a client sees when more requests arrive than the server
has connections for. One worker, on SQLite and then on PostgreSQL (a throwaway database, dropped
at the end). Phases, each sent all at once (asyncio aiohttp, one connection per request):

- reads: 100 authenticated GETs (`/api/v1/calls/{code}` and `/api/v1/applications`, as
  reviewer, carrier and observer);
- approvals: 60 recommended applications (prepared through the engine) approved at once by the
  approver, with 6 budget changes of the admin among them (increases, and cuts of which two go
  below what is committed: refused with 422);
- mixed: 100 reads and another 60 approvals (and 6 budget changes) at the same time.

The budget covers about two thirds of the 120 approvals; the rest go to the waiting list.

Every answer is counted by status. The run passes when no answer is a 5xx other than 503, every
refusal (4xx, 503) is application/problem+json, every 503 carries Retry-After, and the budget
held (committed never above the budget; the ledger adds up).

    python bench/load.py [--db sqlite,postgres] [--reads 100] [--approvals 60]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

# The project root, not bench/ (bench/http.py would hide the standard library's http).
sys.path[0] = str(Path(__file__).resolve().parent.parent)

import aiohttp  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bench.common import (  # noqa: E402
    CALL_CODE,
    JOURNEY,
    PASSWORD,
    ROLES,
    Y1,
    build_world,
    database,
    quartier_serve,
    schema_engine,
    table,
)
from bench.engine import actors, create_drafts  # noqa: E402
from bench.http import references  # noqa: E402
from workflow import engine as wf  # noqa: E402
from workflow.db import unit_of_work  # noqa: E402
from workflow.models import User  # noqa: E402
from workflow.security import hash_password  # noqa: E402

GRANT_PER_YEAR_CENTS = 50_000_00  # each application: 50,000 € in each of the two years
PROBLEM = "application/problem+json"
READ_ROLES = ("reviewer", "carrier", "observer")
CLIENT_PATIENCE_SECONDS = 30  # a request unanswered after this counts as a failure


def prepare(url: str, approvals: int) -> tuple[dict[str, str], list[str], list[str]]:
    """A world whose budget covers about two thirds of the approvals of each approval phase,
    and 2 × `approvals` recommended applications; (emails, first batch, second batch)."""
    engine = schema_engine(url)
    world = build_world(engine, budget_per_year_cents=GRANT_PER_YEAR_CENTS * approvals * 4 // 3)
    with unit_of_work(engine) as session:  # an observer, for reads
        session.add(User(email="observer@bench.example", name="Bench observer", role="observer",
                         password_hash=hash_password(PASSWORD)))
    ids = create_drafts(engine, world, 2 * approvals)
    people = actors(world)
    for app_id in ids:
        with unit_of_work(engine) as session:
            for role, trigger, reason, payload in JOURNEY[:3]:  # submit, review, recommend
                wf.fire(session, app_id, trigger, people[role], reason=reason, payload=payload)
    refs = references(engine, ids)
    engine.dispose()
    emails = {**world.emails, "observer": "observer@bench.example"}
    return emails, refs[:approvals], refs[approvals:]


class Tally:
    """Answers of one phase: by status, with what makes a refusal well-formed."""

    def __init__(self) -> None:
        self.statuses: Counter[int] = Counter()
        self.malformed: list[str] = []  # refusals that are not problem+json, 503 w/o Retry-After
        self.slowest = 0.0
        self.no_answer = 0  # the client gave up (CLIENT_PATIENCE_SECONDS) or lost the connection

    def add(self, what: str, status: int, headers: Any, seconds: float) -> None:
        self.statuses[status] += 1
        self.slowest = max(self.slowest, seconds)
        if status >= 400:
            if headers.get("Content-Type", "").split(";")[0] != PROBLEM:
                self.malformed.append(f"{what} {status} {headers.get('Content-Type')}")
            if status == 503 and not headers.get("Retry-After"):
                self.malformed.append(f"{what} 503 without Retry-After")

    @property
    def server_errors(self) -> int:
        return sum(n for s, n in self.statuses.items() if s >= 500 and s != 503) + self.no_answer


async def request(client: aiohttp.ClientSession, tally: Tally, method: str, url: str,
                  **kwargs: Any) -> None:
    started, what = time.perf_counter(), f"{method} /{url.split('/', 3)[-1]}"
    try:
        async with client.request(method, url, **kwargs) as response:
            await response.read()
            tally.add(what, response.status, response.headers,
                      time.perf_counter() - started)
    except (TimeoutError, aiohttp.ClientError) as error:
        # No answer within the client's patience (or the connection dropped): a failure.
        tally.no_answer += 1
        tally.malformed.append(f"{what}: {type(error).__name__}")
        tally.slowest = max(tally.slowest, time.perf_counter() - started)


def reads(client: aiohttp.ClientSession, base: str, headers: dict[str, dict[str, str]],
          tally: Tally, n: int) -> list[Any]:
    paths = [f"/api/v1/calls/{CALL_CODE}", "/api/v1/applications?limit=50"]
    return [request(client, tally, "GET", base + paths[i % 2],
                    headers=headers[READ_ROLES[i % len(READ_ROLES)]]) for i in range(n)]


def approvals(client: aiohttp.ClientSession, base: str, headers: dict[str, dict[str, str]],
              tally: Tally, refs: list[str]) -> list[Any]:
    work = [request(client, tally, "POST", f"{base}/api/v1/applications/{ref}/transitions/approve",
                    json={}, headers=headers["approver"]) for ref in refs]
    # Cuts and increases of the first year's line; the large cuts go below what is committed
    # (refused, 422).
    for i, delta in enumerate(("-10000", "250000", "-100000000", "50000", "-5000", "-75000000")):
        work.insert(i * len(refs) // 6, request(
            client, tally, "POST", f"{base}/api/v1/admin/calls/{CALL_CODE}/budget-changes",
            json={"year": Y1, "source": "Landesmittel", "delta": delta, "note": "Last"},
            headers=headers["admin"]))
    return work


async def drive(base: str, emails: dict[str, str], first: list[str], second: list[str],
                n_reads: int) -> dict[str, Tally]:
    tallies = {"reads": Tally(), "approvals": Tally(), "mixed": Tally()}
    # One connection per request in flight: the burst reaches the server at once.
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=CLIENT_PATIENCE_SECONDS)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as client:
        headers = {}
        for role in (*ROLES, "observer"):
            async with client.post(f"{base}/api/v1/auth/token", data={
                    "username": emails[role], "password": PASSWORD}) as response:
                response.raise_for_status()
                token = (await response.json())["access_token"]
            headers[role] = {"Authorization": f"Bearer {token}"}
        await asyncio.gather(*reads(client, base, headers, tallies["reads"], n_reads))
        await asyncio.gather(*approvals(client, base, headers, tallies["approvals"], first))
        mixed = tallies["mixed"]
        burst = approvals(client, base, headers, mixed, second)
        burst += reads(client, base, headers, mixed, n_reads)
        await asyncio.gather(*burst)
    return tallies


def budget_held(url: str) -> bool:
    engine = schema_engine(url)
    try:
        with engine.connect() as conn:
            lines = conn.execute(text(
                "SELECT l.budget_cents, l.committed_cents, COALESCE(SUM("
                "e.committed_delta_cents), 0) FROM budget_line l LEFT JOIN ledger_entry e "
                "ON e.budget_line_id = l.id GROUP BY l.id, l.budget_cents, l.committed_cents"))
            return all(c <= b and c == s for b, c, s in lines)
    finally:
        engine.dispose()


def states(url: str) -> Counter[str]:
    engine = schema_engine(url)
    try:
        with engine.connect() as conn:
            return Counter(dict(conn.execute(text(
                "SELECT state, count(*) FROM application GROUP BY state")).all()))
    finally:
        engine.dispose()


def measure(kind: str, n_reads: int, n_approvals: int) -> tuple[list[list[Any]], bool]:
    with database(kind) as url:
        emails, first, second = prepare(url, n_approvals)
        with quartier_serve(url, workers=1) as server:
            tallies = asyncio.run(drive(server.base_url, emails, first, second, n_reads))
        held = budget_held(url)
        end = states(url)
    rows, ok = [], held
    for phase, tally in tallies.items():
        statuses = ", ".join([f"{s}: {n}" for s, n in sorted(tally.statuses.items())]
                             + ([f"no answer: {tally.no_answer}"] if tally.no_answer else []))
        good = tally.server_errors == 0 and not tally.malformed
        ok = ok and good
        rows.append([kind, phase, sum(tally.statuses.values()) + tally.no_answer, statuses,
                     tally.statuses.get(503, 0), tally.server_errors,
                     "yes" if not tally.malformed
                     else f"NO: {len(tally.malformed)}, e.g. {tally.malformed[0]}",
                     f"{tally.slowest:.1f}",
                     f"approved {end['approved']}, waitlisted {end['waitlisted']}"
                     if phase == "mixed" else "", "held" if held else "BROKEN"])
    return rows, ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--reads", type=int, default=100, help="concurrent reads per burst")
    parser.add_argument("--approvals", type=int, default=60, help="concurrent approvals per burst")
    args = parser.parse_args()
    rows, passed = [], True
    for kind in args.db.split(","):
        kind_rows, ok = measure(kind, args.reads, args.approvals)
        rows += kind_rows
        passed = passed and ok
    print(table(["database", "phase", "requests", "answers by status", "503",
                 "other 5xx or no answer",
                 "refusals problem+json", "slowest s", "applications at end", "budget"], rows))
    print(f"\nNo 5xx but 503, every refusal a problem: {'yes' if passed else 'NO'}")
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
