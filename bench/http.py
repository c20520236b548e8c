"""Lifecycle over HTTP: `quartier serve` against a bare FastAPI + SQLModel endpoint.

Quartier: N drafts (created beforehand, untimed) go through the whole journey (submit … close, 7
transitions) over HTTP against `quartier serve` in a subprocess; one httpx client with keep-alive,
logged in once per role. Baseline: a tiny FastAPI app in this file, served the same way (uvicorn in
a subprocess, no access log), whose endpoint does the writes every transition needs at least (update
the application row, insert a history row, insert an outbox row) in one SQLModel session on the same
tables; called as often as Quartier's transitions. On SQLite and on PostgreSQL.

    python bench/http.py [--n 100] [--db sqlite,postgres] [--profile]
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

# The project root, not bench/ (bench/http.py would hide the standard library's http).
sys.path[0] = str(Path(__file__).resolve().parent.parent)

import httpx  # noqa: E402
from sqlalchemy import update  # noqa: E402
from sqlmodel import Session  # noqa: E402

from bench.common import (  # noqa: E402
    BIN,
    JOURNEY,
    Server,
    build_world,
    chunks,
    cpu_seconds,
    database,
    free_port,
    interleaved,
    login,
    quartier_serve,
    ratio,
    schema_engine,
    serve,
    server_env,
    table,
    verdict,
)
from bench.engine import BODY_HTML, BODY_TEXT, create_drafts  # noqa: E402
from notifications.outbox import OutboxMessage  # noqa: E402
from workflow.models import Application, TransitionRecord  # noqa: E402

TARGET = 0.7
ROUNDS = 6  # alternating rounds: load from other processes hits both sides alike


def bare_app(database_url: str):  # type: ignore[no-untyped-def]
    """The baseline: one endpoint, one SQLModel session, three writes, one commit."""
    from fastapi import FastAPI, HTTPException

    from workflow.db import make_engine

    db = make_engine(database_url)
    app = FastAPI()

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/bare/{app_id}/{trigger}")
    def step(app_id: int, trigger: str, body: dict | None = None) -> dict:
        now = datetime.now(UTC)
        with Session(db) as session:
            result = session.execute(
                update(Application).where(Application.id == app_id)
                .values(version=Application.version + 1, updated_at=now,
                        assessment=f"bare {trigger}"))
            if result.rowcount != 1:
                raise HTTPException(404)
            record = TransitionRecord(application_id=app_id, trigger=trigger, from_state="x",
                                      to_state="y", actor_id=None, actor_role="reviewer", at=now,
                                      reason=(body or {}).get("reason"), payload={})
            session.add(record)
            session.add(OutboxMessage(
                application_id=app_id, template="receipt_confirmation",
                recipient="carrier@bench.example", language="de",
                context={"reference": f"ZiQ-{app_id}"}, subject=f"Antrag ZiQ-{app_id}",
                body_text=BODY_TEXT, body_html=BODY_HTML, created_at=now, next_attempt_at=now))
            session.commit()
            return {"id": record.id, "application_id": app_id, "trigger": trigger}

    return app


@contextlib.contextmanager
def bare_serve(database_url: str) -> Iterator[Server]:
    port = free_port()
    with serve([str(BIN / "python"), str(Path(__file__).resolve()), "--serve-bare", database_url,
                "--port", str(port)], server_env(database_url), port) as server:
        yield server


def references(engine, ids: list[int]) -> list[str]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return [session.get(Application, i).reference for i in ids]


def run_quartier(client: httpx.Client, headers: dict[str, dict[str, str]],
                 refs: list[str]) -> tuple[int, float]:
    """Every reference through the journey, one request per transition."""
    started = time.perf_counter()
    count = 0
    for ref in refs:
        for role, trigger, reason, payload in JOURNEY:
            body = {k: v for k, v in (("reason", reason), ("payload", payload)) if v}
            response = client.post(f"/api/v1/applications/{ref}/transitions/{trigger}",
                                   json=body, headers=headers[role])
            if response.status_code != 200:
                raise RuntimeError(f"{ref} {trigger}: {response.status_code} {response.text}")
            count += 1
    return count, time.perf_counter() - started


def run_bare(client: httpx.Client, ids: list[int]) -> tuple[int, float]:
    """As many requests to the bare endpoint, with the same bodies."""
    started = time.perf_counter()
    count = 0
    for app_id in ids:
        for _role, trigger, reason, payload in JOURNEY:
            body = {k: v for k, v in (("reason", reason), ("payload", payload)) if v}
            response = client.post(f"/bare/{app_id}/{trigger}", json=body)
            if response.status_code != 200:
                raise RuntimeError(f"bare {app_id}: {response.status_code} {response.text}")
            count += 1
    return count, time.perf_counter() - started


@contextlib.contextmanager
def maybe_profile(server: Server, enabled: bool, name: str) -> Iterator[None]:
    """py-spy records the server process while the block runs (flame graph SVG + top frames)."""
    if not enabled:
        yield
        return
    out = Path(f"/tmp/quartier-bench-{name}.txt")
    spy = subprocess.Popen([str(BIN / "py-spy"), "record", "--pid", str(server.process.pid),
                            "--format", "raw", "--rate", "250", "--output", str(out)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)
    try:
        yield
    finally:
        spy.send_signal(2)
        spy.wait(30)
        print(f"py-spy profile of the server: {out}", file=sys.stderr)


def measure(kind: str, n: int, profile: bool) -> list:
    with database(kind) as url:
        engine = schema_engine(url)
        world = build_world(engine)
        warm_q, warm_b = create_drafts(engine, world, 3), create_drafts(engine, world, 3)
        q_ids, b_ids = create_drafts(engine, world, n), create_drafts(engine, world, n)
        q_refs, warm_refs = references(engine, q_ids), references(engine, warm_q)
        engine.dispose()
        # Both servers run side by side; rounds alternate between them.
        with quartier_serve(url) as quartier, bare_serve(url) as bare, \
                httpx.Client(base_url=quartier.base_url, timeout=60) as q_client, \
                httpx.Client(base_url=bare.base_url, timeout=60) as b_client:
            headers = {role: login(q_client, email) for role, email in world.emails.items()}
            run_quartier(q_client, headers, warm_refs)
            run_bare(b_client, warm_b)
            q_chunks, b_chunks = chunks(q_refs, ROUNDS), chunks(b_ids, ROUNDS)
            q_pid, b_pid = quartier.worker_pids()[0], bare.worker_pids()[0]
            q_cpu, b_cpu = cpu_seconds(q_pid), cpu_seconds(b_pid)
            with maybe_profile(quartier, profile, f"http-{kind}"):
                q_rate, b_rate = interleaved(
                    ROUNDS, lambda i: run_quartier(q_client, headers, q_chunks[i]),
                    lambda i: run_bare(b_client, b_chunks[i]))
            # Each server is idle while the other one's round runs: its CPU time is its own work.
            q_cpu, b_cpu = cpu_seconds(q_pid) - q_cpu, cpu_seconds(b_pid) - b_cpu
    ops = n * len(JOURNEY)
    return [kind, n, ops, f"{q_rate:.0f}", f"{b_rate:.0f}", ratio(q_rate, b_rate),
            verdict(q_rate / b_rate, TARGET), f"{1000 * q_cpu / ops:.2f}",
            f"{1000 * b_cpu / ops:.2f}", ratio(b_cpu, q_cpu)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="applications per database")
    parser.add_argument("--db", default="sqlite,postgres", help="sqlite, postgres or both")
    parser.add_argument("--profile", action="store_true",
                        help="record the Quartier server with py-spy (/tmp/quartier-bench-*.txt)")
    parser.add_argument("--serve-bare", metavar="DATABASE_URL", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        import uvicorn
        uvicorn.run(bare_app(args.serve_bare), host="127.0.0.1", port=args.port,
                    access_log=False, log_level="warning")
        return
    rows = [measure(kind, args.n, args.profile) for kind in args.db.split(",")]
    print(table(["database", "applications", "transitions", "Quartier transitions/s",
                 "bare endpoint requests/s", "ratio", f"target {TARGET}",
                 "server CPU ms/transition", "bare server CPU ms/request", "CPU ratio"], rows))


if __name__ == "__main__":
    main()
