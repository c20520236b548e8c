"""`quartier budget [change]` and `quartier funding-stop declare|lift`."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from sqlmodel import Session, select

from workflow import budget, payments, programme_admin
from workflow.cli.common import (
    AsOpt,
    CallOpt,
    JsonOpt,
    actor_for,
    euro,
    options,
    print_json,
    right,
    session_scope,
    show,
    table,
    when,
)
from workflow.errors import NotFound
from workflow.models import Call
from workflow.presenters import call_status, euros

budget_app = typer.Typer(help="Budget, gebundene und verfügbare Mittel, Fördermittelstopp.",
                         invoke_without_command=True)
stop_app = typer.Typer(help="Fördermittelstopp erklären oder aufheben.", no_args_is_help=True)


def find_call(session: Session, code: str | None) -> Call:
    """The call of `--call CALL`, or the first one."""
    query = select(Call).order_by(Call.id).execution_options(populate_existing=True)
    if code:
        query = query.where(Call.code == code)
    call = session.exec(query).first()
    if call is None:
        raise NotFound(f"Förderaufruf {code or ''} wurde nicht gefunden.",
                       f"Call {code or ''} was not found.", field="call")
    return call


def budget_out(session: Session, call: Call) -> dict[str, Any]:
    """The API's CallOut (GET /calls/{code}) and the budget lines per year and source."""
    return {**call_status(session, call, options.now),
            "lines": [{"year": ln["year"], "source": ln["source"],
                       "budget": euros(ln["budget_cents"]),
                       "committed": euros(ln["committed_cents"]),
                       "available": euros(ln["budget_cents"] - ln["committed_cents"]),
                       "paid": euros(ln["paid_cents"]), "repaid": euros(ln["repaid_cents"])}
                      for ln in payments.ledger_by_line(session, call.id)]}


@budget_app.callback()
def budget_show(ctx: typer.Context, call: CallOpt = None, as_json: JsonOpt = False) -> None:
    """Budget, gebundene, verfügbare, ausgezahlte und zurückgezahlte Mittel je Jahr und Quelle;
    der Fördermittelstopp."""
    if ctx.invoked_subcommand:
        return
    with session_scope(as_json) as session:
        found = find_call(session, call)
        if as_json:
            print_json(budget_out(session, found))
            return
        lines = payments.ledger_by_line(session, found.id)
        rows = [[ln["year"], ln["source"], euro(ln["budget_cents"]), euro(ln["committed_cents"]),
                 euro(ln["budget_cents"] - ln["committed_cents"]), euro(ln["paid_cents"]),
                 euro(ln["repaid_cents"])] for ln in lines]
        rows += [[year, "Summe", euro(t["budget_cents"]), euro(t["committed_cents"]),
                  euro(t["budget_cents"] - t["committed_cents"]), euro(t["paid_cents"]),
                  euro(t["repaid_cents"])]
                 for year, t in payments.totals_by_year(lines).items()]
        status = (f"Fördermittelstopp in Kraft seit {when(found.stop_since)} "
                  f"({found.stop_kind}): {found.stop_reason}" if found.stop_kind
                  else "Kein Fördermittelstopp.")
        show(f"{found.title} ({found.code})",
             table(["Jahr", "Quelle", right("Budget"), right("Gebunden"), right("Verfügbar"),
                    right("Ausgezahlt"), right("Zurückgezahlt")], rows),
             status)


@budget_app.command("change")
def change(
    as_user: AsOpt,
    year: Annotated[int, typer.Option("--year", metavar="JAHR", help="Haushaltsjahr.")],
    source: Annotated[str, typer.Option(
        "--source", metavar="QUELLE", help="Mittelquelle, z. B. ESF.")],
    delta: Annotated[str, typer.Option(
        "--delta", metavar="EURO", help="Änderung in Euro, z. B. 100000 oder -50000.")],
    note: Annotated[str, typer.Option("--note", metavar="TEXT", help="Vermerk im Hauptbuch.")]
    = "Budgetänderung",
    call: CallOpt = None,
) -> None:
    """Eine Budgetzeile erhöhen oder kürzen (Programmverwaltung)."""
    with session_scope() as session:
        cents = budget.parse_signed_euros(delta)
        programme_admin.change_budget(session, find_call(session, call), year, source, cents,
                                      actor_for(session, as_user), note, now=options.now)
        typer.echo(f"Budget {year}/{source} um {euro(cents)} geändert.")


@stop_app.command("declare")
def declare(
    as_user: AsOpt,
    reason: Annotated[str, typer.Option("--reason", metavar="TEXT", help="Begründung.")],
    call: CallOpt = None,
) -> None:
    """Einen Fördermittelstopp für einen Förderaufruf erklären (Programmverwaltung)."""
    with session_scope() as session:
        found = programme_admin.declare_funding_stop(
            session, find_call(session, call), reason, actor_for(session, as_user),
            now=options.now)
        typer.echo(f"Fördermittelstopp für {found.code} seit {when(found.stop_since)}.")


@stop_app.command("lift")
def lift(as_user: AsOpt, call: CallOpt = None) -> None:
    """Einen Fördermittelstopp aufheben (Programmverwaltung)."""
    with session_scope() as session:
        found = programme_admin.lift_funding_stop(session, find_call(session, call),
                                                  actor_for(session, as_user), now=options.now)
        typer.echo(f"Fördermittelstopp für {found.code} aufgehoben." if not found.stop_kind
                   else "Mittel reichen nicht: der automatische Stopp bleibt in Kraft "
                   f"({found.stop_reason}).")
