"""`quartier db upgrade` and `quartier seed`: the schema and the ZiQ programme (with demo accounts
and applications in development only)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from workflow.cli.common import fail, options, refusals, session_scope
from workflow.errors import Conflict, InvalidInput
from workflow.settings import get_settings

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
    demo: Annotated[bool | None, typer.Option(
        "--demo/--no-demo", help="Demo-Träger und -Konten (mit dem öffentlichen Demo-Passwort) "
        "und Demo-Anträge anlegen; Standard: nur bei QUARTIER_ENVIRONMENT=development.")]
    = None,
    if_empty: Annotated[bool, typer.Option(
        "--if-empty", help="Nichts tun, wenn ZiQ schon angelegt ist.")] = False,
) -> None:
    """Das ZiQ-Programm mit Förderaufruf anlegen; in der Entwicklungsumgebung auch Demo-Träger,
    Demo-Konten und Demo-Anträge. Sonst gibt es danach kein Konto: das erste mit
    `quartier users create --role admin …` anlegen."""
    from workflow import seed as seeding
    from workflow.bescheide import without_pdfs

    environment = get_settings().environment
    if demo is None:
        demo = environment == "development"
    elif demo and environment != "development":
        fail(InvalidInput(
            f"--demo: Demo-Konten mit öffentlichem Passwort gibt es nur in der "
            f"Entwicklungsumgebung (QUARTIER_ENVIRONMENT={environment}).",
            f"--demo: demo accounts with a public password exist only in development "
            f"(QUARTIER_ENVIRONMENT={environment}).", field="demo"))
    # Bulk historical demo data: its firings file no notice PDFs (seconds instead of minutes).
    with without_pdfs(), session_scope() as session:
        try:
            call = seeding.seed(session, options.now or datetime.now(UTC),
                                demo_applications=demo, people=demo)
        except RuntimeError:
            if if_empty:
                typer.echo("ZiQ ist bereits angelegt.")
                return
            raise Conflict("ZiQ ist bereits angelegt.", "ZiQ is already seeded.") from None
        typer.echo(f"Programm angelegt: {call.title} ({call.code}).")
        if not demo:
            typer.echo("Keine Konten angelegt. Das erste Konto: quartier users create --role "
                       "admin --email … --name … (das Passwort wird abgefragt).")
