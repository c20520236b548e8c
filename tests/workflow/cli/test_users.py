"""`quartier users …` and `quartier seed` on a real SQLite file: passwords from the hidden
prompt or stdin, never argv; demo accounts only in development."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
from click.testing import Result
from sqlmodel import func, select
from typer.testing import CliRunner

from workflow import users
from workflow.cli import app
from workflow.db import make_engine, unit_of_work
from workflow.models import Organisation, Programme, User
from workflow.settings import get_settings

PASSWORD = "Laternen-leuchten-im-Nebel-4"


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, sqlite_url: str) -> Iterator[Callable[..., Result]]:
    """`quartier ARGS` in this process against a migrated SQLite file, with typed input."""
    monkeypatch.setenv("QUARTIER_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("QUARTIER_ENVIRONMENT", "production")
    get_settings.cache_clear()
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None, ok: bool = True) -> Result:
        result = runner.invoke(app, list(args), input=input)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    invoke("db", "upgrade")
    yield invoke
    get_settings.cache_clear()


def count(url: str, model: type) -> int:
    engine = make_engine(url)
    try:
        with unit_of_work(engine) as session:
            return session.exec(select(func.count()).select_from(model)).one()
    finally:
        engine.dispose()


def test_seed_outside_development_loads_the_programme_and_no_account(cli, sqlite_url) -> None:
    assert "Keine Konten angelegt" in cli("seed").output
    assert count(sqlite_url, Programme) == 1
    assert count(sqlite_url, User) == count(sqlite_url, Organisation) == 0
    refused = cli("seed", "--demo", ok=False)
    assert refused.exit_code == 1 and "Entwicklungsumgebung" in refused.output


def test_seed_with_no_demo_in_development_creates_no_account(cli, sqlite_url,
                                                            monkeypatch) -> None:
    monkeypatch.setenv("QUARTIER_ENVIRONMENT", "development")
    get_settings.cache_clear()
    cli("seed", "--no-demo")
    assert count(sqlite_url, User) == 0


def test_the_first_admin_from_the_hidden_prompt(cli, sqlite_url) -> None:
    cli("seed")
    mismatch = cli("users", "create", "--role", "admin", "--email", "chefin@mags.example",
                   "--name", "Chefin", input=f"{PASSWORD}\nanders\n{PASSWORD}\n{PASSWORD}\n")
    assert "Passwort wiederholen" in mismatch.output and PASSWORD not in mismatch.output
    engine = make_engine(sqlite_url)
    with unit_of_work(engine) as session:
        assert users.authenticate(session, "chefin@mags.example", PASSWORD).id
    engine.dispose()
    argv = cli("users", "create", "--role", "admin", "--email", "x@mags.example", "--name", "X",
               "--password", PASSWORD, ok=False)
    assert argv.exit_code == 2


def test_password_enable_and_the_last_admin(cli, sqlite_url) -> None:
    cli("users", "create", "--role", "admin", "--email", "a@mags.example", "--name", "A",
        "--password-stdin", input=PASSWORD + "\n")
    cli("users", "create", "--role", "reviewer", "--email", "r@mags.example", "--name", "R",
        "--password-stdin", input=PASSWORD + "\n")
    short = cli("users", "password", "r@mags.example", "--password-stdin", input="kurz\n",
                ok=False)
    assert short.exit_code == 1 and "mindestens 12 Zeichen" in short.output
    assert "at least 12 characters" in short.output
    done = cli("users", "password", "r@mags.example", "--temporary", "--password-stdin",
               input="Neues-Passwort-für-Rita-8\n")
    assert "vorläufig" in done.output
    engine = make_engine(sqlite_url)
    with unit_of_work(engine) as session:
        login = users.authenticate(session, "r@mags.example", "Neues-Passwort-für-Rita-8")
        assert login.must_change_password and login.token_version == 1
    engine.dispose()
    last = cli("users", "disable", "a@mags.example", ok=False)
    assert last.exit_code == 1 and "letzte aktive" in last.output
    cli("users", "disable", "r@mags.example")
    enabled = json.loads(cli("users", "enable", "r@mags.example", "--json").output)
    assert enabled["disabled"] is False
