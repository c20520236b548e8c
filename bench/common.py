"""Shared pieces of the benchmarks: databases, a call with a budget, servers, the journey, tables.

Every benchmark measures Quartier and a bare baseline in the same run, on the same machine, and
prints one Markdown table. Nothing here is imported by Quartier itself.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy import Engine
from sqlmodel import SQLModel

import workflow.models  # noqa: F401  (every table on the metadata)
from workflow import budget
from workflow.db import make_engine, unit_of_work
from workflow.models import BudgetLine, Call, Module, Organisation, Programme, User
from workflow.security import hash_password

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PG_ADMIN_URL = os.environ.get("QUARTIER_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
PASSWORD = "bench-passwort-42"
SECRET = "bench-secret-" + "x" * 40
THIS_YEAR = datetime.now(UTC).year
Y1, Y2 = THIS_YEAR + 1, THIS_YEAR + 2
CALL_CODE = "ZiQ-BENCH"

# The whole journey of one application after its creation: (role, trigger, reason, payload).
JOURNEY: list[tuple[str, str, str | None, dict[str, Any] | None]] = [
    ("carrier", "submit", None, None),
    ("reviewer", "start_review", None, None),
    ("reviewer", "recommend", "Förderfähig",
     {"amounts": {str(Y1): "50000", str(Y2): "50000"}}),
    ("approver", "approve", None, None),
    # The project years lie ahead: the carrier waives its right of appeal to start now.
    ("carrier", "start", None, {"waiver_of_appeal": True}),
    ("carrier", "submit_final_report", "Nachweis",
     {"spending": {str(Y1): "40000", str(Y2): "45000"}}),
    ("reviewer", "close", None, None),
]
ROLES = ("carrier", "reviewer", "approver", "admin")


def draft_fields() -> dict[str, Any]:
    """A complete draft (project in the coming years), as the engine and the API take it."""
    return {"module_code": "B1", "title": "Stadtteilmütter", "summary": "Begleitung von Familien",
            "quartier": "Schalke", "project_start": f"{Y1}-03-01", "project_end": f"{Y2}-12-31",
            "own_contribution": "1000",
            "amounts": {str(Y1): "50000", str(Y2): "50000"}}


# ---------------------------------------------------------------- databases


@contextlib.contextmanager
def sqlite_database() -> Iterator[str]:
    """A fresh SQLite file in a temporary directory (WAL, as Quartier runs it)."""
    folder = tempfile.mkdtemp(prefix="quartier-bench-")
    try:
        yield f"sqlite:///{folder}/bench.sqlite3"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A throwaway PostgreSQL database, dropped at the end."""
    name = f"quartier_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def database(kind: str) -> Iterator[str]:
    with (sqlite_database() if kind == "sqlite" else postgres_database()) as url:
        yield url


def schema_engine(url: str, **kw: Any) -> Engine:
    engine = make_engine(url, **kw)
    SQLModel.metadata.create_all(engine)
    return engine


# ---------------------------------------------------------------- the world


@dataclass
class BenchWorld:
    call_id: int
    user_ids: dict[str, int]  # role -> id
    emails: dict[str, str]  # role -> email
    organisation_id: int


def build_world(engine: Engine, budget_per_year_cents: int = 10**12,
                min_grant_cents: int = 100_000) -> BenchWorld:
    """Programme, call open now, budget lines for Y1/Y2, one user per role (one password)."""
    now = datetime.now(UTC)
    hashed = hash_password(PASSWORD)
    with unit_of_work(engine) as session:
        programme = Programme(code="ZiQ", name="Zusammen im Quartier", contact_name="MAGS NRW",
                              contact_email="ziq@mags.example")
        session.add(programme)
        session.flush()
        for code in ("B1", "B2"):
            session.add(Module(programme_id=programme.id, code=code, name=f"Baustein {code}"))
        call = Call(programme_id=programme.id, code=CALL_CODE, title="ZiQ Benchmark",
                    opens_at=now - timedelta(days=30), closes_at=now + timedelta(days=365),
                    policy="waitlist", min_grant_cents=min_grant_cents,
                    earliest_project_start=date(THIS_YEAR, 1, 1), min_project_months=8)
        session.add(call)
        session.flush()
        for year in (Y1, Y2):
            line = BudgetLine(call_id=call.id, year=year, source="Landesmittel", priority=0,
                              budget_cents=0, committed_cents=0)
            session.add(line)
            session.flush()
            budget.change_budget(session, line, budget_per_year_cents, now, None,
                                 "Haushaltsansatz")
        org = Organisation(name="Träger 1 e.V.", municipality="Gelsenkirchen")
        session.add(org)
        session.flush()
        users = {role: User(email=f"{role}@bench.example", name=f"Bench {role}", role=role,
                            organisation_id=org.id if role == "carrier" else None,
                            password_hash=hashed) for role in ROLES}
        for user in users.values():
            session.add(user)
        session.flush()
        return BenchWorld(call.id, {r: u.id for r, u in users.items()},
                          {r: u.email for r, u in users.items()}, org.id)


# ---------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(QUARTIER_DATABASE_URL=database_url, QUARTIER_SECRET_KEY=SECRET,
               QUARTIER_ENVIRONMENT="development", QUARTIER_TOKEN_LIFETIME_MINUTES="600")
    return env


@dataclass
class Server:
    process: subprocess.Popen
    base_url: str

    def worker_pids(self) -> list[int]:
        """The processes that serve requests: the children if uvicorn forked, else itself."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        pids = [int(p) for p in children.read_text().split()] if children.exists() else []
        return [p for p in pids if _is_python(p)] or [self.process.pid]


def _is_python(pid: int) -> bool:
    try:
        return "python" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False


@contextlib.contextmanager
def serve(command: list[str], env: dict[str, str], port: int,
          ready_path: str = "/healthz", log: Path | None = None) -> Iterator[Server]:
    """Start a server subprocess, wait until `ready_path` answers, stop it with SIGTERM."""
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=out,
                               start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode}: {' '.join(command)}")
            try:
                if httpx.get(base + ready_path, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start within 60 s")
            time.sleep(0.1)
        yield Server(process, base)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if log:
            out.close()


def quartier_serve(database_url: str, workers: int = 1,
                   log: Path | None = None) -> contextlib.AbstractContextManager[Server]:
    """`quartier serve` on a free port against `database_url`."""
    port = free_port()
    return serve([str(BIN / "quartier"), "serve", "--port", str(port), "--workers",
                  str(workers)], server_env(database_url), port, log=log)


def login(client: httpx.Client, email: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def rss_mb(pid: int) -> float:
    """Resident memory of a process (VmRSS) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (from /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- output


def table(headers: list[str], rows: list[list[Any]]) -> str:
    """A Markdown table."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    line = lambda values: "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)) + " |"  # noqa: E731,E501
    return "\n".join([line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|",
                      *(line(r) for r in cells)])


def ratio(value: float, baseline: float) -> str:
    return f"{value / baseline:.2f}" if baseline else "-"


def verdict(value: float, target: float) -> str:
    return "ok" if value >= target else "MISSED"


def interleaved(rounds: int, quartier, baseline) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Rates (per second) of both sides, run in alternating rounds so load noise hits both alike.

    `quartier(i)` and `baseline(i)` run round i and return (operations, seconds).
    """
    totals = {"q": [0, 0.0], "b": [0, 0.0]}
    for i in range(rounds):
        order = (("q", quartier), ("b", baseline)) if i % 2 == 0 else (("b", baseline),
                                                                       ("q", quartier))
        for key, fn in order:
            count, seconds = fn(i)
            totals[key][0] += count
            totals[key][1] += seconds
    return totals["q"][0] / totals["q"][1], totals["b"][0] / totals["b"][1]


class CpuClock:
    """CPU seconds this process spent (all threads): robust against other processes' load."""

    def __init__(self) -> None:
        self.seconds = 0.0

    @contextlib.contextmanager
    def measuring(self) -> Iterator[None]:
        started = time.process_time()
        try:
            yield
        finally:
            self.seconds += time.process_time() - started


def chunks(items: list, rounds: int) -> list[list]:
    size = -(-len(items) // rounds)
    return [items[i * size:(i + 1) * size] for i in range(rounds)]
