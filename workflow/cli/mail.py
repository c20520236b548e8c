"""`quartier mail status|list|show|deliver|requeue|catch`: the outbox and the local mail catcher.

Whenever dead letters exist, `status`, `list` and `deliver` print a red warning line first."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from sqlmodel import Session, col, select

from notifications import catcher
from notifications.outbox import OutboxMessage
from notifications.worker import DeliveryReport, deliver_due
from workflow.cli.common import (
    JsonOpt,
    fail,
    options,
    print_json,
    refusals,
    session_scope,
    show,
    table,
    when,
)
from workflow.db import make_engine
from workflow.errors import Conflict, InvalidInput, NotFound
from workflow.inputs import is_number
from workflow.mail import MailOverview, list_dead, overview, requeue
from workflow.presenters import outbox_out
from workflow.settings import get_settings

mail_app = typer.Typer(help="E-Mails: Postausgang zustellen und ansehen, lokaler Mail-Catcher.",
                       no_args_is_help=True)

CaughtOpt = Annotated[bool, typer.Option(
    "--caught", help="Die vom lokalen Mail-Catcher gespeicherten E-Mails statt des Postausgangs.")]


def report_line(report: DeliveryReport) -> str:
    return (f"Zugestellt: {report.sent}, später erneut: {report.retrying}, "
            f"unzustellbar: {report.dead} (von {report.claimed} fälligen E-Mails)")


def warn_dead_letters(found: MailOverview, as_json: bool = False) -> None:
    """The red line an administrator sees first while dead letters exist (stderr with --json)."""
    line = found.warning()
    if line:
        typer.secho(f"WARNUNG: {line} (quartier mail list --dead; quartier mail requeue ID)",
                    fg=typer.colors.RED, bold=True, err=as_json)


@mail_app.command("status")
def status(as_json: JsonOpt = False) -> None:
    """Der Postausgang auf einen Blick: zuerst die unzustellbaren E-Mails."""
    with session_scope(as_json) as session:
        found = overview(session)
        oldest = outbox_out(found.oldest_dead) if found.oldest_dead else None
    schedule = get_settings().delivery().retry_schedule
    warn_dead_letters(found, as_json)
    if as_json:
        print_json({"dead_count": found.dead, "oldest_dead": oldest,
                    "warning": found.warning(), "pending_count": found.pending,
                    "retrying_count": found.retrying, "sent_count": found.sent,
                    "retry_schedule_seconds": list(schedule)})
        return
    days = sum(schedule) / 86400
    show(table(["Unzustellbar", "Wartend", "davon nach Fehlversuch", "Zugestellt"],
               [[found.dead, found.pending, found.retrying, found.sent]]))
    typer.echo(f"Wiederholungsplan: {len(schedule)} Wiederholungen über {days:.1f} Tage "
               "(QUARTIER_MAIL_RETRY_SCHEDULE), danach unzustellbar.")


@mail_app.command("deliver")
def deliver() -> None:
    """Ein Durchgang: alle fälligen E-Mails des Postausgangs per SMTP senden."""
    engine = make_engine()
    try:
        report = deliver_due(engine, get_settings().delivery(), now=options.now)
        with Session(engine) as session:
            found = overview(session)
    finally:
        engine.dispose()
    warn_dead_letters(found)
    typer.echo(report_line(report))
    for error in report.errors:
        typer.echo(f"  {error}", err=True)


def _caught(limit: int, as_json: bool) -> None:
    directory = get_settings().mail_catcher_dir
    messages = catcher.caught_messages(directory)[-limit:]
    rows = [{"number": m.number, "file": m.path.name, "date": m.message["Date"],
             "to": m.message["To"], "subject": m.message["Subject"],
             "message_id": m.message["Message-ID"]} for m in messages]
    if as_json:
        print_json(rows)
        return
    show(f"Vom Mail-Catcher empfangen ({directory}), {len(rows)} E-Mails:",
         table(["Nr.", "An", "Betreff", "Datei"],
               [[r["number"], r["to"], r["subject"], r["file"]] for r in rows]))


@mail_app.command("list")
def list_mail(
    dead: Annotated[bool, typer.Option("--dead", help="Nur unzustellbare E-Mails.")] = False,
    status: Annotated[str | None, typer.Option(
        "--status", metavar="STATUS", help="pending, sent oder dead.")] = None,
    caught: CaughtOpt = False,
    limit: Annotated[int, typer.Option(
        "--limit", metavar="N", help="Höchstens so viele, die neuesten.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Den Postausgang (Datenbank) zeigen – oder mit --caught, was der Mail-Catcher empfing."""
    if caught:
        _caught(limit, as_json)
        return
    with session_scope(as_json) as session:
        found = overview(session)
        if dead:
            messages = list_dead(session)[-limit:]
        else:
            query = select(OutboxMessage).order_by(col(OutboxMessage.id).desc()).limit(limit)
            if status:
                query = query.where(OutboxMessage.status == status)
            messages = list(reversed(session.exec(query).all()))
        rows = [outbox_out(m) for m in messages]
    warn_dead_letters(found, as_json)
    if as_json:
        print_json(rows)
        return
    title = "Unzustellbare E-Mails im Postausgang" if dead else "Postausgang (Datenbank)"
    show(f"{title}, {len(rows)} E-Mails:",
         table(["ID", "Status", "Versuche", "An", "Betreff", "Gesendet", "Fehler"],
               [[r["id"], r["status"], r["attempts"], r["recipient"], r["subject"],
                 when(r["sent_at"]), r["last_error"]] for r in rows]))


def _show_caught(key: str, html: bool, as_json: bool) -> None:
    messages = catcher.caught_messages(get_settings().mail_catcher_dir)
    found = next((m for m in messages if str(m.number) == key or m.path.name == key), None)
    if found is None:
        fail(NotFound(f"Keine empfangene E-Mail „{key}“ (siehe quartier mail list --caught).",
                      f"No caught email '{key}' (see quartier mail list --caught)."), as_json)
    headers = {name: str(found.message[name]) for name in
               ("Message-ID", "Date", "From", "To", "Subject", "Content-Language")
               if found.message[name] is not None}
    if as_json:
        print_json({**headers, "file": str(found.path), "text": found.text, "html": found.html})
        return
    typer.echo("\n".join(f"{k}: {v}" for k, v in headers.items())
               + f"\nDatei: {found.path}\n\n{found.html if html else found.text}")


def _outbox_message(session: Session, key: str) -> OutboxMessage:
    if not is_number(key):
        raise InvalidInput(f"Die Postausgang-ID ist eine Zahl (nicht „{key}“).",
                           f"The outbox id is a number (not '{key}').", field="id")
    message = session.get(OutboxMessage, int(key))
    if message is None:
        raise NotFound(f"E-Mail {key} ist nicht im Postausgang.",
                       f"Email {key} is not in the outbox.")
    return message


@mail_app.command("show")
def show_mail(
    key: Annotated[str, typer.Argument(
        metavar="ID", help="Postausgang-ID, oder mit --caught Nr. oder Datei.")],
    caught: CaughtOpt = False,
    html: Annotated[bool, typer.Option("--html", help="Den HTML-Teil statt des Texts.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Eine E-Mail vollständig zeigen: Kopfzeilen und Text (oder HTML)."""
    if caught:
        _show_caught(key, html, as_json)
        return
    with session_scope(as_json) as session:
        message = _outbox_message(session, key)
        row: dict[str, Any] = outbox_out(message)
        text, body_html = message.body_text, message.body_html
    if as_json:
        print_json({**row, "text": text, "html": body_html})
        return
    lines = [f"Message-ID: {row['message_id']}", f"An: {row['recipient']}",
             f"Betreff: {row['subject']}",
             f"Sprache: {row['language']}  Vorlage: {row['template']}",
             f"Status: {row['status']}  Versuche: {row['attempts']}  "
             f"Gesendet: {when(row['sent_at']) or '–'}"]
    if row["last_error"]:
        lines.append(f"Letzter Fehler: {row['last_error']}")
    typer.echo("\n".join(lines) + f"\n\n{body_html if html else text}")


@mail_app.command("requeue")
def requeue_mail(
    outbox_id: Annotated[int, typer.Argument(metavar="ID", help="Postausgang-ID.")],
    as_json: JsonOpt = False,
) -> None:
    """Eine unzustellbare E-Mail erneut in die Zustellung geben (gleiche Message-ID)."""
    with session_scope(as_json) as session:
        message = requeue(session, outbox_id, now=options.now)
        if as_json:
            print_json(outbox_out(message))
            return
        typer.echo(f"E-Mail {message.id} an {message.recipient} wird erneut zugestellt.")


@mail_app.command("catch")
def catch(
    background: Annotated[bool, typer.Option(
        "--background", help="Im Hintergrund starten (PID in VERZEICHNIS/catcher.pid).")]
    = False,
    stop: Annotated[bool, typer.Option("--stop", help="Den Hintergrund-Catcher beenden.")] = False,
    host: Annotated[str | None, typer.Option(
        "--host", metavar="HOST", help="Standard: QUARTIER_SMTP_HOST.")] = None,
    port: Annotated[int | None, typer.Option(
        "--port", metavar="PORT", help="Standard: QUARTIER_SMTP_PORT (8025).")] = None,
    directory: Annotated[str | None, typer.Option(
        "--dir", metavar="VERZEICHNIS", help="Standard: QUARTIER_MAIL_CATCHER_DIR (var/mail).")]
    = None,
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
        with refusals():
            try:
                pid = catcher.spawn_catcher(directory, host, port)
            except RuntimeError as error:
                raise Conflict(f"Der Mail-Catcher startete nicht: {error}",
                               f"The mail catcher did not start: {error}") from None
        if pid is None:
            typer.echo(f"Auf {host}:{port} läuft bereits ein SMTP-Server; nichts gestartet.")
        else:
            typer.echo(f"Mail-Catcher läuft im Hintergrund (PID {pid}) auf {host}:{port}; "
                       f"E-Mails landen in {directory}.")
        return
    if catcher.port_in_use(host, port):
        fail(Conflict(f"Port {host}:{port} ist belegt.", f"Port {host}:{port} is in use."))
    typer.echo(f"Mail-Catcher auf {host}:{port}; E-Mails landen in {directory}. Ende mit Strg+C.")
    catcher.run_catcher(directory, host, port)
