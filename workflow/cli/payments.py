"""`quartier payments`: finality of the approval notice (waiver of appeal, date of
notification) – the money after the approval (issue 16)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

import typer

from notifications import formatting
from workflow import deadlines, finality
from workflow.applications import load_application
from workflow.cli.common import (
    AsOpt,
    JsonOpt,
    RefArg,
    actor_for,
    operator,
    options,
    print_json,
    session_scope,
)
from workflow.errors import InvalidInput
from workflow.models import User
from workflow.presenters import application_out, history_entry

payments_app = typer.Typer(help="Bestandskraft, Mittelabrufe und Zahlungen nach der Bewilligung.",
                           no_args_is_help=True)


def _today() -> date:
    """Berlin's date of --now, or of the real clock."""
    return deadlines.local_date(options.now or datetime.now(UTC))


def _finality_line(app) -> str:  # noqa: ANN001
    f = finality.finality_of(app)
    if f.final_on is None:
        return "Kein Zuwendungsbescheid: nicht bestandskräftig."
    parts = [f"Bekanntgabe: {formatting.day(f.notified_on)}" if f.notified_on else "",
             f"Rechtsbehelfsfrist bis {formatting.day(f.appeal_ends_on)}"
             if f.appeal_ends_on else "",
             f"Rechtsbehelfsverzicht: {formatting.moment(f.appeal_waived_at)}"
             if f.appeal_waived_at else ""]
    state = "bestandskräftig" if f.is_final(_today()) else "noch nicht bestandskräftig"
    return "; ".join(p for p in parts if p) + f" – {state} ab {formatting.day(f.final_on)}."


def _print(session, record, as_json: bool, reference: str) -> None:  # noqa: ANN001
    app = load_application(session, record.application_id)
    if as_json:
        actor = session.get(User, record.actor_id) if record.actor_id else None
        print_json({"transition": history_entry(record, actor.name if actor else None),
                    "application": application_out(session, record.application_id,
                                                   options.lang)})
        return
    typer.echo(f"{reference}: {_finality_line(app)}")


@payments_app.command("finality")
def show_finality(reference: RefArg, as_user: AsOpt, as_json: JsonOpt = False) -> None:
    """Zeigen, ob und ab wann der Zuwendungsbescheid bestandskräftig ist."""
    with session_scope(as_json) as session:
        app = load_application(session, reference, actor_for(session, as_user))
        if as_json:
            print_json(finality.finality_of(app).as_dict(_today(), iso=True))
            return
        typer.echo(f"{reference}: {_finality_line(app)}")


@payments_app.command("waive-appeal")
def waive_appeal(reference: RefArg, as_user: AsOpt, as_json: JsonOpt = False) -> None:
    """Der Träger verzichtet auf Rechtsbehelfe: der Bescheid ist sofort bestandskräftig."""
    with session_scope(as_json) as session:
        record = finality.waive_appeal(session, reference, actor_for(session, as_user),
                                       now=options.now, operator=operator())
        _print(session, record, as_json, reference)


@payments_app.command("notification-date")
def set_notification_date(
    reference: RefArg,
    as_user: AsOpt,
    notified_on: Annotated[str, typer.Option(
        "--on", metavar="JJJJ-MM-TT", help="Tag der Bekanntgabe des Zuwendungsbescheids.")],
    reason: Annotated[str | None, typer.Option(
        "--reason", metavar="TEXT", help="Begründung (z. B. Zustellung laut Rückschein).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Das Bekanntgabedatum des Zuwendungsbescheids festhalten (Sachbearbeitung,
    Zeichnungsbefugte); die Rechtsbehelfsfrist von einem Monat läuft ab diesem Tag."""
    with session_scope(as_json) as session:
        try:
            day = date.fromisoformat(notified_on)
        except ValueError:
            raise InvalidInput(f"--on: ein Datum JJJJ-MM-TT erwartet (nicht „{notified_on}“).",
                               f"--on: a date YYYY-MM-DD expected (not '{notified_on}').",
                               field="notified_on") from None
        record = finality.set_notification_date(session, reference,
                                                actor_for(session, as_user), notified_on=day,
                                                reason=reason, now=options.now,
                                                operator=operator())
        _print(session, record, as_json, reference)
