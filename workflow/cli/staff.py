"""`quartier worklist`, `quartier cases take|assign|lead`: staff work from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import select

from states import State
from states.staff import WorklistSort
from workflow import assignment, exports, worklist
from workflow.cli.common import AsOpt, JsonOpt, actor_for, print_json, session_scope, show, table
from workflow.errors import NotFound, NotPermitted
from workflow.models import User

cases_app = typer.Typer(help="Fälle übernehmen und zuweisen.", no_args_is_help=True)


def worklist_command(
    who: AsOpt,
    mine: Annotated[bool, typer.Option("--mine", help="Nur meine Fälle.")] = False,
    unassigned: Annotated[bool, typer.Option("--unassigned", help="Nur unbesetzte.")] = False,
    waiting: Annotated[bool, typer.Option("--waiting-for-me",
                                          help="Eingänge seit meiner letzten Handlung.")] = False,
    state: Annotated[State | None, typer.Option("--state")] = None,
    search: Annotated[str | None, typer.Option("--search", "-q")] = None,
    sort: Annotated[WorklistSort, typer.Option("--sort")] = WorklistSort.received,
    desc: Annotated[bool, typer.Option("--desc")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 50,
    export: Annotated[Path | None, typer.Option(
        "--export", help="Die ganze gefilterte Liste als Datei (.csv oder .xlsx).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Die Arbeitsliste: gefiltert, sortiert, mit Sachbearbeitung, Frist und Beträgen."""
    where = worklist.WorklistFilter(state=state, text=search, mine=mine, unassigned=unassigned,
                                    waiting_for_me=waiting)
    with session_scope(as_json) as session:
        actor = actor_for(session, who or "")
        if export is not None:
            fmt = exports.ExportFormat.xlsx if export.suffix.lower() == ".xlsx" \
                else exports.ExportFormat.csv
            export.write_bytes(exports.render(
                exports.worklist_table(session, actor, where, sort=sort, descending=desc), fmt))
            typer.echo(f"{export} geschrieben.")
            return
        page = worklist.worklist_page(session, actor, where, sort=sort, descending=desc,
                                      limit=limit)
        items = [worklist.worklist_item(row, "de") for row in page.items]
        if as_json:
            print_json({"items": items, "total": page.total})
            return
        show(table(["Aktenzeichen", "Status", "Träger", "Sachbearbeitung", "Frist", "Beantragt"],
                   [[i["reference"], i["state_label"], i["organisation"],
                     i["case_officer_name"] or "–", i["next_due_date"] or "–", i["requested"]]
                    for i in items]))
        typer.echo(f"{len(items)} von {page.total}")


@cases_app.command("take")
def take(reference: str, who: AsOpt) -> None:
    """Einen unbesetzten Fall übernehmen."""
    with session_scope() as session:
        record = assignment.take_case(session, reference, actor_for(session, who or ""))
        typer.echo(f"{reference}: übernommen ({record.trigger}).")


@cases_app.command("assign")
def assign(references: list[str], who: AsOpt,
           to: Annotated[str | None, typer.Option("--to", help="E-Mail der neuen "
                                                  "Sachbearbeitung; ohne: freigeben.")] = None,
           reason: Annotated[str | None, typer.Option("--reason")] = None) -> None:
    """Fälle zuweisen (Programmverwaltung oder Teamleitung), auch mehrere auf einmal."""
    with session_scope() as session:
        actor = actor_for(session, who or "")
        officer = None
        if to:
            user = session.exec(select(User).where(User.email == to.strip().lower())).first()
            if user is None:
                raise NotFound(f"Konto {to} existiert nicht.", f"Account {to} does not exist.",
                               field="to")
            officer = user.id
        records = assignment.assign_cases(session, references, officer, actor, reason=reason)
        typer.echo(f"{len(records)} Fall/Fälle zugewiesen.")


@cases_app.command("lead")
def lead(email: str, who: AsOpt,
         off: Annotated[bool, typer.Option("--off", help="Die Teamleitung entziehen.")] = False,
         ) -> None:
    """Ein Konto der Sachbearbeitung zur Teamleitung machen (darf Fälle zuweisen)."""
    with session_scope() as session:
        actor = actor_for(session, who or "")
        if actor.role.value != "admin":
            raise NotPermitted("Nur die Programmverwaltung vergibt die Teamleitung.",
                               "Only programme administration makes lead reviewers.")
        user = session.exec(select(User).where(User.email == email.strip().lower())).first()
        if user is None:
            raise NotFound(f"Konto {email} existiert nicht.", f"Account {email} does not exist.")
        user.lead = not off
        session.add(user)
        typer.echo(f"{email}: Teamleitung {'entzogen' if off else 'vergeben'}.")
