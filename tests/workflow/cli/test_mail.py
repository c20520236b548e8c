"""The mail commands as an operator uses them: a real SQLite file, a real background catcher."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer.main
from sqlalchemy import Engine

from notifications.catcher import caught_messages, port_in_use
from tests.factories import application_in, make_world
from tests.notifications.conftest import free_port
from workflow.cli import app
from workflow.db import unit_of_work


@pytest.fixture
def mail_quartier(quartier, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """`quartier …` in this process against the test's SQLite file and its own SMTP port."""
    port = free_port()
    monkeypatch.setenv("QUARTIER_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("QUARTIER_SMTP_PORT", str(port))
    monkeypatch.setenv("QUARTIER_MAIL_CATCHER_DIR", str(tmp_path / "mail"))
    quartier.port = port  # type: ignore[attr-defined]
    yield quartier
    quartier("mail", "catch", "--stop")


def test_the_app_has_worker_and_mail_commands() -> None:
    names = set(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
    assert {"worker", "mail", "remind", "serve"} <= names


def test_catch_deliver_list_show_requeue(engine: Engine, mail_quartier,
                                         tmp_path: Path) -> None:
    quartier = mail_quartier
    with unit_of_work(engine) as s:
        world = make_world(s)
        application_in(s, world, "approved")  # receipt confirmation and approval

    # No server yet: with one retry allowed the messages wait, then die and are listed as dead.
    out = quartier("mail", "deliver", QUARTIER_MAIL_RETRY_SCHEDULE="1s").stdout
    assert "später erneut: 2, unzustellbar: 0" in out and "WARNUNG" not in out
    out = quartier("--now", "2099-01-01T00:00:00+00:00", "mail", "deliver",
                   QUARTIER_MAIL_RETRY_SCHEDULE="1s").stdout
    assert "unzustellbar: 2" in out
    # From now on the mail commands lead with a warning line.
    assert out.startswith("WARNUNG: 2 E-Mails sind nach allen Zustellversuchen unzustellbar")
    assert quartier("mail", "list").stdout.startswith("WARNUNG: 2 E-Mails sind")
    status = quartier("mail", "status").stdout
    assert status.startswith("WARNUNG: 2 E-Mails sind") and "an traeger@example.org" in status
    overview = quartier("mail", "status", "--json")
    assert json.loads(overview.stdout)["dead_count"] == 2
    assert "WARNUNG" in overview.stderr
    dead = json.loads(quartier("mail", "list", "--dead", "--json").stdout)
    assert [d["id"] for d in dead] == [1, 2] and all(d["status"] == "dead" for d in dead)
    assert "Verbindung fehlgeschlagen" in dead[0]["last_error"]

    started = quartier("mail", "catch", "--background").stdout
    assert "im Hintergrund" in started and port_in_use("127.0.0.1", quartier.port)
    assert "läuft bereits" in quartier("mail", "catch", "--background").stdout

    for outbox_id in ("1", "2"):
        assert "erneut zugestellt" in quartier("mail", "requeue", outbox_id).stdout
    refused = quartier("mail", "requeue", "1", ok=False)
    assert refused.exit_code == 1 and "Nur unzustellbare" in refused.output
    assert "Zugestellt: 2" in quartier("mail", "deliver").stdout

    listed = quartier("mail", "list").stdout  # no dead letters left: no warning
    assert listed.startswith("Postausgang (Datenbank)") and "Bewilligung Ihres Antrags" in listed
    assert quartier("mail", "status").stdout.startswith("Unzustellbar   Wartend")
    caught = quartier("mail", "list", "--caught").stdout
    assert "Vom Mail-Catcher empfangen" in caught and "traeger@example.org" in caught
    shown = quartier("mail", "show", "--caught", "2").stdout
    assert "Subject: Bewilligung Ihres Antrags" in shown and "Guten Tag Jürgen Weiß," in shown
    assert "<outbox-2." in shown
    assert "<table" in quartier("mail", "show", "2", "--html").stdout
    assert "Status: sent" in quartier("mail", "show", "2").stdout

    stopped = quartier("mail", "catch", "--stop").stdout
    assert "beendet" in stopped
    # What was caught stays on disk.
    assert len(caught_messages(tmp_path / "mail")) == 2
