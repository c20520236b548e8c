"""`quartier worker` runs the jobs it is given; `quartier remind`; `quartier serve`'s import."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from notifications.outbox import SENT, OutboxMessage
from tests.factories import application_in, make_world
from tests.notifications.conftest import SmtpServer
from workflow.cli import server
from workflow.db import unit_of_work
from workflow.models import Deadline
from workflow.reminders import run_reminder_pass
from workflow.scheduled_starts import run_start_pass


def test_the_worker_runs_the_reminder_pass_and_delivers_the_outbox(monkeypatch) -> None:
    monkeypatch.setenv("QUARTIER_SMTP_PORT", "2525")
    server.get_settings.cache_clear()
    try:
        reminders, starts, delivery, _, _ = server.worker_jobs()
    finally:
        server.get_settings.cache_clear()
    assert reminders.fn is run_reminder_pass
    assert reminders.every_seconds == server.REMINDER_PASS_EVERY_SECONDS
    assert starts.fn is run_start_pass and starts.every_seconds == server.START_PASS_EVERY_SECONDS
    assert delivery.every_seconds == 0 and delivery.name == "outbox delivery"


def _open_deadline_due(engine: Engine) -> date:
    with unit_of_work(engine) as s:
        world = make_world(s)
        application_in(s, world, "active")
        due = s.exec(select(Deadline).where(Deadline.status == "open")
                     .order_by(Deadline.due_date)).first()
        return due.due_date


def test_worker_once_sends_the_reminders_of_its_pass(
        quartier, engine: Engine, sqlite_url: str, smtp_server: SmtpServer,
        tmp_path: Path) -> None:
    due = _open_deadline_due(engine)
    moment = datetime.combine(due, time(9)).isoformat() + "+02:00"
    out = quartier("--now", moment, "worker", "--once", QUARTIER_DATABASE_URL=sqlite_url,
                   QUARTIER_SMTP_PORT=str(smtp_server.port)).stdout
    assert "reminder pass, scheduled project starts, outbox delivery" in out
    assert "Worker beendet." in out
    with unit_of_work(engine) as s:
        sent = s.exec(select(OutboxMessage).where(OutboxMessage.status == SENT)).all()
    templates = {m.template for m in sent}
    assert any("reminder" in t for t in templates), templates
    assert len(smtp_server.raw()) == len(sent) and f"Zugestellt: {len(sent)}" in out


def test_remind_as_json(quartier, engine: Engine, sqlite_url: str) -> None:
    due = _open_deadline_due(engine)
    data = json.loads(quartier("remind", "--now", f"{due.isoformat()}T09:00:00+02:00", "--json",
                               QUARTIER_DATABASE_URL=sqlite_url).stdout)
    assert data["today"] == due.isoformat() and data["sent_total"] >= 1
    again = json.loads(quartier("remind", "--now", f"{due.isoformat()}T10:00:00+02:00",
                                "--json", QUARTIER_DATABASE_URL=sqlite_url).stdout)
    assert again["sent_total"] == 0  # idempotent


def test_serve_names_the_api_by_import_string_only() -> None:
    assert server.APP_FACTORY == "api.app:create_app"
    source = Path(server.__file__).parent
    for module in source.glob("*.py"):
        text = module.read_text()
        assert "import api" not in text and "from api" not in text, module


@pytest.mark.parametrize("lang", ["fr"])
def test_unknown_language_is_refused(quartier, lang: str) -> None:
    result = quartier("--lang", lang, "workflow", "table", ok=False)
    assert result.exit_code == 1 and "de oder en" in result.output
