"""`quartier payments`: finality of the approval notice (waiver of appeal, date of
notification) – the money after the approval (issue 16)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import select

from notifications import formatting
from workflow import deadlines, finality, payments, sepa
from workflow.applications import load_application
from workflow.cli.common import (
    AsOpt,
    JsonOpt,
    RefArg,
    actor_for,
    euro,
    operator,
    options,
    parse_day,
    print_json,
    right,
    session_scope,
    show,
    table,
    when,
)
from workflow.errors import InvalidInput
from workflow.models import Application, User
from workflow.payment_tables import FundsCall, Payment
from workflow.presenters import application_out, history_entry
from workflow.settings import get_settings

payments_app = typer.Typer(help="Bestandskraft, Mittelabrufe, Zahlungen und SEPA-Dateien nach der "
                                "Bewilligung.",
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


# ---------------------------------------------------------------- calls of funds and payments

CallIdArg = Annotated[int, typer.Argument(metavar="ABRUF", help="Nummer des Mittelabrufs.")]


def _call_line(session, call, payment) -> str:  # noqa: ANN001
    reference = session.get(Application, call.application_id).reference
    out = payments.call_out(session, call, payment, reference=reference)
    line = (f"Mittelabruf {call.id} ({reference}, {call.year}): "
            f"{euro(call.amount_cents)} – {out['status_label']}")
    if out["checked_by"]:
        line += f"; sachlich richtig: {out['checked_by']} am {when(call.checked_at)}"
    if payment is not None:
        line += (f"; Auszahlung angeordnet von {out['ordered_by']}, Valuta "
                 f"{when(payment.value_date)} an {payment.payee_name} ({payment.iban})")
        if payment.sepa_export_id:
            line += f", SEPA-Datei {payment.sepa_export_id}"
    return line


def _print_call(session, call, as_json: bool) -> None:  # noqa: ANN001
    payment = session.exec(select(Payment).where(Payment.funds_call_id == call.id)).first()
    if as_json:
        app = load_application(session, call.application_id)
        print_json(payments.call_out(session, call, payment, options.lang, app.reference))
        return
    typer.echo(_call_line(session, call, payment))


@payments_app.command("call")
def call_funds(
    reference: RefArg,
    as_user: AsOpt,
    year: Annotated[int, typer.Option("--year", metavar="JAHR", help="Haushaltsjahr.")],
    amount: Annotated[str, typer.Option("--amount", metavar="EURO",
                                        help="Betrag, z. B. 30000 oder 30.000,00.")],
    needed: Annotated[bool, typer.Option(
        "--needed-within-two-months/--not-needed-within-two-months",
        help="Bestätigung: die Mittel werden innerhalb von zwei Monaten nach der Auszahlung "
             "für fällige Zahlungen benötigt (ANBest-P Nr. 1.4).")] = False,
    purpose: Annotated[str, typer.Option("--purpose", metavar="TEXT",
                                         help="Wofür die Mittel benötigt werden.")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Mittel eines bewilligten Haushaltsjahres abrufen (Träger; erst nach Bestandskraft)."""
    with session_scope(as_json) as session:
        call = payments.request_call(session, reference, actor_for(session, as_user),
                                     year=year, amount=amount,
                                     needed_within_two_months=needed, purpose=purpose,
                                     now=options.now, operator=operator())
        _print_call(session, call, as_json)


@payments_app.command("check")
def check_call(
    call_id: CallIdArg,
    as_user: AsOpt,
    note: Annotated[str | None, typer.Option("--note", metavar="TEXT", help="Vermerk.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Einen Mittelabruf sachlich richtig zeichnen (Sachbearbeitung, Zeichnungsbefugte)."""
    with session_scope(as_json) as session:
        call = payments.check_call(session, call_id, actor_for(session, as_user), note=note,
                                   now=options.now, operator=operator())
        _print_call(session, call, as_json)


@payments_app.command("order")
def order_payment(
    call_id: CallIdArg,
    as_user: AsOpt,
    value_date: Annotated[str | None, typer.Option(
        "--value-date", metavar="JJJJ-MM-TT",
        help="Valutadatum (ohne Angabe: der nächste Arbeitstag).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Die Auszahlung eines geprüften Mittelabrufs anordnen (eine zweite Person, nicht wer
    sachlich richtig gezeichnet hat)."""
    with session_scope(as_json) as session:
        day = parse_day(value_date, "--value-date")
        payment = payments.order_payment(session, call_id, actor_for(session, as_user),
                                         value_date=day, now=options.now, operator=operator())
        _print_call(session, session.get(FundsCall, payment.funds_call_id), as_json)


@payments_app.command("calls")
def list_calls(reference: RefArg, as_user: AsOpt, as_json: JsonOpt = False) -> None:
    """Die Mittelabrufe eines Antrags und je Haushaltsjahr bewilligt, ausgezahlt, abrufbar."""
    with session_scope(as_json) as session:
        app, calls = payments.calls_of(session, reference, actor_for(session, as_user))
        if as_json:
            print_json({"reference": app.reference, "years": payments.money_of(session, app),
                        "items": [payments.call_out(session, c, p, options.lang, app.reference)
                                  for c, p in calls]})
            return
        rows = [[y["year"], y["committed"], y["paid"], y["called_open"], y["callable"]]
                for y in payments.money_of(session, app)]
        show(table(["Jahr", right("Gebunden"), right("Ausgezahlt"), right("Offen abgerufen"),
                    right("Abrufbar")], rows),
             *(_call_line(session, c, p) for c, p in calls))


@payments_app.command("sepa")
def sepa_export(
    as_user: AsOpt,
    output: Annotated[Path, typer.Option("--output", "-o", metavar="DATEI",
                                         help="Wohin die pain.001-Datei geschrieben wird.")],
    as_json: JsonOpt = False,
) -> None:
    """Alle angeordneten, noch nicht ausgegebenen Zahlungen als SEPA-Überweisungsdatei
    (pain.001.001.03, gegen das XSD geprüft) ausgeben; die Zahlungen gelten dann als
    ausgegeben. Zahlstelle: QUARTIER_PAYING_OFFICE_NAME, _IBAN, _BIC."""
    with session_scope(as_json) as session:
        record = sepa.export(session, actor_for(session, as_user),
                             sepa.PayingOffice.of(get_settings()), now=options.now)
        output.write_text(record.xml, encoding="utf-8")
        summary = {"id": record.id, "message_id": record.message_id,
                   "payment_count": record.payment_count,
                   "total": payments.euros_text(record.total_cents), "file": str(output)}
        if as_json:
            print_json(summary)
            return
        typer.echo(f"SEPA-Datei {record.id} ({record.message_id}): {record.payment_count} "
                   f"Zahlung(en), zusammen {euro(record.total_cents)}, geschrieben nach {output}.")
