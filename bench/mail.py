"""Mail delivery: the outbox drain into a local aiosmtpd server against a bare aiosmtplib loop.

N real outbox rows (rendered by the engine during a few journeys, then copied in bulk) are
delivered by `notifications.worker.deliver_due_async` (claim under a lease, one SMTP connection per
batch, mark rows sent) into an aiosmtpd Controller on a free port whose handler only counts; the
server runs in its own process, as a real one would. Baseline: one aiosmtplib connection that
builds and sends the same messages in a loop, with no database. Rounds alternate between the two
so load from other processes hits both alike. Besides mails per second, each side's CPU time per
mail (this process, all threads: the SMTP server and the database are elsewhere) is reported, a
figure that other processes' load hardly moves.

    python bench/mail.py [--n 2000] [--db sqlite,postgres] [--batch 50] [--rounds 8] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import sys
import time
from datetime import timedelta
from pathlib import Path

# The project root, not bench/ (bench/http.py would hide the standard library's http).
sys.path[0] = str(Path(__file__).resolve().parent.parent)

import aiosmtplib  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402
from sqlalchemy import insert, select, update  # noqa: E402
from sqlmodel import Session  # noqa: E402

from bench.common import (  # noqa: E402
    CpuClock,
    build_world,
    database,
    free_port,
    ratio,
    schema_engine,
    table,
    verdict,
)
from bench.engine import create_drafts, run_quartier  # noqa: E402
from notifications.outbox import OutboxMessage, utcnow  # noqa: E402
from notifications.sender import SmtpConfig, build_message  # noqa: E402
from notifications.worker import deliver_due_async  # noqa: E402
from workflow.settings import Settings  # noqa: E402

TARGET = 0.8
ROUNDS = 8  # alternating rounds, short enough that load from other processes hits both sides


class Counting:
    """An SMTP handler that accepts and counts, nothing else."""

    def __init__(self, counter) -> None:  # type: ignore[no-untyped-def]
        self.counter = counter

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001,N802
        with self.counter.get_lock():
            self.counter.value += 1
        return "250 OK"


def smtp_server(port: int, counter, ready, stop) -> None:  # type: ignore[no-untyped-def]
    """The SMTP server process: an aiosmtpd Controller until `stop` is set."""
    controller = Controller(Counting(counter), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


class SmtpServer:
    """aiosmtpd in its own process (as a real mail server would be): no GIL shared with us."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.port = free_port()
        self.counter = context.Value("q", 0)
        self.ready, self.stop = context.Event(), context.Event()
        self.process = context.Process(target=smtp_server, args=(
            self.port, self.counter, self.ready, self.stop), daemon=True)

    @property
    def count(self) -> int:
        return self.counter.value

    def __enter__(self) -> SmtpServer:
        self.process.start()
        if not self.ready.wait(30):
            raise RuntimeError("the SMTP server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.process.join(10)


def fill_outbox(engine, n: int) -> None:  # type: ignore[no-untyped-def]
    """Real rendered emails from a few journeys, copied in bulk to `n` pending rows."""
    world = build_world(engine)
    run_quartier(engine, world, create_drafts(engine, world, 3))
    with Session(engine, expire_on_commit=False) as session:
        samples = list(session.exec(select(OutboxMessage)).scalars())
        session.execute(OutboxMessage.__table__.delete())
        session.commit()
    now = utcnow()
    later = now + timedelta(days=365)  # rounds make their share due one after the other
    rows = []
    for i in range(n):
        s = samples[i % len(samples)]
        rows.append({"application_id": s.application_id, "template": s.template,
                     "recipient": s.recipient, "language": s.language, "context": s.context,
                     "subject": s.subject, "body_text": s.body_text, "body_html": s.body_html,
                     "status": "pending", "attempts": 0, "next_attempt_at": later,
                     "created_at": now})
    with engine.begin() as conn:
        for start in range(0, n, 1000):
            conn.execute(insert(OutboxMessage), rows[start:start + 1000])


def make_due(engine, count: int) -> None:  # type: ignore[no-untyped-def]
    """The next `count` waiting rows become due now (untimed, before a round)."""
    with engine.begin() as conn:
        ids = list(conn.execute(select(OutboxMessage.id).where(
            OutboxMessage.status == "pending").order_by(OutboxMessage.id).limit(count))
            .scalars())
        conn.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids))
                     .values(next_attempt_at=utcnow() - timedelta(seconds=1)))


async def quartier_round(engine, settings: Settings, count: int,  # type: ignore[no-untyped-def]
                         handler: SmtpServer, cpu: CpuClock | None = None) -> tuple[int, float]:
    """One delivery pass over `count` rows made due just before (the rest wait for later)."""
    make_due(engine, count)  # untimed, also for the CPU clock
    before = handler.count
    started = time.perf_counter()
    with cpu.measuring() if cpu else contextlib.nullcontext():
        report = await deliver_due_async(engine, settings.delivery())
    seconds = time.perf_counter() - started
    sent = report.sent
    assert handler.count - before == sent, (handler.count, before, sent)
    return sent, seconds


async def bare_round(config: SmtpConfig, rows: list[OutboxMessage]) -> tuple[int, float]:
    started = time.perf_counter()
    smtp = aiosmtplib.SMTP(hostname=config.host, port=config.port, timeout=30)
    await smtp.connect()
    for row in rows:
        await smtp.send_message(build_message(row, config.mail_from))
    await smtp.quit()
    return len(rows), time.perf_counter() - started


async def measure_async(engine, n: int, batch: int, rounds: int,  # type: ignore[no-untyped-def]
                        profile: bool, handler: SmtpServer
                        ) -> tuple[float, float, float, float]:
    port = handler.port
    settings = Settings(smtp_host="127.0.0.1", smtp_port=port, mail_batch_size=batch)
    config = settings.smtp()
    with Session(engine, expire_on_commit=False) as session:
        sample = list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)
                                   .limit(n)).scalars())
    # Warm up both paths (connections, templates of the MIME code, pools).
    await bare_round(config, sample[:20])
    await quartier_round(engine, settings, 20, handler)
    per_round = (n - 20) // rounds
    q_total = [0, 0.0]
    b_total = [0, 0.0]
    q_cpu, b_cpu = CpuClock(), CpuClock()
    profiler = None
    if profile:
        from pyinstrument import Profiler
        profiler = Profiler(interval=0.0005, async_mode="enabled")
    for i in range(rounds):
        sides = ["q", "b"] if i % 2 == 0 else ["b", "q"]
        for side in sides:
            if side == "q":
                if profiler:
                    profiler.start()
                count, seconds = await quartier_round(engine, settings, per_round, handler, q_cpu)
                if profiler:
                    profiler.stop()
                q_total[0] += count
                q_total[1] += seconds
            else:
                with b_cpu.measuring():
                    count, seconds = await bare_round(config, sample[:per_round])
                b_total[0] += count
                b_total[1] += seconds
    if profiler:
        print(profiler.output_text(unicode=True, color=False)[:12000], file=sys.stderr)
    assert q_total[0] == per_round * rounds, q_total
    return (q_total[0] / q_total[1], b_total[0] / b_total[1],
            1000 * q_cpu.seconds / q_total[0], 1000 * b_cpu.seconds / b_total[0])


def measure(kind: str, n: int, batch: int, rounds: int, profile: bool) -> list:
    with database(kind) as url:
        engine = schema_engine(url)
        try:
            fill_outbox(engine, n)
            with SmtpServer() as server:
                q_rate, b_rate, q_ms, b_ms = asyncio.run(
                    measure_async(engine, n, batch, rounds, profile, server))
        finally:
            engine.dispose()
    return [kind, n, batch, f"{q_rate:.0f}", f"{b_rate:.0f}", ratio(q_rate, b_rate),
            verdict(q_rate / b_rate, TARGET), f"{q_ms:.2f}", f"{b_ms:.2f}", ratio(b_ms, q_ms)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="messages per database")
    parser.add_argument("--db", default="sqlite,postgres", help="sqlite, postgres or both")
    parser.add_argument("--batch", type=int, default=50, help="QUARTIER_MAIL_BATCH_SIZE")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="alternating rounds per side")
    parser.add_argument("--profile", action="store_true",
                        help="pyinstrument the outbox drain: the event loop's thread only "
                             "(the database thread needs py-spy --threads)")
    args = parser.parse_args()
    rows = [measure(kind, args.n, args.batch, args.rounds, args.profile)
            for kind in args.db.split(",")]
    print(table(["database", "messages", "batch", "outbox drain mails/s",
                 "bare aiosmtplib mails/s", "ratio", f"target {TARGET}", "CPU ms/mail",
                 "bare CPU ms/mail", "CPU ratio"], rows))


if __name__ == "__main__":
    main()
