"""`quartier serve` (the HTTP API on uvicorn) and `quartier users create|list|disable`."""

from __future__ import annotations

import copy
from typing import Annotated

import typer

users_app = typer.Typer(help="Benutzerkonten anlegen, anzeigen, sperren.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Maschinenlesbare Ausgabe.")]


def _log_config() -> dict:
    """Uvicorn's logging plus our request log (one line per request, so no uvicorn access log)."""
    from uvicorn.config import LOGGING_CONFIG
    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["quartier"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


def serve(
    host: Annotated[str, typer.Option(help="Adresse, an die der Server bindet.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Anzahl der Prozesse.")] = 1,
) -> None:
    """Start the HTTP API (OpenAPI at /docs, everything under /api/v1)."""
    import uvicorn

    from workflow.seed import load_programme_data
    from workflow.settings import InsecureSettings, check_settings, get_settings

    settings = get_settings()
    try:
        check_settings(settings)
    except InsecureSettings as refusal:
        typer.echo(str(refusal), err=True)
        raise typer.Exit(1) from None
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    shown = f"[{shown}]" if ":" in shown else shown
    typer.echo(f"Quartier-API: http://{shown}:{port}/docs (OpenAPI), Basis http://{shown}:{port}"
               "/api/v1")
    if settings.environment == "development":
        data = load_programme_data()
        typer.echo(f"Entwicklungsmodus. Demo-Konten (Passwort „{data['demo_password']}“, "
                   "nach `quartier seed`):")
        for org in data["organisations"]:
            for user in org["users"]:
                typer.echo(f"  carrier   {user['email']}  ({org['name']})")
        for user in data["staff"]:
            typer.echo(f"  {user['role']:<9} {user['email']}")
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, workers=workers,
                log_config=_log_config(), access_log=False, proxy_headers=False)


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Option(help="E-Mail-Adresse (Anmeldename).")],
    name: Annotated[str, typer.Option(help="Anzeigename.")],
    role: Annotated[str, typer.Option(help="carrier, reviewer, approver, admin, observer.")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True,
                                          confirmation_prompt=True, help="Passwort.")],
    organisation: Annotated[str | None, typer.Option(
        help="Organisation (Name oder Id), nur für Träger.")] = None,
    language: Annotated[str, typer.Option(help="de oder en.")] = "de",
) -> None:
    """Create an account."""
    from sqlmodel import select

    from workflow import users
    from workflow.cli import session_scope
    from workflow.errors import NotFound
    from workflow.models import Organisation

    with session_scope() as session:
        org_id = None
        if organisation:
            org = (session.get(Organisation, int(organisation)) if organisation.isdigit() else
                   session.exec(select(Organisation).where(Organisation.name == organisation))
                   .first())
            if org is None:
                raise NotFound(f"Organisation {organisation} nicht gefunden.",
                               f"Organisation {organisation} not found.")
            org_id = org.id
        user = users.create_user(session, email=email, name=name, role=role, password=password,
                                 organisation_id=org_id, language=language)
        typer.echo(f"Konto {user.email} ({user.role}) angelegt.")


@users_app.command("list")
def users_list(as_json: JsonOpt = False) -> None:
    """All accounts with role and status."""
    from workflow import users
    from workflow.cli import emit, session_scope, table

    with session_scope() as session:
        rows = [{"id": u.id, "email": u.email, "name": u.name, "role": u.role,
                 "organisation_id": u.organisation_id, "language": u.language,
                 "disabled": u.disabled} for u in users.list_users(session)]
        emit(rows, as_json, table(["Id", "E-Mail", "Name", "Rolle", "Org", "Status"], [
            [r["id"], r["email"], r["name"], r["role"], r["organisation_id"] or "",
             "gesperrt" if r["disabled"] else "aktiv"] for r in rows]))


@users_app.command("disable")
def users_disable(email: Annotated[str, typer.Argument(help="E-Mail-Adresse oder Id.")]) -> None:
    """Disable an account; its tokens stop working at once."""
    from workflow import users
    from workflow.cli import session_scope

    with session_scope() as session:
        user = users.disable_user(session, email)
        typer.echo(f"Konto {user.email} gesperrt.")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.add_typer(users_app, name="users")
