"""Commands: `quartier remind`, `simulate`, `reports …` and `calendar url`."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlmodel import select

from workflow import calendar, reports
from workflow.cli import (
    AsOpt,
    Clock,
    JsonOpt,
    NowOpt,
    actor_for,
    emit,
    parse_now,
    parse_pairs,
    session_scope,
)
from workflow.errors import NotFound
from workflow.models import Organisation, User

REMINDER_PASS_EVERY_SECONDS = 300.0

reports_app = typer.Typer(help="Zwischennachweise einreichen und prüfen.", no_args_is_help=True)
calendar_app = typer.Typer(help="Fristenkalender (iCalendar) der Träger.", no_args_is_help=True)
PeriodOpt = Annotated[str | None, typer.Option(help="Haushaltsjahr (Standard: das nächste).")]


def remind(
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One reminder pass (idempotent; for cron). `--now` simulates the clock."""
    from workflow.db import make_engine
    from workflow.reminders import run_reminder_pass

    moment = parse_now(now) or Clock.now
    engine = make_engine()
    try:
        summary = run_reminder_pass(engine, moment)
    finally:
        engine.dispose()
    data = summary.as_dict()
    sent = ", ".join(f"{step}: {n}" for step, n in data["sent"].items()) or "keine"
    emit(data, as_json, f"Erinnerungslauf für {data['today']}: {data['deadlines']} Fristen "
         f"geprüft, {data['sent_total']} gesendet ({sent}), {data['skipped']} übersprungen.")


def simulate_cmd(
    until: Annotated[str | None, typer.Option(help="Bis zu diesem Tag (JJJJ-MM-TT).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run the seeded ZiQ programme on a simulated clock and print the timeline."""
    from datetime import date

    from workflow.simulate import simulate

    if as_json:
        entries = simulate(date.fromisoformat(until) if until else None)
        emit([e.__dict__ for e in entries], True, "")
        return
    simulate(date.fromisoformat(until) if until else None, on_entry=lambda e: typer.echo(e.line()))


@reports_app.command("submit-interim")
def submit_interim(
    reference: str,
    as_user: AsOpt,
    narrative: Annotated[str, typer.Option(help="Sachbericht.")],
    spending: Annotated[list[str], typer.Option(help="Bisherige Ausgaben JAHR=BETRAG.")],
    period: PeriodOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Submit an interim report (carrier)."""
    with session_scope() as session:
        report = reports.submit_interim_report(
            session, reference, actor_for(session, as_user), narrative=narrative,
            spending=parse_pairs(spending, "--spending") or {}, period=period, now=Clock.now)
        emit(reports.report_dict(report), as_json,
             f"{reference}: Zwischennachweis {report.period} eingereicht"
             + (" (verspätet)." if report.late else "."))


@reports_app.command("accept-interim")
def accept_interim(
    reference: str,
    as_user: AsOpt,
    period: PeriodOpt = None,
    note: Annotated[str | None, typer.Option(help="Vermerk.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Accept a submitted interim report (reviewer)."""
    with session_scope() as session:
        report = reports.accept_interim_report(session, reference, actor_for(session, as_user),
                                               period=period, note=note, now=Clock.now)
        emit(reports.report_dict(report), as_json,
             f"{reference}: Zwischennachweis {report.period} anerkannt.")


@reports_app.command("request-interim-changes")
def request_interim_changes(
    reference: str,
    as_user: AsOpt,
    reason: Annotated[str, typer.Option(help="Was nachzubessern ist.")],
    period: PeriodOpt = None,
    deadline: Annotated[str | None, typer.Option(help="Frist JJJJ-MM-TT.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Ask for changes to an interim report (reviewer); its deadline opens again."""
    from datetime import date

    with session_scope() as session:
        report = reports.request_interim_changes(
            session, reference, actor_for(session, as_user), reason=reason, period=period,
            deadline=date.fromisoformat(deadline) if deadline else None, now=Clock.now)
        emit(reports.report_dict(report), as_json,
             f"{reference}: Nachbesserung des Zwischennachweises {report.period} angefordert.")


@reports_app.command("list")
def list_interim(reference: str, as_json: JsonOpt = False) -> None:
    """Interim reports of one application."""
    from workflow.applications import load_application
    from workflow.cli import table

    with session_scope() as session:
        rows = [reports.report_dict(r) for r in reports.interim_reports(
            session, load_application(session, reference))]
        emit(rows, as_json, table(["Jahr", "Status", "Eingereicht", "Verspätet", "Vermerk"], [
            [r["period"], r["status"], r["submitted_at"], "ja" if r["late"] else "",
             (r["review_note"] or "")[:50]] for r in rows]))


def _organisation(session, key: str) -> Organisation:  # type: ignore[no-untyped-def]
    org = None
    if key.isdigit():
        org = session.get(Organisation, int(key))
    if org is None and "@" in key:
        user = session.exec(select(User).where(User.email == key)).first()
        org = session.get(Organisation, user.organisation_id) if user and \
            user.organisation_id else None
    if org is None:
        org = session.exec(select(Organisation).where(Organisation.name == key)).first()
    if org is None:
        raise NotFound(f"Träger „{key}“ nicht gefunden (Id, Name oder E-Mail eines Nutzers).",
                       f"Organisation '{key}' not found (id, name or a user's email).")
    return org


@calendar_app.command("url")
def calendar_url(
    org: Annotated[str, typer.Argument(help="Träger: Id, Name oder E-Mail eines Nutzers.")],
    base_url: Annotated[str, typer.Option(help="Öffentliche Adresse der API.")]
    = "http://127.0.0.1:8000",
    rotate: Annotated[bool, typer.Option("--rotate", help="Neue geheime Adresse erzeugen.")]
    = False,
    as_json: JsonOpt = False,
) -> None:
    """The secret iCalendar URL of an organisation's open deadlines."""
    with session_scope() as session:
        organisation = _organisation(session, org)
        token = (calendar.rotate_token(session, organisation) if rotate
                 else calendar.ensure_token(session, organisation))
        url = base_url.rstrip("/") + calendar.feed_path(token)
        emit({"organisation": organisation.name, "url": url}, as_json, url)


def _register_with_worker() -> None:
    """Have the long-running `quartier worker` run the reminder pass periodically."""
    try:
        from notifications import worker
    except ModuleNotFoundError:
        return
    from workflow.reminders import run_reminder_pass

    if not any(job.fn is run_reminder_pass for job in worker.PERIODIC):
        worker.register_periodic(run_reminder_pass, REMINDER_PASS_EVERY_SECONDS,
                                 name="reminder pass")


def register(app: typer.Typer) -> None:
    app.command("remind")(remind)
    app.command("simulate")(simulate_cmd)
    app.add_typer(reports_app, name="reports")
    app.add_typer(calendar_app, name="calendar")
    _register_with_worker()
