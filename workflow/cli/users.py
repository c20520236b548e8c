"""`quartier users create|list|password|disable|enable`: accounts (the logic is workflow.users).
Passwords come from a hidden prompt or from standard input (`--password-stdin`), never from the
command line, where other users of the machine and the shell history would see them."""

from __future__ import annotations

import sys
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

users_app = typer.Typer(help="Benutzerkonten anlegen, anzeigen, Passwort setzen, sperren, "
                        "entsperren.", no_args_is_help=True)

PasswordStdinOpt = Annotated[bool, typer.Option(
    "--password-stdin", help="Das Passwort aus der ersten Zeile der Standardeingabe lesen "
    "(statt es verdeckt abzufragen).")]


def read_password(from_stdin: bool) -> str:
    """The new password: the first line of standard input, or asked twice without echo."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("Passwort (mindestens 12 Zeichen)", hide_input=True,
                        confirmation_prompt="Passwort wiederholen")


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
    organisation: Annotated[str | None, typer.Option(
        "--organisation", metavar="ORG", help="Organisation (Name oder Id), nur für Träger.")]
    = None,
    language: Annotated[str, typer.Option(
        "--language", metavar="SPRACHE", help="de oder en: Sprache der E-Mails.")] = "de",
    password_stdin: PasswordStdinOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Ein Konto anlegen (so auch das erste der Programmverwaltung: --role admin). Das Passwort
    wird verdeckt abgefragt (oder mit --password-stdin gelesen): mindestens 12 Zeichen, kein
    häufiges."""
    password = read_password(password_stdin)
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
    """Ein Konto sperren; seine Anmeldungen gelten sofort nicht mehr (nicht das letzte aktive
    Konto der Programmverwaltung)."""
    with session_scope(as_json) as session:
        user = users.disable_user(session, key)
        if as_json:
            print_json(user_out(user, options.lang))
            return
        typer.echo(f"Konto {user.email} gesperrt.")


@users_app.command("enable")
def enable(
    key: Annotated[str, typer.Argument(metavar="EMAIL|ID", help="E-Mail-Adresse oder Id.")],
    as_json: JsonOpt = False,
) -> None:
    """Ein gesperrtes Konto wieder freigeben."""
    with session_scope(as_json) as session:
        user = users.enable_user(session, key)
        if as_json:
            print_json(user_out(user, options.lang))
            return
        typer.echo(f"Konto {user.email} freigegeben.")


@users_app.command("password")
def password(
    key: Annotated[str, typer.Argument(metavar="EMAIL|ID", help="E-Mail-Adresse oder Id.")],
    temporary: Annotated[bool, typer.Option(
        "--temporary", help="Vorläufig: das Konto muss es bei der nächsten Anmeldung ändern.")]
    = False,
    password_stdin: PasswordStdinOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Ein neues Passwort für ein Konto setzen (verdeckt abgefragt oder mit --password-stdin);
    alle bisherigen Anmeldungen des Kontos gelten nicht mehr."""
    new = read_password(password_stdin)
    with session_scope(as_json) as session:
        user, _ = users.set_password(session, key, new, must_change=temporary)
        if as_json:
            print_json(user_out(user, options.lang))
            return
        typer.echo(f"Passwort für {user.email} gesetzt"
                   + (" (vorläufig: bei der nächsten Anmeldung zu ändern)." if temporary else "."))
