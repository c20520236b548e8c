"""On a live database: `--now` is refused outside development, and every row written with `--as`
names the operator acting for the account; the early start and the scheduled starts by command."""

from __future__ import annotations

import getpass
import json

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from tests.factories import application_in, make_world
from workflow.db import unit_of_work
from workflow.models import Application, TransitionRecord


@pytest.fixture
def refs(engine: Engine) -> dict[str, str]:
    with unit_of_work(engine) as s:
        world = make_world(s)
        return {"draft": application_in(s, world, "draft").reference,
                "approved": application_in(s, world, "approved").reference}


def _history(quartier, url: str, ref: str) -> list[dict]:
    return json.loads(quartier("applications", "history", ref, "--json",
                               QUARTIER_DATABASE_URL=url).stdout)


@pytest.mark.parametrize("command", [["applications", "list"], ["remind"]])
def test_now_is_refused_outside_development(quartier, engine, sqlite_url, command) -> None:
    args = (["--now", "2021-05-01T09:00"] + command if command[0] != "remind"
            else [*command, "--now", "2021-05-01T09:00"])
    result = quartier(*args, ok=False, QUARTIER_DATABASE_URL=sqlite_url,
                      QUARTIER_ENVIRONMENT="production")
    assert result.exit_code == 1
    assert result.output.index("Fehler: --now") < result.output.index("Error: --now")
    assert "nur in der Entwicklungsumgebung" in result.output and "echte Uhr" in result.output
    assert quartier("--now", "2021-05-01T09:00", *command, QUARTIER_DATABASE_URL=sqlite_url,
                    QUARTIER_ENVIRONMENT="development").exit_code == 0


def test_now_refused_in_production_writes_nothing(quartier, engine, sqlite_url, refs) -> None:
    result = quartier("--now", "2021-03-01T09:00", "fire", refs["approved"], "start", "--as",
                      "traeger@example.org", ok=False, QUARTIER_DATABASE_URL=sqlite_url,
                      QUARTIER_ENVIRONMENT="production")
    assert result.exit_code == 1
    with unit_of_work(engine) as s:
        assert s.exec(select(Application.state).where(
            Application.reference == refs["approved"])).one() == "approved"


def test_as_records_the_operator_acting_for_the_account(quartier, engine, sqlite_url,
                                                        refs) -> None:
    quartier("--now", "2021-03-01T09:00", "fire", refs["approved"], "start", "--as",
             "pruefung@example.org", QUARTIER_DATABASE_URL=sqlite_url, QUARTIER_OPERATOR="alice")
    quartier("--operator", "bob", "--now", "2020-11-03T09:00", "applications", "create", "--as",
             "traeger@example.org", "--module", "B1", "--title", "Lernpaten",
             QUARTIER_DATABASE_URL=sqlite_url)
    start = _history(quartier, sqlite_url, refs["approved"])[-1]
    assert start["trigger"] == "start" and start["payload"]["operator"] == "alice"
    assert start["actor_name"] == "Sabine Prüfer"
    human = quartier("applications", "history", refs["approved"],
                     QUARTIER_DATABASE_URL=sqlite_url).stdout
    assert "alice für Sabine Prüfer" in human
    with unit_of_work(engine) as s:
        created = s.exec(select(TransitionRecord).where(TransitionRecord.trigger == "create")
                         .order_by(TransitionRecord.id.desc())).first()
        assert created.payload == {"operator": "bob"}


def test_interim_report_rows_name_the_operator(quartier, engine, sqlite_url) -> None:
    with unit_of_work(engine) as s:
        world = make_world(s)
        ref = application_in(s, world, "active").reference
    quartier("--operator", "carol", "--now", "2022-01-10T09:00", "reports", "submit-interim",
             ref, "--as", "traeger@example.org", "--narrative", "Gut angelaufen",
             "--spending", "2021=20000", QUARTIER_DATABASE_URL=sqlite_url)
    entry = _history(quartier, sqlite_url, ref)[-1]
    assert entry["trigger"] == "submit_interim_report" and entry["payload"]["operator"] == "carol"


def test_the_operator_is_the_os_user_by_default(quartier, engine, sqlite_url, refs) -> None:
    quartier("--now", "2021-03-01T09:00", "fire", refs["approved"], "start", "--as",
             "traeger@example.org", QUARTIER_DATABASE_URL=sqlite_url)
    assert _history(quartier, sqlite_url, refs["approved"])[-1]["payload"]["operator"] == (
        getpass.getuser())


def test_early_start_from_the_command_line(quartier, engine, sqlite_url, refs) -> None:
    refused = quartier("applications", "early-start", refs["draft"], "--as",
                       "pruefung@example.org", ok=False, QUARTIER_DATABASE_URL=sqlite_url)
    assert refused.exit_code == 1 and "Fehler: Für „Vorzeitigen" in refused.output
    out = quartier("--operator", "alice", "applications", "early-start", refs["draft"], "--as",
                   "pruefung@example.org", "--reason", "Ferienbeginn",
                   QUARTIER_DATABASE_URL=sqlite_url).stdout
    assert "vorzeitiger Maßnahmebeginn genehmigt" in out and "keinen Rechtsanspruch" in out
    entry = _history(quartier, sqlite_url, refs["draft"])[-1]
    assert (entry["trigger"], entry["reason"]) == ("grant_early_start", "Ferienbeginn")
    assert entry["payload"]["operator"] == "alice"
    again = quartier("applications", "early-start", refs["draft"], "--as",
                     "zeichnung@example.org", "--reason", "noch mal", "--json", ok=False,
                     QUARTIER_DATABASE_URL=sqlite_url)
    assert again.exit_code == 1 and "bereits" in again.output
    # After the project start (1 March 2021), the draft may still be submitted.
    quartier("--now", "2021-04-01T09:00", "fire", refs["draft"], "submit", "--as",
             "traeger@example.org", QUARTIER_DATABASE_URL=sqlite_url)


def test_start_projects_command(quartier, engine, sqlite_url, refs) -> None:
    before = json.loads(quartier("start-projects", "--now", "2021-02-28T12:00", "--json",
                                 QUARTIER_DATABASE_URL=sqlite_url).stdout)
    assert before["started"] == []
    out = quartier("--now", "2021-03-01T07:00", "start-projects",
                   QUARTIER_DATABASE_URL=sqlite_url).stdout
    assert f"1 gestartet ({refs['approved']})" in out
    assert _history(quartier, sqlite_url, refs["approved"])[-1]["actor_role"] == "system"
