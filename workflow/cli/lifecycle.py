"""`quartier workflow diagram|table` (the lifecycle from states/) and `quartier simulate`."""

from __future__ import annotations

from typing import Annotated

import typer

from states import TRANSITIONS
from states.diagram import mermaid
from workflow.cli.common import JsonOpt, options, parse_day, print_json, refusals, show, table

workflow_app = typer.Typer(help="Der Lebenszyklus eines Antrags.", no_args_is_help=True)


@workflow_app.command("diagram")
def diagram(lang: Annotated[str | None, typer.Option(
        "--lang", metavar="SPRACHE", help="de oder en (Standard: die Sprache von quartier).")]
        = None) -> None:
    """Der Lebenszyklus als Mermaid-Zustandsdiagramm, erzeugt aus der Übergangstabelle."""
    typer.echo(mermaid(lang or options.lang), nl=False)


@workflow_app.command("table")
def transition_table(as_json: JsonOpt = False) -> None:
    """Die Übergangstabelle: Aktion, Von, Nach, Rollen, Voraussetzungen, Fristen, E-Mail."""
    rows = [{"trigger": t.trigger, "sources": [s.value for s in t.sources],
             "dest": t.dest.value if t.dest else None,
             "roles": sorted(r.value for r in t.roles), "guards": [g.value for g in t.guards],
             "opens": [d.value for d in t.opens], "closes": [d.value for d in t.closes],
             "email": t.email} for t in TRANSITIONS]
    if as_json:
        print_json(rows)
        return
    show(table(["Aktion", "Von", "Nach", "Rollen", "E-Mail"],
               [[r["trigger"], ", ".join(r["sources"]), r["dest"] or "(bleibt)",
                 ", ".join(r["roles"]), r["email"] or ""] for r in rows]))


def simulate(
    until: Annotated[str | None, typer.Option(
        "--until", metavar="JJJJ-MM-TT", help="Bis zu diesem Tag.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Das ZiQ-Programm auf einer simulierten Uhr durchspielen und die Zeitleiste zeigen."""
    from workflow.bescheide import without_pdfs
    from workflow.simulate import simulate as run

    with refusals(as_json):
        last = parse_day(until, "--until")
    # A throwaway in-memory database: its notices would only leave unnamed files in the store.
    with without_pdfs():
        if as_json:
            print_json([entry.__dict__ for entry in run(last)])
            return
        run(last, on_entry=lambda entry: typer.echo(entry.line()))
