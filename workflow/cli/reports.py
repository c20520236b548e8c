"""`quartier reports submit-interim|accept-interim|request-interim-changes|list`."""

from __future__ import annotations

from typing import Annotated

import typer

from workflow import reports
from workflow.applications import load_application
from workflow.cli.common import (
    AsOpt,
    JsonOpt,
    RefArg,
    actor_for,
    options,
    parse_day,
    parse_pairs,
    print_json,
    session_scope,
    show,
    table,
    when,
)
from workflow.presenters import report_out

reports_app = typer.Typer(help="Zwischennachweise einreichen und prüfen.", no_args_is_help=True)

PeriodOpt = Annotated[str | None, typer.Option(
    "--period", metavar="JAHR", help="Haushaltsjahr (Standard: das nächste offene).")]


@reports_app.command("submit-interim")
def submit_interim(
    reference: RefArg,
    as_user: AsOpt,
    narrative: Annotated[str, typer.Option("--narrative", metavar="TEXT", help="Sachbericht.")],
    spending: Annotated[list[str], typer.Option(
        "--spending", metavar="JAHR=BETRAG", help="Bisherige Ausgaben in Euro je Jahr.")],
    period: PeriodOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Einen Zwischennachweis einreichen (Träger)."""
    with session_scope(as_json) as session:
        report = reports.submit_interim_report(
            session, reference, actor_for(session, as_user), narrative=narrative,
            spending=parse_pairs(spending, "--spending") or {}, period=period, now=options.now)
        if as_json:
            print_json(report_out(report))
            return
        typer.echo(f"{reference}: Zwischennachweis {report.period} eingereicht"
                   + (" (verspätet)." if report.late else "."))


@reports_app.command("accept-interim")
def accept_interim(
    reference: RefArg,
    as_user: AsOpt,
    period: PeriodOpt = None,
    note: Annotated[str | None, typer.Option("--note", metavar="TEXT", help="Vermerk.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Einen eingereichten Zwischennachweis anerkennen (Sachbearbeitung)."""
    with session_scope(as_json) as session:
        report = reports.accept_interim_report(session, reference, actor_for(session, as_user),
                                               period=period, note=note, now=options.now)
        if as_json:
            print_json(report_out(report))
            return
        typer.echo(f"{reference}: Zwischennachweis {report.period} anerkannt.")


@reports_app.command("request-interim-changes")
def request_interim_changes(
    reference: RefArg,
    as_user: AsOpt,
    reason: Annotated[str, typer.Option(
        "--reason", metavar="TEXT", help="Was nachzubessern ist.")],
    period: PeriodOpt = None,
    deadline: Annotated[str | None, typer.Option(
        "--deadline", metavar="JJJJ-MM-TT", help="Neue Frist.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Nachbesserung eines Zwischennachweises anfordern (Sachbearbeitung); die Frist läuft neu."""
    with session_scope(as_json) as session:
        report = reports.request_interim_changes(
            session, reference, actor_for(session, as_user), reason=reason, period=period,
            deadline=parse_day(deadline, "--deadline"), now=options.now)
        if as_json:
            print_json(report_out(report))
            return
        typer.echo(f"{reference}: Nachbesserung des Zwischennachweises {report.period} "
                   "angefordert.")


@reports_app.command("list")
def list_interim(reference: RefArg, as_json: JsonOpt = False) -> None:
    """Die Zwischennachweise eines Antrags."""
    with session_scope(as_json) as session:
        found = [report_out(r) for r in reports.interim_reports(
            session, load_application(session, reference))]
        if as_json:
            print_json(found)
            return
        show(table(["Jahr", "Status", "Eingereicht", "Verspätet", "Vermerk"],
                   [[r["period"], r["status"], when(r["submitted_at"]),
                     "ja" if r["late"] else "", r["review_note"] or ""] for r in found]))
