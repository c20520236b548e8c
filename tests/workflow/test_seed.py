"""`quartier seed`: the ZiQ 2021/2022 call as it ended (about 110 funded projects, the money
committed, the automatic funding stop in force since the approval that exhausted it) and a
current demo call a carrier can apply to on the real clock."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from api.app import create_app
from states import InterimReportStatus, StopKind
from tests.api.conftest import api_settings
from tests.conftest import _engine_with_schema, create_pg_database, drop_pg_database
from tests.workflow.test_budget import assert_ledger_consistent
from workflow import budget, seed
from workflow.db import unit_of_work
from workflow.deadlines import BERLIN, local_date
from workflow.models import Application, Call, InterimReport, TransitionRecord

NOW = datetime.now(UTC)
FUNDED_STATES = {"approved", "active", "report_submitted", "report_changes_requested", "closed"}


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive UTC times (issue 12, item 2); PostgreSQL aware ones.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@pytest.fixture(scope="module",
                params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def seeded(request, tmp_path_factory) -> Iterator[Engine]:
    """One seeded database per backend for the module (seeding plays a whole call)."""
    if request.param == "sqlite":
        url, drop = f"sqlite:///{tmp_path_factory.mktemp('seed') / 'quartier.sqlite3'}", None
    else:
        admin = request.getfixturevalue("pg_server")
        url = create_pg_database(admin)
        drop = (admin, url)
    engine = _engine_with_schema(url)
    with unit_of_work(engine) as session:
        seed.seed(session, NOW)
    yield engine
    engine.dispose()
    if drop:
        drop_pg_database(*drop)


def _call(session: Session, code: str) -> Call:
    return session.exec(select(Call).where(Call.code == code)).one()


def test_the_ziq_call_is_committed_and_its_automatic_stop_dates_from_the_last_approval(seeded):
    with Session(seeded) as session:
        call = _call(session, seed.HISTORY_CALL)
        assert call.stop_kind == StopKind.automatic
        approvals = session.exec(
            select(TransitionRecord).join(Application)
            .where(Application.call_id == call.id, TransitionRecord.trigger == "approve",
                   TransitionRecord.to_state == "approved")
            .order_by(TransitionRecord.at)).all()
        assert len(approvals) == seed.FUNDED
        assert _aware(call.stop_since) == _aware(approvals[-1].at)
        # Every year has less than the minimum grant left: nobody else can be funded.
        years = budget.years(session, call.id)
        assert sorted(years) == [2021, 2022]
        assert all(0 <= y.available_cents < call.min_grant_cents for y in years.values())
        # Later approvals went to the waiting list; later submissions were refused.
        waitlisted = session.exec(select(TransitionRecord).join(Application).where(
            Application.call_id == call.id, TransitionRecord.trigger == "waitlist")).all()
        assert waitlisted and min(_aware(w.at) for w in waitlisted) > _aware(call.stop_since)
    assert_ledger_consistent(seeded, call.id)


def test_the_ziq_call_has_funded_waitlisted_rejected_and_reported_projects(seeded):
    with Session(seeded) as session:
        call = _call(session, seed.HISTORY_CALL)
        apps = session.exec(select(Application).where(Application.call_id == call.id)).all()
        states = Counter(a.state for a in apps)
        assert 105 <= sum(states[s] for s in FUNDED_STATES) <= 115
        assert states["closed"] > 50 and states["active"] > 0
        assert 3 <= states["waitlisted"] <= 15 and 5 <= states["rejected"] <= 25
        assert states["draft"] > 0  # their submissions came after the stop
        assert len(apps) >= 140
        modules = Counter(a.module_code for a in apps if a.state in FUNDED_STATES)
        assert set(modules) == {"B1", "B2"} and min(modules.values()) > 30
        assert len({a.municipality for a in apps}) >= 15
        assert len({a.organisation_id for a in apps}) >= 50
        for a in apps:
            if a.state in FUNDED_STATES:
                assert a.project_start.year >= 2021
                months = (a.project_end.year - a.project_start.year) * 12 \
                    + a.project_end.month - a.project_start.month + 1
                assert months >= 8
        accepted = session.exec(select(InterimReport).where(
            InterimReport.status == InterimReportStatus.accepted)).all()
        assert len(accepted) > 50
        steps = Counter(r.trigger for r in session.exec(select(TransitionRecord).where(
            TransitionRecord.trigger.startswith("reminder:"))))
        assert {"reminder:before_28", "reminder:before_7", "reminder:due",
                "reminder:overdue", "reminder:escalation"} <= set(steps)


def test_amounts_are_whole_hundreds_in_a_realistic_range():
    history = seed.generate_history()
    funded = [p for p in history.projects if p.outcome == "funded"]
    assert len(funded) == seed.FUNDED
    for p in funded:
        for cents in p.amounts.values():
            assert cents % 100_00 == 0 and 30_000_00 <= cents <= 125_000_00
    assert seed.generate_history().actions == history.actions  # deterministic


def test_the_demo_call_is_open_now_and_a_carrier_submits_to_it_over_http(seeded):
    with Session(seeded) as session:
        demo = _call(session, "ZiQ-DEMO")
        assert _aware(demo.opens_at) < NOW < _aware(demo.closes_at)
        assert demo.stop_kind is None
        first_year = min(budget.years(session, demo.id))
    start = max(demo.earliest_project_start, local_date(NOW) + timedelta(days=30))
    with TestClient(create_app(engine=seeded, settings=api_settings())) as client:
        token = client.post("/api/v1/auth/token", data={
            "username": "traeger4@quartier.example", "password": "quartier-demo"}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        status = client.get("/api/v1/calls/ZiQ-2021", headers=headers).json()
        assert status["funding_stop"]["in_force"]
        created = client.post("/api/v1/applications", headers=headers, json={
            "call": "ZiQ-DEMO", "module_code": "B2", "title": "Bewegungskita Chorweiler",
            "summary": "Bewegung und gesunde Ernährung für Kita-Kinder.",
            "quartier": "Chorweiler", "project_start": start.isoformat(),
            "project_end": f"{first_year + 1}-12-31",
            "finance_plan": seed.finance_plan_for(
                {str(first_year): "40000", str(first_year + 1): "40000"}, 4000_00)})
        assert created.status_code == 201, created.text
        assert created.json()["own_contribution"] == "4000.00"
        assert [y["requested"] for y in created.json()["years"]] == ["40000.00", "40000.00"]
        ref = created.json()["reference"]
        submitted = client.post(f"/api/v1/applications/{ref}/transitions/submit", json={},
                                headers=headers)
        assert submitted.status_code == 200, submitted.text
        assert submitted.json()["application"]["state"] == "submitted"


def test_demo_accounts_and_demo_applications_are_in_the_demo_call(seeded):
    with Session(seeded) as session:
        demo = _call(session, "ZiQ-DEMO")
        apps = session.exec(select(Application).where(Application.call_id == demo.id)
                            .order_by(Application.id)).all()[:5]  # the seeded ones
        assert [a.state for a in apps] == ["draft", "submitted", "documents_requested",
                                           "recommended", "approved"]
        year = local_date(NOW).year
        assert [a.reference for a in apps] == [f"ZiQ-{year}-{i:04d}" for i in range(1, 6)]
        assert all(a.project_start > local_date(NOW) for a in apps)


def test_seed_from_the_command_line_and_again_with_if_empty(tmp_path: Path):
    env = {**os.environ, "QUARTIER_DATABASE_URL": f"sqlite:///{tmp_path / 'seed.sqlite3'}",
           "QUARTIER_ENVIRONMENT": "development"}
    quartier = [sys.executable, "-m", "workflow.cli"]
    for args in (["db", "upgrade"], ["seed"]):
        subprocess.run([*quartier, *args], env=env, check=True, capture_output=True,
                       timeout=300)
    again = subprocess.run([*quartier, "seed", "--if-empty"], env=env, capture_output=True,
                           text=True, timeout=120)
    assert again.returncode == 0 and "bereits angelegt" in again.stdout
    refused = subprocess.run([*quartier, "seed"], env=env, capture_output=True, text=True,
                             timeout=120)
    assert refused.returncode == 1 and "bereits angelegt" in refused.stderr
    shown = subprocess.run([*quartier, "budget", "--call", "ZiQ-2021"], env=env,
                           capture_output=True, text=True, timeout=120, check=True).stdout
    since = datetime(2021, 2, 8, 11, tzinfo=BERLIN)
    assert "Fördermittelstopp" in shown and "Kein Fördermittelstopp" not in shown, shown
    assert since.strftime("%d.%m.%Y") in shown, shown
