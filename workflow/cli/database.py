"""`quartier db upgrade` and `quartier seed`: the schema and the ZiQ programme with demo data."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from workflow.cli.common import options, refusals, session_scope
from workflow.errors import Conflict

db_app = typer.Typer(help="Datenbank (Migrationen).", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade(revision: Annotated[str, typer.Argument(
        metavar="REVISION", help="Ziel der Migration (Standard: die neueste).")] = "head") -> None:
    """Die Datenbank (QUARTIER_DATABASE_URL) auf den neuesten Stand migrieren."""
    from workflow import migrate

    with refusals():
        migrate.upgrade(None, revision)
    typer.echo("Datenbank ist auf dem neuesten Stand.")


def seed(
    demo: Annotated[bool, typer.Option("--demo/--no-demo", help="Demo-Anträge anlegen.")] = True,
    if_empty: Annotated[bool, typer.Option(
        "--if-empty", help="Nichts tun, wenn ZiQ schon angelegt ist.")] = False,
) -> None:
    """Das ZiQ-Programm, Demo-Träger, Mitarbeitende und Demo-Anträge anlegen."""
    from workflow import seed as seeding

    with session_scope() as session:
        try:
            call = seeding.seed(session, options.now or datetime.now(UTC),
                                demo_applications=demo)
        except RuntimeError:
            if if_empty:
                typer.echo("ZiQ ist bereits angelegt.")
                return
            raise Conflict("ZiQ ist bereits angelegt.", "ZiQ is already seeded.") from None
        typer.echo(f"Programm angelegt: {call.title} ({call.code}).")
