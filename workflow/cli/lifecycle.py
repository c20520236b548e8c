"""`quartier workflow diagram|table` (the lifecycle from states/) and `quartier simulate`."""

from __future__ import annotations

from typing import Annotated

import typer

from states import STATE_LABELS, TRANSITIONS, State
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
    """Ein Programmjahr des ZiQ-Aufrufs 2021/2022 (etwa 150 Anträge) auf einer simulierten Uhr
    durchspielen: Zeitleiste, dann eine Zusammenfassung. Der Fortschrittsbalken erscheint nur
    auf einem Terminal (stderr)."""
    import sys

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from notifications.formatting import money
    from workflow.simulate import simulate as run

    with refusals(as_json):
        last = parse_day(until, "--until")
    progress = Progress(TextColumn("Simulation"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("Tage"), console=Console(stderr=True), transient=True,
                        disable=not sys.stderr.isatty())
    task = progress.add_task("simulate", total=None)

    def advance(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    with progress:
        if as_json:
            print_json(run(last, on_day=advance).as_dict())
            return
        result = run(last, on_entry=lambda entry: typer.echo(entry.line()), on_day=advance)
    summary = result.summary
    labels = {s.value: s for s in State}
    show("", table(["Status", "Anträge"], [
        [STATE_LABELS[labels[state]].de, str(count)]
        for state, count in summary["states"].items()] + [["Zusammen",
                                                           str(summary["applications"])]],
        title="Anträge nach Status"),
        table(["Mittel", "Betrag"], [
            ["gebunden (Bewilligungen)", money(summary["committed_cents"])],
            ["freigegeben (Rückflüsse)", money(summary["released_cents"])],
            ["zurückgefordert (Widerruf)", money(summary["repaid_cents"])]],
            title="Mittel"),
        table(["Stufe", "Erinnerungen"], [
            [STEP_NAMES.get(step, step), str(count)]
            for step, count in summary["reminders"].items()], title="Erinnerungen nach Stufe"))


STEP_NAMES = {"before_28": "28 Tage vorher", "before_7": "7 Tage vorher",
              "due": "am Fälligkeitstag", "overdue": "Mahnung (Nachfrist)",
              "escalation": "Eskalation an die Sachbearbeitung"}
