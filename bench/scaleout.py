"""Scale-out: `quartier serve --workers 1` against `--workers 2` on PostgreSQL, same load.

Each run gets a fresh database with N drafts and a budget that covers only about half of the
approvals. 16 concurrent clients (asyncio aiohttp, keep-alive) drive the drafts in three phases:
submit, start_review and recommend for all; then approve for all (the money runs out: the rest
go to the waiting list and the automatic funding stop comes into force); then start, final report
and close for the approved ones (the under-spend returns, the stop lifts, waitlisted ones are
offered again).
Throughput is successful transitions per second over the whole load, and per phase. While it runs
a watcher reads the budget lines every 20 ms; afterwards the ledger must add up: the funding-stop
invariant. The client is aiohttp (about 0.3 ms of CPU per request, where httpx took 2 ms): the
client shares the two cores with the server and PostgreSQL, and must not be what limits the run.

    python bench/scaleout.py [--n 300] [--concurrency 16] [--workers 1,2]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

# The project root, not bench/ (bench/http.py would hide the standard library's http).
sys.path[0] = str(Path(__file__).resolve().parent.parent)

import aiohttp  # noqa: E402
import psycopg  # noqa: E402

from bench.common import (  # noqa: E402
    JOURNEY,
    PASSWORD,
    build_world,
    postgres_database,
    quartier_serve,
    ratio,
    schema_engine,
    table,
)
from bench.engine import create_drafts  # noqa: E402
from bench.http import references  # noqa: E402

GRANT_PER_YEAR_CENTS = 50_000_00  # each application: 50,000 € in each of the two years
PHASES = [JOURNEY[:3], JOURNEY[3:4], JOURNEY[4:]]


async def login(client: aiohttp.ClientSession, base_url: str, email: str) -> dict[str, str]:
    async with client.post(f"{base_url}/api/v1/auth/token",
                           data={"username": email, "password": PASSWORD}) as response:
        response.raise_for_status()
        return {"Authorization": f"Bearer {(await response.json())['access_token']}"}


async def watch_budget(dsn: str, stop: asyncio.Event, seen: dict[str, int]) -> None:
    """Read the budget lines over and over; remember the worst moment."""
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        while not stop.is_set():
            rows = await (await conn.execute(
                "SELECT budget_cents, committed_cents FROM budget_line")).fetchall()
            stop_kind = (await (await conn.execute("SELECT stop_kind FROM call")).fetchone())[0]
            seen["stop_seen"] = seen["stop_seen"] or stop_kind == "automatic"
            seen["reads"] += 1
            seen["over"] += sum(1 for b, c in rows if c > b)
            seen["max_committed_share_permille"] = max(
                seen["max_committed_share_permille"],
                max(1000 * c // b for b, c in rows if b))
            await asyncio.sleep(0.02)


async def drive(base_url: str, emails: dict[str, str], refs: list[str],
                concurrency: int) -> dict[str, Any]:
    """The three phases with `concurrency` requests in flight; counts outcomes, times phases."""
    outcome: dict[str, Any] = {"ok": 0, "refused": 0, "waitlisted": 0, "phase_rates": []}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as client:
        headers = {role: await login(client, base_url, email) for role, email in emails.items()}
        gate = asyncio.Semaphore(concurrency)
        still = set(refs)

        async def journey(ref: str, steps) -> None:  # type: ignore[no-untyped-def]
            for role, trigger, reason, payload in steps:
                if ref not in still:
                    return
                body = {k: v for k, v in (("reason", reason), ("payload", payload)) if v}
                async with gate, client.post(
                    f"{base_url}/api/v1/applications/{ref}/transitions/{trigger}", json=body,
                    headers=headers[role],
                ) as response:
                    status, data = response.status, await response.json()
                if status != 200:
                    outcome["refused"] += 1
                    still.discard(ref)
                    return
                outcome["ok"] += 1
                if data["application"]["state"] != JOURNEY_STATES[trigger]:
                    outcome["waitlisted"] += 1  # approve fell back to the waiting list
                    still.discard(ref)
                    return

        started = time.perf_counter()
        for steps in PHASES:
            phase_started, done_before = time.perf_counter(), outcome["ok"]
            await asyncio.gather(*(journey(ref, steps) for ref in refs))
            outcome["phase_rates"].append(
                (outcome["ok"] - done_before) / (time.perf_counter() - phase_started))
        outcome["seconds"] = time.perf_counter() - started
    return outcome


JOURNEY_STATES = {"submit": "submitted", "start_review": "in_review", "recommend": "recommended",
                  "approve": "approved", "start": "active",
                  "submit_final_report": "report_submitted", "close": "closed"}


def ledger_check(dsn: str) -> dict[str, int | bool]:
    with psycopg.connect(dsn) as conn:
        lines = conn.execute(
            "SELECT l.id, l.budget_cents, l.committed_cents, COALESCE(SUM("
            "e.committed_delta_cents), 0) FROM budget_line l LEFT JOIN ledger_entry e "
            "ON e.budget_line_id = l.id GROUP BY l.id").fetchall()
        states = dict(conn.execute(
            "SELECT state, count(*) FROM application GROUP BY state").fetchall())
        stop = conn.execute("SELECT stop_kind FROM call").fetchone()[0]
    return {"within_budget": all(c <= b for _, b, c, _ in lines),
            "ledger_adds_up": all(c == s for _, _, c, s in lines),
            "approved_ever": sum(states.get(s, 0) for s in (
                "approved", "active", "report_submitted", "closed")),
            "waitlisted": states.get("waitlisted", 0), "stop": stop or "-"}


async def run(url: str, emails: dict[str, str], refs: list[str], workers: int,
              concurrency: int) -> dict:
    dsn = url
    seen = {"reads": 0, "over": 0, "max_committed_share_permille": 0, "stop_seen": False}
    stop = asyncio.Event()
    with quartier_serve(url, workers=workers) as server:
        watcher = asyncio.create_task(watch_budget(dsn, stop, seen))
        outcome = await drive(server.base_url, emails, refs, concurrency)
        stop.set()
        await watcher
    return {**outcome, **seen}


def measure(workers: int, n: int, concurrency: int) -> list:
    with postgres_database() as url:
        engine = schema_engine(url)
        # Exactly half of the applications fit the money: then the automatic stop comes into force.
        world = build_world(engine, budget_per_year_cents=GRANT_PER_YEAR_CENTS * (n // 2))
        refs = references(engine, create_drafts(engine, world, n))
        engine.dispose()
        result = asyncio.run(run(url, world.emails, refs, workers, concurrency))
        ledger = ledger_check(url)
    rate = result["ok"] / result["seconds"]
    invariant = (result["over"] == 0 and ledger["within_budget"] and ledger["ledger_adds_up"]
                 and ledger["approved_ever"] <= n // 2)
    return [workers, n, concurrency, result["ok"], result["refused"], f"{rate:.1f}",
            *(f"{r:.0f}" for r in result["phase_rates"]),
            ledger["approved_ever"], result["waitlisted"],
            f"{'came' if result['stop_seen'] else 'never came'}, at end: {ledger['stop']}",
            f"{result['reads']} reads, max {result['max_committed_share_permille'] / 10:.1f} %",
            "held" if invariant else "BROKEN"], rate, invariant


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="applications per run")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    parser.add_argument("--workers", default="1,2", help="worker counts to compare")
    args = parser.parse_args()
    rows, rates, held = [], [], []
    for workers in (int(w) for w in args.workers.split(",")):
        row, rate, invariant = measure(workers, args.n, args.concurrency)
        rows.append(row)
        rates.append(rate)
        held.append(invariant)
    for row, rate in zip(rows, rates, strict=True):
        row.insert(6, ratio(rate, rates[0]))
    print(table(["workers", "applications", "in flight", "transitions ok", "refused",
                 "transitions/s", f"vs {args.workers.split(',')[0]} worker(s)",
                 "phase 1/s (submit, review, recommend)", "phase 2/s (approve)",
                 "phase 3/s (start, report, close)", "approved",
                 "waitlisted by approve", "automatic stop", "budget watcher", "invariant"], rows))
    print(f"\nMore throughput with more workers: "
          f"{'yes' if all(b > a for a, b in zip(rates, rates[1:], strict=False)) else 'NO'}; "
          f"invariant held in every run: {'yes' if all(held) else 'NO'}")


if __name__ == "__main__":
    main()
