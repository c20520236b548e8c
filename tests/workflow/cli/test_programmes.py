"""`quartier programme …`, `quartier call …` and `quartier audit` on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
from click.testing import Result
from sqlmodel import func, select
from typer.testing import CliRunner

from tests.factories import application_in, make_world
from tests.workflow.helpers import snapshot
from workflow.cli import app
from workflow.db import make_engine, unit_of_work
from workflow.models import AdminAudit
from workflow.settings import get_settings

ADMIN = "admin@example.org"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request) -> str:
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, db_url: str) -> Iterator[Callable[..., Result]]:
    """`quartier ARGS` in this process against a migrated database with the test world."""
    monkeypatch.setenv("QUARTIER_DATABASE_URL", db_url)
    monkeypatch.setenv("QUARTIER_ENVIRONMENT", "development")
    get_settings.cache_clear()
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True) -> Result:
        result = runner.invoke(app, list(args))
        if ok:
            assert result.exit_code == 0, result.output
        return result

    invoke("db", "upgrade")
    engine = make_engine(db_url)
    with unit_of_work(engine) as session:
        invoke.world = make_world(session)  # type: ignore[attr-defined]
    engine.dispose()
    yield invoke
    get_settings.cache_clear()


def _audit_count(url: str) -> int:
    engine = make_engine(url)
    try:
        with unit_of_work(engine) as session:
            return session.exec(select(func.count()).select_from(AdminAudit)).one()
    finally:
        engine.dispose()


def _snapshot(url: str):
    engine = make_engine(url)
    try:
        return snapshot(engine)
    finally:
        engine.dispose()


def test_programme_and_call_from_the_command_line(cli, db_url) -> None:
    made = cli("programme", "create", "--as", ADMIN, "--code", "KiTa", "--name",
               "Kita-Sozialarbeit", "--config", '{"reminders": [-7, 0]}', "--module",
               "K1=Beratung", "--json")
    assert json.loads(made.stdout)["modules"] == [{"code": "K1", "name": "Beratung"}]
    cli("programme", "add-module", "KiTa", "--as", ADMIN, "--code", "K2", "--name", "Elterncafé")
    cli("programme", "rename-module", "KiTa", "K2", "--as", ADMIN, "--name", "Familiencafé")
    created = cli("call", "create", "--as", ADMIN, "--programme", "KiTa", "--code", "KiTa-2027",
                  "--title", "Kita 2027", "--opens", "2020-01-01T00:00", "--closes",
                  "2030-06-30T23:59", "--policy", "reject", "--min-grant", "5.000,00",
                  "--earliest-start", "2027-01-01", "--min-months", "6",
                  "--budget", "2027:Landesmittel=300000", "--budget", "2027:ESF=100.000,50@1",
                  "--json")
    call = json.loads(created.stdout)
    assert (call["code"], call["policy"], call["min_grant"]) == ("KiTa-2027", "reject",
                                                                 "5000.00")
    assert call["years"][0]["budget"] == "400000.50"
    edited = cli("call", "edit", "KiTa-2027", "--as", ADMIN, "--title", "Kita 2027/2028")
    assert "geändert" in edited.stdout
    closed = cli("call", "close", "KiTa-2027", "--as", ADMIN, "--reason", "Mittel gebunden",
                 "--json")
    assert json.loads(closed.stdout)["submission_window"]["open_now"] is False
    listed = json.loads(cli("programme", "list", "--json").stdout)
    kita = next(p for p in listed if p["code"] == "KiTa")
    assert kita["modules"][1] == {"code": "K2", "name": "Familiencafé"}
    audit = json.loads(cli("audit", "--as", ADMIN, "--json").stdout)
    assert [e["action"] for e in audit["items"]] == [
        "close_call", "edit_call", "create_call", "rename_module", "add_module",
        "create_programme"]
    assert audit["items"][1]["after"] == {"title": "Kita 2027/2028"}
    shown = cli("audit", "--as", ADMIN, "--subject", "KiTa-2027").stdout
    assert "Förderaufruf vorzeitig schließen" in shown and "Mittel gebunden" in shown
    assert "3 Einträge." in shown


def test_refusals_from_the_command_line_write_nothing(cli, db_url) -> None:
    before = _snapshot(db_url)
    twice = cli("programme", "create", "--as", ADMIN, "--code", "ZiQ", "--name", "Doppelt",
                ok=False)
    assert twice.exit_code == 1 and "gibt es bereits" in twice.output
    window = cli("call", "create", "--as", ADMIN, "--programme", "ZiQ", "--code", "ZiQ-2027",
                 "--title", "Falsch", "--opens", "2027-06-01", "--closes", "2027-01-01",
                 "--budget", "2027:ESF=1000", "--json", ok=False)
    assert "bevor es schließt" in window.output
    assert '"status": 422' in window.stdout
    money = cli("call", "create", "--as", ADMIN, "--programme", "ZiQ", "--code", "ZiQ-2027",
                "--title", "Falsch", "--opens", "2027-01-01", "--closes", "2027-06-01",
                "--budget", "2027:ESF=1e6", ok=False)
    assert "kein gültiger Betrag" in money.output
    shape = cli("call", "create", "--as", ADMIN, "--programme", "ZiQ", "--code", "ZiQ-2027",
                "--title", "Falsch", "--opens", "2027-01-01", "--closes", "2027-06-01",
                "--budget", "2027-ESF-1000", ok=False)
    assert "JAHR:QUELLE=EURO" in shape.output
    unknown = cli("programme", "rename-module", "ZiQ", "B9", "--as", ADMIN, "--name", "X",
                  ok=False)
    assert "Unbekannter Baustein" in unknown.output
    carrier = cli("call", "close", "ZiQ-2021", "--as", "traeger@example.org", "--reason", "X",
                  ok=False)
    assert "Programmverwaltung" in carrier.output
    assert _snapshot(db_url) == before and _audit_count(db_url) == 0

    engine = make_engine(db_url)
    with unit_of_work(engine) as session:
        application_in(session, cli.world, "submitted")
    engine.dispose()
    before = _snapshot(db_url)
    late = cli("call", "edit", "ZiQ-2021", "--as", ADMIN, "--min-grant", "2000", ok=False)
    assert "bereits eingereicht" in late.output and "Budgetänderung" in late.output
    assert _snapshot(db_url) == before
    cli("call", "close", "ZiQ-2021", "--as", ADMIN, "--reason", "Mittel gebunden")
    assert _audit_count(db_url) == 1
