"""API test helpers: a world on the real clock (project years in the future), an app, logins."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import func, select

from api.app import create_app
from tests.factories import World, draft_fields, final_report_payload, make_world
from workflow import drafts, rows
from workflow import engine as wf
from workflow.db import unit_of_work
from workflow.models import Application, Call, User
from workflow.security import hash_password
from workflow.settings import Settings

A = "/api/v1"
PROBLEM = "application/problem+json"
PASSWORD = "richtig-geheim-42"
THIS_YEAR = datetime.now(UTC).year
Y1, Y2 = THIS_YEAR + 1, THIS_YEAR + 2
BUDGET = {Y1: 1_000_000_00, Y2: 1_000_000_00}
ROLES = ("carrier", "other_carrier", "reviewer", "reviewer2", "approver", "admin", "observer")


@lru_cache(maxsize=1)
def documents_dir() -> str:
    """Where the API tests' uploads go (one folder per test process, never the repository)."""
    return tempfile.mkdtemp(prefix="quartier-test-documents-")


def api_settings() -> Settings:
    return Settings(environment="development", secret_key="test-secret-" + "x" * 40,
                    token_lifetime_minutes=30, documents_dir=documents_dir())


def amounts(y1: str = "50000", y2: str = "50000") -> dict[str, str]:
    return {str(Y1): y1, str(Y2): y2}


def application_body(**overrides: Any) -> dict[str, Any]:
    """A complete draft for the call of `make_world`, with the project in the coming years."""
    return {"call": "ZiQ-2021", **draft_fields(amounts(), **{
        "project_start": f"{Y1}-03-01", "project_end": f"{Y2}-12-31", **overrides})}


@dataclass
class ApiWorld:
    engine: Engine
    world: World
    emails: dict[str, str]  # role key -> email
    user_ids: dict[str, int]

    def actor(self, role: str) -> rows.Actor:
        return getattr(self.world, role)


@lru_cache(maxsize=1)
def password_hash() -> str:
    return hash_password(PASSWORD)  # Argon2 is slow on purpose: hash once per test run


def build_world(engine: Engine, budget: dict[int, int] | None = None) -> ApiWorld:
    """make_world with budget years Y1/Y2 and the same password for every user."""
    hashed = password_hash()
    with unit_of_work(engine) as session:
        world = make_world(session, years=budget or BUDGET)
        for user in session.exec(select(User)):
            user.password_hash = hashed
            session.add(user)
    emails, ids = {}, {}
    with unit_of_work(engine) as session:
        for role in ROLES:
            user = session.get(User, getattr(world, role).id)
            emails[role], ids[role] = user.email, user.id
    return ApiWorld(engine, world, emails, ids)


# The trigger path from draft on the real clock: (role key, trigger, body).
PATH: list[tuple[str, str, dict[str, Any]]] = [
    ("carrier", "submit", {}),
    ("reviewer", "start_review", {}),
    ("reviewer", "recommend", {"reason": "Förderfähig", "payload": {"amounts": amounts()}}),
    ("approver", "approve", {}),
    ("carrier", "start", {"payload": {"waiver_of_appeal": True}}),  # before the start date
    ("carrier", "submit_final_report",
     {"reason": "Nachweis", "payload": final_report_payload(amounts("40000", "45000"))}),
]
STATE_AFTER = ["submitted", "in_review", "recommended", "approved", "active", "report_submitted"]


def application_in(aw: ApiWorld, state: str, carrier: str = "carrier") -> str:
    """An application of `carrier`'s organisation driven by the engine to `state`; its reference."""
    with unit_of_work(aw.engine) as session:
        fields = {k: v for k, v in application_body().items() if k != "call"}
        app = drafts.create_application(session, aw.actor(carrier), aw.world.call_id, fields)
        reference = app.reference
        if state != "draft":
            for (who, trigger, body), reached in zip(PATH, STATE_AFTER, strict=True):
                actor = aw.actor(carrier if who == "carrier" else who)
                wf.fire(session, app, trigger, actor, reason=body.get("reason"),
                        payload=body.get("payload"))
                if reached == state:
                    break
            else:
                raise ValueError(state)
    return reference


def version_of(engine: Engine, reference: str) -> tuple[str, int]:
    with unit_of_work(engine) as session:
        app = session.exec(select(Application).where(Application.reference == reference)).one()
        return app.state, app.version


def call_of(engine: Engine, call_id: int) -> Call:
    with unit_of_work(engine) as session:
        return session.get(Call, call_id)


def count(aw: ApiWorld, model: Any, *where: Any) -> int:
    """How many rows of `model` (matching `where`) are committed."""
    with unit_of_work(aw.engine) as session:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()


def login(client: TestClient, email: str, password: str = PASSWORD) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def api_world(engine: Engine) -> ApiWorld:
    return build_world(engine)


@pytest.fixture
def client(api_world: ApiWorld) -> Iterator[TestClient]:
    app = create_app(engine=api_world.engine, settings=api_settings())
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def carrier(client: TestClient, api_world: ApiWorld) -> dict[str, str]:
    return login(client, api_world.emails["carrier"])
