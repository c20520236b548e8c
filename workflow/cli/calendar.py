"""`quartier calendar url ORG`: the secret iCalendar address of an organisation's deadlines."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlmodel import Session, select

from workflow import calendar
from workflow.cli.common import JsonOpt, print_json, session_scope
from workflow.errors import NotFound
from workflow.inputs import is_number
from workflow.models import Organisation, User

calendar_app = typer.Typer(help="Fristenkalender (iCalendar) der Träger.", no_args_is_help=True)


def find_organisation(session: Session, key: str) -> Organisation:
    """An organisation by id, by name, or by the email of one of its users."""
    org = session.get(Organisation, int(key)) if is_number(key) else None
    if org is None and "@" in key:
        user = session.exec(select(User).where(User.email == key.strip().lower())).first()
        if user is not None and user.organisation_id:
            org = session.get(Organisation, user.organisation_id)
    if org is None:
        org = session.exec(select(Organisation).where(Organisation.name == key)).first()
    if org is None:
        raise NotFound(f"Träger „{key}“ nicht gefunden (Id, Name oder E-Mail eines Nutzers).",
                       f"Organisation '{key}' not found (id, name or a user's email).")
    return org


@calendar_app.command("url")
def url(
    org: Annotated[str, typer.Argument(
        metavar="ORG", help="Träger: Id, Name oder E-Mail eines seiner Konten.")],
    base_url: Annotated[str, typer.Option(
        "--base-url", metavar="URL", help="Öffentliche Adresse der API.")]
    = "http://127.0.0.1:8000",
    rotate: Annotated[bool, typer.Option(
        "--rotate", help="Eine neue geheime Adresse erzeugen (die alte gilt nicht mehr).")]
    = False,
    as_json: JsonOpt = False,
) -> None:
    """Die geheime iCalendar-Adresse der offenen Fristen eines Trägers."""
    with session_scope(as_json) as session:
        organisation = find_organisation(session, org)
        token = (calendar.rotate_token(session, organisation) if rotate
                 else calendar.ensure_token(session, organisation))
        address = base_url.rstrip("/") + calendar.feed_path(token)
        if as_json:
            print_json({"organisation": organisation.name, "url": address})
            return
        typer.echo(address)
