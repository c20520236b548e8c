"""`quartier final-report show|edit|import|check`: the Verwendungsnachweis from the command line
(submitting it is `quartier fire REF submit_final_report`, which takes the saved draft)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from workflow import belegliste, final_report, final_report_check
from workflow.cli.common import (
    AsOpt,
    JsonOpt,
    RefArg,
    actor_for,
    options,
    print_json,
    session_scope,
    show,
    table,
    when,
)
from workflow.errors import InvalidInput

final_report_app = typer.Typer(help="Verwendungsnachweise: ansehen, bearbeiten, Belegliste "
                               "importieren, prüfen.", no_args_is_help=True)
FileArg = Annotated[Path, typer.Argument(metavar="DATEI", exists=True, dir_okay=False,
                                         readable=True)]


def _print(view: dict, as_json: bool) -> None:
    if as_json:
        print_json(view)
        return
    status = {"none": "noch keiner", "draft": "Entwurf", "submitted": "eingereicht"}
    typer.echo(f"{view['reference']}: Verwendungsnachweis "
               f"{('Version ' + str(view['version']) + ', ') if view['version'] else ''}"
               f"{status[view['status']]}.")
    rows = [(str(y["year"]), h["label"], h["planned"], h["actual"], h["difference"])
            for y in view["years"] for h in y["headings"]]
    show(table(["Jahr", "Kostenposition", "Plan", "Ist", "Differenz"], rows))
    show(table(["Jahr", "Ausgaben", "Eigenmittel", "Drittmittel", "Zuwendung", "Bewilligt"],
               [(str(y["year"]), y["expenses"], y["own"], y["third_party"], y["grant"],
                 y["approved"]) for y in view["years"]]))
    show(table(["Nr.", "Jahr", "Datum", "Empfänger/Einzahler", "Zweck", "Betrag",
                "Kostenposition"],
               [(str(i), str(b["year"]), b["date"], b["party"], b["purpose"], b["amount"],
                 b["heading"]) for i, b in enumerate(view["belege"], start=1)],
               title="Belegliste"))
    for problem in view["problems"]:
        typer.echo(f"Fehlt: {problem['detail']}")
    if view["check"]:
        grants = ", ".join(f"{y}: {v} €" for y, v in view["check"]["final_grant"].items())
        at = view["check"]["at"]
        at = when(datetime.fromisoformat(at) if isinstance(at, str) else at)
        typer.echo(f"Geprüft am {at}; festgesetzte Zuwendung {grants}.")


@final_report_app.command("show")
def show_report(reference: RefArg, as_user: AsOpt, as_json: JsonOpt = False) -> None:
    """Den Verwendungsnachweis neben dem bewilligten Finanzplan zeigen."""
    with session_scope(as_json) as session:
        _print(final_report.view(session, reference, actor_for(session, as_user), options.lang),
               as_json)


@final_report_app.command("edit")
def edit_report(reference: RefArg, as_user: AsOpt, source: FileArg,
                as_json: JsonOpt = False) -> None:
    """Den Entwurf aus einer JSON-Datei speichern (sachbericht, nachweis, belege; Träger)."""
    try:
        raw = json.loads(source.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raw = None
    with session_scope(as_json) as session:
        if not isinstance(raw, dict):
            raise InvalidInput("Die Datei ist kein JSON-Objekt.", "The file is no JSON object.",
                               field="file")
        actor = actor_for(session, as_user)
        final_report.save_draft(session, reference, actor, raw, now=options.now)
        _print(final_report.view(session, reference, actor, options.lang), as_json)


@final_report_app.command("import")
def import_belegliste(
    reference: RefArg, as_user: AsOpt, source: FileArg,
    into_draft: Annotated[bool, typer.Option(
        "--into-draft", help="Die Belegliste des Entwurfs ersetzen und die Ausgaben aus den "
        "Summen setzen.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Eine Belegliste aus CSV (Excel, Semikolon) oder XLSX lesen; fehlerhafte Zeilen werden
    mit Grund genannt, dann wird nichts übernommen."""
    with session_scope(as_json) as session:
        actor = actor_for(session, as_user)
        app = final_report.editable(session, reference, actor)
        entries = belegliste.parse_file(source.read_bytes(), final_report.frame_of(session, app))
        if into_draft:
            final_report.file_belege(session, reference, actor, entries, now=options.now)
        if as_json:
            print_json({"entries": [b.as_dict() for b in entries], "filed": into_draft})
            return
        typer.echo(f"{len(entries)} Belege gelesen"
                   + (" und in den Entwurf übernommen." if into_draft else "."))


@final_report_app.command("check")
def check_report(
    reference: RefArg, as_user: AsOpt,
    summary: Annotated[str, typer.Option("--summary", metavar="TEXT", help="Zusammenfassung.")],
    rating: Annotated[list[str], typer.Option(
        "--rating", metavar="KRITERIUM=BEWERTUNG[:NOTIZ]",
        help="Je Kriterium (sachbericht, finanzplan, belegliste, zweck) eine Bewertung "
        "(erfuellt, teilweise, nicht_erfuellt), mehrfach.")],
    lower: Annotated[list[str] | None, typer.Option(
        "--lower", metavar="JAHR=EURO:GRUND",
        help="Die Zuwendung eines Jahres niedriger festsetzen, mit Begründung.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Den eingereichten Verwendungsnachweis prüfen und die Zuwendung festsetzen."""
    ratings, lowered = {}, {}
    for value in rating:
        code, _, rest = value.partition("=")
        grade, _, note = rest.partition(":")
        ratings[code.strip()] = {"rating": grade.strip() or None, "note": note.strip()}
    for value in lower or []:
        year, _, rest = value.partition("=")
        amount, _, reason = rest.partition(":")
        lowered[year.strip()] = {"amount": amount.strip(), "reason": reason.strip()}
    with session_scope(as_json) as session:
        actor = actor_for(session, as_user)
        final_report_check.check_final_report(session, reference, actor, ratings=ratings,
                                              summary=summary, lowered=lowered or None,
                                              now=options.now)
        _print(final_report.view(session, reference, actor, options.lang), as_json)
