"""`quartier worker` and `quartier mail …`: deliver the outbox, inspect it, catch mail locally."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlmodel import Session, col, select

from notifications import catcher
from notifications.outbox import OutboxMessage, aware
from notifications.worker import DeliveryReport, deliver_due, run_worker
from workflow.db import make_engine
from workflow.mail import list_dead, requeue
from workflow.settings import get_settings

mail_app = typer.Typer(help="E-Mails: Postausgang zustellen und ansehen, lokaler Mail-Catcher.",
                       no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Maschinenlesbare Ausgabe.")]
CaughtOpt = Annotated[bool, typer.Option(
    "--caught", help="Die vom lokalen Mail-Catcher gespeicherten E-Mails statt des Postausgangs.")]


def _cli():  # the main CLI module imports this one; import it late to avoid a cycle
    from workflow import cli
    return cli


def _report_line(report: DeliveryReport) -> str:
    return (f"Zugestellt: {report.sent}, später erneut: {report.retrying}, "
            f"unzustellbar: {report.dead} (von {report.claimed} fälligen E-Mails)")


def _row(message: OutboxMessage) -> dict[str, Any]:
    return {"id": message.id, "status": message.status, "attempts": message.attempts,
            "template": message.template, "to": message.recipient, "language": message.language,
            "subject": message.subject, "message_id": message.message_id,
            "created_at": aware(message.created_at), "sent_at": aware(message.sent_at),
            "next_attempt_at": aware(message.next_attempt_at),
            "lease_until": aware(message.lease_until), "last_error": message.last_error}


def _short(moment: Any) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else ""


@mail_app.command("deliver")
def deliver_command() -> None:
    """Ein Durchgang: alle fälligen E-Mails des Postausgangs per SMTP senden."""
    settings = get_settings()
    engine = make_engine()
    try:
        report = deliver_due(engine, settings, now=_cli().Clock.now)
    finally:
        engine.dispose()
    typer.echo(_report_line(report))
    for error in report.errors:
        typer.echo(f"  {error}", err=True)


@mail_app.command("list")
def list_command(
    dead: Annotated[bool, typer.Option("--dead", help="Nur unzustellbare E-Mails.")] = False,
    status: Annotated[str | None, typer.Option(help="pending, sent oder dead.")] = None,
    caught: CaughtOpt = False,
    limit: Annotated[int, typer.Option(help="Höchstens so viele, die neuesten.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Den Postausgang (Datenbank) zeigen – oder mit --caught, was der Mail-Catcher empfing."""
    cli = _cli()
    if caught:
        directory = Path(get_settings().mail_catcher_dir)
        messages = catcher.caught_messages(directory)[-limit:]
        rows = [{"number": m.number, "file": m.path.name, "date": m.message["Date"],
                 "to": m.message["To"], "subject": m.message["Subject"],
                 "message_id": m.message["Message-ID"]} for m in messages]
        cli.emit(rows, as_json, f"Vom Mail-Catcher empfangen ({directory}), {len(rows)} E-Mails:\n"
                 + cli.table(["Nr.", "An", "Betreff", "Datei"],
                             [[r["number"], r["to"], r["subject"], r["file"]] for r in rows]))
        return
    engine = make_engine()
    try:
        with Session(engine) as session:
            if dead:
                messages = list_dead(session)[-limit:]
            else:
                query = select(OutboxMessage).order_by(col(OutboxMessage.id).desc()).limit(limit)
                if status:
                    query = query.where(OutboxMessage.status == status)
                messages = list(reversed(session.exec(query).all()))
    finally:
        engine.dispose()
    rows = [_row(m) for m in messages]
    title = "Unzustellbare E-Mails im Postausgang" if dead else "Postausgang (Datenbank)"
    cli.emit(rows, as_json, f"{title}, {len(rows)} E-Mails:\n" + cli.table(
        ["ID", "Status", "Versuche", "An", "Betreff", "Gesendet", "Fehler"],
        [[r["id"], r["status"], r["attempts"], r["to"], r["subject"], _short(r["sent_at"]),
          (r["last_error"] or "")[:60]] for r in rows]))


@mail_app.command("show")
def show_command(
    key: Annotated[str, typer.Argument(help="Postausgang-ID, oder mit --caught Nr. oder Datei.")],
    caught: CaughtOpt = False,
    html: Annotated[bool, typer.Option("--html", help="Den HTML-Teil statt des Texts.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Eine E-Mail vollständig zeigen: Kopfzeilen und Text (oder HTML)."""
    cli = _cli()
    if caught:
        messages = catcher.caught_messages(get_settings().mail_catcher_dir)
        found = next((m for m in messages if str(m.number) == key or m.path.name == key), None)
        if found is None:
            typer.echo(f"Fehler: Keine empfangene E-Mail „{key}“ (siehe quartier mail list "
                       f"--caught).", err=True)
            raise typer.Exit(1)
        headers = {name: str(found.message[name]) for name in
                   ("Message-ID", "Date", "From", "To", "Subject", "Content-Language")
                   if found.message[name] is not None}
        body = found.html if html else found.text
        cli.emit({**headers, "file": str(found.path), "text": found.text, "html": found.html},
                 as_json, "\n".join(f"{k}: {v}" for k, v in headers.items())
                 + f"\nDatei: {found.path}\n\n{body}")
        return
    if not key.isdigit():
        typer.echo("Fehler: Die Postausgang-ID ist eine Zahl.", err=True)
        raise typer.Exit(2)
    engine = make_engine()
    try:
        with Session(engine) as session:
            message = session.get(OutboxMessage, int(key))
    finally:
        engine.dispose()
    if message is None:
        typer.echo(f"Fehler: E-Mail {key} ist nicht im Postausgang.", err=True)
        raise typer.Exit(1)
    row = _row(message)
    body = message.body_html if html else message.body_text
    lines = [f"Message-ID: {row['message_id']}", f"An: {row['to']}", f"Betreff: {row['subject']}",
             f"Sprache: {row['language']}  Vorlage: {row['template']}",
             f"Status: {row['status']}  Versuche: {row['attempts']}  "
             f"Gesendet: {_short(row['sent_at']) or '–'}"]
    if message.last_error:
        lines.append(f"Letzter Fehler: {message.last_error}")
    cli.emit({**row, "text": message.body_text, "html": message.body_html}, as_json,
             "\n".join(lines) + f"\n\n{body}")


@mail_app.command("requeue")
def requeue_command(outbox_id: int) -> None:
    """Eine unzustellbare E-Mail erneut in die Zustellung geben (gleiche Message-ID)."""
    with _cli().session_scope() as session:
        message = requeue(session, outbox_id, now=_cli().Clock.now)
        typer.echo(f"E-Mail {message.id} an {message.recipient} wird erneut zugestellt.")


@mail_app.command("catch")
def catch_command(
    background: Annotated[bool, typer.Option(
        "--background", help="Im Hintergrund starten (PID in <Verzeichnis>/catcher.pid).")] = False,
    stop: Annotated[bool, typer.Option("--stop", help="Den Hintergrund-Catcher beenden.")] = False,
    host: Annotated[str | None, typer.Option(help="Standard: QUARTIER_SMTP_HOST.")] = None,
    port: Annotated[int | None, typer.Option(help="Standard: QUARTIER_SMTP_PORT (8025).")] = None,
    directory: Annotated[str | None, typer.Option(
        "--dir", help="Standard: QUARTIER_MAIL_CATCHER_DIR (var/mail).")] = None,
) -> None:
    """Lokaler Mail-Catcher: ein SMTP-Server, der jede E-Mail als .eml-Datei ablegt."""
    settings = get_settings()
    host = host or settings.smtp_host
    port = port or settings.smtp_port
    directory = directory or settings.mail_catcher_dir
    if stop:
        pid = catcher.stop_catcher(directory)
        typer.echo(f"Mail-Catcher (PID {pid}) beendet." if pid else "Kein Mail-Catcher lief.")
        return
    if background:
        pid = catcher.spawn_catcher(directory, host, port)
        if pid is None:
            typer.echo(f"Auf {host}:{port} läuft bereits ein SMTP-Server; nichts gestartet.")
        else:
            typer.echo(f"Mail-Catcher läuft im Hintergrund (PID {pid}) auf {host}:{port}; "
                       f"E-Mails landen in {directory}.")
        return
    if catcher.port_in_use(host, port):
        typer.echo(f"Fehler: Port {host}:{port} ist belegt.", err=True)
        raise typer.Exit(1)
    typer.echo(f"Mail-Catcher auf {host}:{port}; E-Mails landen in {directory}. Ende mit Strg+C.")
    catcher.run_catcher(directory, host, port)


def worker_command(
    poll: Annotated[float | None, typer.Option(
        help="Sekunden zwischen zwei Durchgängen (Standard: QUARTIER_MAIL_POLL_SECONDS).")] = None,
) -> None:
    """Dauerbetrieb: den Postausgang zustellen und periodische Aufgaben (Erinnerungen) ausführen."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings = get_settings()
    engine = make_engine()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    typer.echo(f"Worker läuft: SMTP {settings.smtp_host}:{settings.smtp_port}. Ende mit Strg+C.")
    try:
        run_worker(engine, settings, stop=stop, poll_seconds=poll,
                   on_report=lambda report: typer.echo(_report_line(report)))
    finally:
        engine.dispose()
    typer.echo("Worker beendet.")


def register(app: typer.Typer) -> None:
    """Add `quartier worker` and `quartier mail …` to the main command line."""
    app.add_typer(mail_app, name="mail")
    app.command("worker")(worker_command)


__all__ = ["register", "mail_app"]
