"""`quartier users create|list|disable`: accounts (the logic is workflow.users)."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlmodel import Session, select

from states import ROLE_LABELS, Role
from workflow import users
from workflow.cli.common import JsonOpt, options, print_json, session_scope, show, table
from workflow.errors import NotFound
from workflow.inputs import is_number
from workflow.models import Organisation
from workflow.presenters import user_out

users_app = typer.Typer(help="Benutzerkonten anlegen, anzeigen, sperren.", no_args_is_help=True)


def _organisation_id(session: Session, key: str | None) -> int | None:
    if not key:
        return None
    org = (session.get(Organisation, int(key)) if is_number(key) else
           session.exec(select(Organisation).where(Organisation.name == key)).first())
    if org is None:
        raise NotFound(f"Organisation {key} wurde nicht gefunden.",
                       f"Organisation {key} was not found.", field="organisation")
    return org.id


@users_app.command("create")
def create(
    email: Annotated[str, typer.Option(
        "--email", metavar="EMAIL", help="E-Mail-Adresse (Anmeldename).")],
    name: Annotated[str, typer.Option("--name", metavar="NAME", help="Anzeigename.")],
    role: Annotated[str, typer.Option(
        "--role", metavar="ROLLE", help=f"Eine von: {', '.join(users.ROLES)}.")],
    password: Annotated[str, typer.Option(
        "--password", metavar="PASSWORT", prompt="Passwort", hide_input=True,
        confirmation_prompt="Passwort wiederholen",
        help="Passwort (mindestens 8 Zeichen; ohne die Option wird gefragt).")],
    organisation: Annotated[str | None, typer.Option(
        "--organisation", metavar="ORG", help="Organisation (Name oder Id), nur für Träger.")]
    = None,
    language: Annotated[str, typer.Option(
        "--language", metavar="SPRACHE", help="de oder en: Sprache der E-Mails.")] = "de",
    as_json: JsonOpt = False,
) -> None:
    """Ein Konto anlegen."""
    with session_scope(as_json) as session:
        user = users.create_user(session, email=email, name=name, role=role, password=password,
                                 organisation_id=_organisation_id(session, organisation),
                                 language=language)
        if as_json:
            print_json(user_out(user, options.lang))
            return
        typer.echo(f"Konto {user.email} ({user.role}) angelegt.")


@users_app.command("list")
def list_accounts(as_json: JsonOpt = False) -> None:
    """Alle Konten mit Rolle und Status."""
    with session_scope(as_json) as session:
        accounts = [user_out(u, options.lang) for u in users.list_users(session)]
        if as_json:
            print_json(accounts)
            return
        show(table(["Id", "E-Mail", "Name", "Rolle", "Organisation", "Status"],
                   [[u["id"], u["email"], u["name"], ROLE_LABELS[Role(u["role"])].de,
                     u["organisation_id"], "gesperrt" if u["disabled"] else "aktiv"]
                    for u in accounts]))


@users_app.command("disable")
def disable(
    key: Annotated[str, typer.Argument(metavar="EMAIL|ID", help="E-Mail-Adresse oder Id.")],
    as_json: JsonOpt = False,
) -> None:
    """Ein Konto sperren; seine Anmeldungen gelten sofort nicht mehr."""
    with session_scope(as_json) as session:
        user = users.disable_user(session, key)
        if as_json:
            print_json(user_out(user, options.lang))
            return
        typer.echo(f"Konto {user.email} gesperrt.")
