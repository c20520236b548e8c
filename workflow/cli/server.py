"""The long-running parts: `quartier serve` (the HTTP API), `quartier worker` (the outbox, the
reminder passes and the scheduled project starts), `quartier remind` (one reminder pass, for
cron) and `quartier start-projects` (one pass of scheduled starts, for cron)."""

from __future__ import annotations

import copy
import logging
import signal
import threading
from datetime import datetime, timedelta
from typing import Annotated, Any

import typer
from sqlalchemy import Engine

from notifications.outbox import utcnow
from notifications.worker import DeliveryReport, Periodic, delivery_job, run_worker
from workflow import documents, idempotency
from workflow.cli.common import (
    JsonOpt,
    NowOpt,
    options,
    parse_now,
    print_json,
    refusals,
    show,
    table,
)
from workflow.cli.mail import report_line
from workflow.db import make_engine, unit_of_work
from workflow.reminders import run_reminder_pass
from workflow.scheduled_starts import run_start_pass
from workflow.settings import InsecureSettings, check_settings, get_settings

# The API's app factory, as uvicorn imports it (in each of its processes with --workers): the
# command line never imports the API itself.
APP_FACTORY = "api.app:create_app"
REMINDER_PASS_EVERY_SECONDS = 300.0
START_PASS_EVERY_SECONDS = 300.0
IDEMPOTENCY_EXPIRY_EVERY_SECONDS = 3600.0
ORPHAN_SWEEP_EVERY_SECONDS = 3600.0

log = logging.getLogger("quartier.worker")


def _log_config() -> dict[str, Any]:
    """Uvicorn's logging plus our request log (one line per request, so no uvicorn access log)."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    # Our lines are written by a thread of their own (workflow.cli.logqueue), not by the
    # request that logs them.
    config["handlers"]["quartier"] = {"()": "workflow.cli.logqueue.queued_stderr"}
    config["loggers"]["quartier"] = {"handlers": ["quartier"], "level": "INFO",
                                     "propagate": False}
    return config


def serve(
    host: Annotated[str, typer.Option(
        "--host", metavar="HOST", help="Adresse, an die der Server bindet.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", metavar="PORT", help="Port.")] = 8000,
    workers: Annotated[int, typer.Option(
        "--workers", metavar="N", min=1, help="Anzahl der Prozesse.")] = 1,
) -> None:
    """Die HTTP-API starten (OpenAPI unter /docs, alles unter /api/v1)."""
    import uvicorn

    from workflow.seed import load_programme_data

    settings = get_settings()
    try:
        check_settings(settings)
    except InsecureSettings as refusal:
        typer.echo(str(refusal), err=True)  # already in German and English
        raise typer.Exit(1) from None
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    shown = f"[{shown}]" if ":" in shown else shown
    typer.echo(f"Quartier-Portal: http://{shown}:{port}/ (anmelden unter /anmelden)")
    typer.echo(f"Quartier-API: http://{shown}:{port}/docs (OpenAPI), "
               f"Basis http://{shown}:{port}/api/v1")
    if settings.environment == "development":
        data = load_programme_data()
        accounts = [["carrier", user["email"], org["name"]]
                    for org in data["organisations"] for user in org["users"]]
        accounts += [[user["role"], user["email"], ""] for user in data["staff"]]
        show(f"Entwicklungsmodus. Demo-Konten (Passwort „{data['demo_password']}“, "
             "nach `quartier seed`; im Portal anmelden mit E-Mail und Passwort):",
             table(["Rolle", "E-Mail", "Organisation"], accounts))
    uvicorn.run(APP_FACTORY, factory=True, host=host, port=port, workers=workers,
                log_config=_log_config(), access_log=False, proxy_headers=False)


def worker_jobs(on_report: Any = None) -> list[Periodic]:
    """What `quartier worker` runs: a reminder pass and a pass of scheduled project starts every
    few minutes, then the outbox on every pass (so that the emails of a pass go out in it), and
    hourly the expiry of stored Idempotency-Key responses."""
    settings = get_settings()
    retention = timedelta(hours=settings.idempotency_retention_hours)

    def expire_idempotency_records(engine: Engine, now: datetime) -> None:
        deleted = idempotency.delete_expired(engine, now, retention)
        if deleted:
            log.info("%s expired idempotency records deleted", deleted)

    return [Periodic(run_reminder_pass, REMINDER_PASS_EVERY_SECONDS, "reminder pass"),
            Periodic(run_start_pass, START_PASS_EVERY_SECONDS, "scheduled project starts"),
            delivery_job(settings.delivery(), on_report),
            Periodic(expire_idempotency_records, IDEMPOTENCY_EXPIRY_EVERY_SECONDS,
                     "idempotency expiry"),
            Periodic(orphan_sweep(settings), ORPHAN_SWEEP_EVERY_SECONDS, "orphan sweep")]


def orphan_sweep(settings: Any) -> Any:
    """The worker's hourly sweep of blobs no document names (older than the grace period)."""
    store, grace = settings.document_store(), timedelta(hours=settings.orphan_grace_hours)

    def sweep_orphans(engine: Engine, now: datetime) -> None:
        with unit_of_work(engine) as session:
            deleted = documents.sweep_orphans(session, store, now, grace)
        if deleted:
            log.info("%s orphaned document blobs deleted", len(deleted))

    return sweep_orphans


def worker(
    poll: Annotated[float | None, typer.Option(
        "--poll", metavar="SEKUNDEN",
        help="Sekunden zwischen zwei Durchgängen (Standard: QUARTIER_MAIL_POLL_SECONDS).")]
    = None,
    once: Annotated[bool, typer.Option(
        "--once", help="Nur ein Durchgang: jede Aufgabe einmal, dann Ende.")] = False,
) -> None:
    """Dauerbetrieb: Postausgang zustellen, Erinnerungsläufe, Projektbeginne (Ende mit Strg+C)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings = get_settings()

    def on_report(report: DeliveryReport) -> None:
        typer.echo(report_line(report))

    jobs = worker_jobs(on_report)
    fixed = options.now
    clock = (lambda: fixed) if fixed else utcnow  # with --now: one simulated moment
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set())
                for sig in (signal.SIGINT, signal.SIGTERM)}
    engine = make_engine()
    typer.echo(f"Worker läuft: SMTP {settings.smtp_host}:{settings.smtp_port}; "
               + ", ".join(job.name for job in jobs) + ". Ende mit Strg+C.")
    try:
        with refusals():
            run_worker(engine, jobs, poll_seconds=settings.mail_poll_seconds if poll is None
                       else poll, stop=stop, clock=clock, once=once)
    finally:
        engine.dispose()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    typer.echo("Worker beendet.")


def remind(now: NowOpt = None, as_json: JsonOpt = False) -> None:
    """Ein Erinnerungslauf (idempotent; für cron). `--now ISO` simuliert die Uhr."""
    moment: datetime | None = parse_now(now) or options.now
    engine = make_engine()
    try:
        with refusals(as_json):
            summary = run_reminder_pass(engine, moment)
    finally:
        engine.dispose()
    data = summary.as_dict()
    if as_json:
        print_json(data)
        return
    sent = ", ".join(f"{step}: {n}" for step, n in data["sent"].items()) or "keine"
    typer.echo(f"Erinnerungslauf für {data['today']}: {data['deadlines']} Fristen geprüft, "
               f"{data['sent_total']} gesendet ({sent}), {data['skipped']} übersprungen.")


def start_projects(now: NowOpt = None, as_json: JsonOpt = False) -> None:
    """Bewilligte Projekte starten, deren Projektbeginn erreicht ist (idempotent; für cron)."""
    moment: datetime | None = parse_now(now) or options.now
    engine = make_engine()
    try:
        with refusals(as_json):
            summary = run_start_pass(engine, moment)
    finally:
        engine.dispose()
    if as_json:
        print_json(summary.as_dict())
        return
    typer.echo(f"Projektbeginne am {summary.today.isoformat()}: {len(summary.started)} "
               f"gestartet" + (f" ({', '.join(summary.started)})" if summary.started else "")
               + f", {len(summary.refused)} abgelehnt.")
    for reference, reason in summary.refused.items():
        typer.echo(f"{reference}: {reason}", err=True)
