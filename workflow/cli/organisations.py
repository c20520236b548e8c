"""`quartier organisations list|confirm|reject|bank-account`: registrations of organisations (the
logic is workflow.onboarding; a confirmation emails the contact a link to choose a password) and
the organisation's bank account (workflow.bank_account)."""

from __future__ import annotations

from typing import Annotated

import typer

from workflow import bank_account as bank
from workflow import onboarding
from workflow.cli.common import (
    AsOpt,
    JsonOpt,
    actor_for,
    options,
    print_json,
    session_scope,
    show,
    table,
    when,
)

organisations_app = typer.Typer(help="Registrierte Organisationen anzeigen, bestätigen, "
                                "ablehnen.", no_args_is_help=True)

KeyArg = Annotated[str, typer.Argument(metavar="ORG", help="Id oder Name der Organisation.")]


@organisations_app.command("list")
def list_organisations(
    status: Annotated[str | None, typer.Option(
        "--status", metavar="STATUS", help="Nur diese: pending, confirmed oder rejected.")]
    = None,
    as_json: JsonOpt = False,
) -> None:
    """Organisationen mit Status, die älteste Registrierung zuerst."""
    with session_scope(as_json) as session:
        found = [onboarding.organisation_out(o, options.lang, onboarding.contact_of(session, o))
                 for o in onboarding.organisations(session, status)]
        if as_json:
            print_json(found)
            return
        show(table(["Id", "Name", "Rechtsform", "Ort", "Ansprechperson", "Status",
                    "Registriert"],
                   [[o["id"], o["name"], o["legal_form_label"], o["city"],
                     f"{o['contact_name']} <{o['contact_email']}>", o["status_label"],
                     when(o["registered_at"])] for o in found]))


@organisations_app.command("confirm")
def confirm(key: KeyArg, as_: AsOpt, as_json: JsonOpt = False) -> None:
    """Eine Registrierung bestätigen; die Ansprechperson erhält eine E-Mail mit einem Link zum
    Festlegen des Passworts."""
    with session_scope(as_json) as session:
        organisation = onboarding.confirm(session, actor_for(session, as_), key)
        if as_json:
            print_json(onboarding.organisation_out(organisation, options.lang))
            return
        typer.echo(f"Registrierung von „{organisation.name}“ bestätigt; "
                   f"{organisation.contact_email} erhält den Link zum Passwort.")


@organisations_app.command("reject")
def reject(key: KeyArg, as_: AsOpt,
           reason: Annotated[str, typer.Option("--reason", metavar="TEXT",
                                               help="Begründung (geht an die Ansprechperson).")],
           as_json: JsonOpt = False) -> None:
    """Eine Registrierung mit Begründung ablehnen; ihre Konten werden gesperrt."""
    with session_scope(as_json) as session:
        organisation = onboarding.reject(session, actor_for(session, as_), key, reason)
        if as_json:
            print_json(onboarding.organisation_out(organisation, options.lang))
            return
        typer.echo(f"Registrierung von „{organisation.name}“ abgelehnt.")


@organisations_app.command("bank-account")
def bank_account(
    as_: AsOpt,
    iban: Annotated[str, typer.Option("--iban", metavar="IBAN", help="IBAN des Kontos.")],
    holder: Annotated[str | None, typer.Option(
        "--holder", metavar="NAME", help="Kontoinhaber (ohne Angabe: die Organisation).")]
    = None,
    bic: Annotated[str | None, typer.Option("--bic", metavar="BIC", help="BIC (optional).")]
    = None,
    as_json: JsonOpt = False,
) -> None:
    """Die Bankverbindung der eigenen Organisation festlegen, auf die Zahlungen gehen (nur die
    Administratorin oder der Administrator der Organisation)."""
    with session_scope(as_json) as session:
        organisation = bank.set_bank_account(session, actor_for(session, as_), iban=iban,
                                             bic=bic, account_holder=holder, now=options.now)
        out = {"organisation": organisation.name, "iban": organisation.iban,
               "bic": organisation.bic, "account_holder": organisation.account_holder}
        if as_json:
            print_json(out)
            return
        typer.echo(f"Bankverbindung von „{organisation.name}“: {organisation.iban}"
                   f"{' (' + organisation.bic + ')' if organisation.bic else ''}.")
