"""api/deps.py: one unit of work per request. It commits once after a handler returned normally
and rolls back on any exception, whether the handler raised or the commit did."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlmodel import select

from api.app import create_app
from api.deps import SessionDep, UnitOfWorkRoute, check_units_of_work
from tests.api.conftest import (
    PROBLEM,
    Y1,
    A,
    ApiWorld,
    amounts,
    api_settings,
    application_body,
    application_in,
    count,
    login,
    version_of,
)
from workflow.db import unit_of_work
from workflow.errors import InvalidInput
from workflow.idempotency import IdempotencyRecord
from workflow.models import Application, Organisation, TransitionRecord

ROUTERS = Path(__file__).resolve().parents[2] / "api" / "routers"


class Commits:
    """Counts the COMMITs on an engine's connections (SQLAlchemy's `commit` event)."""

    def __init__(self, engine: Engine) -> None:
        self.engine, self.n = engine, 0
        event.listen(engine, "commit", self._seen)

    def _seen(self, _connection) -> None:  # type: ignore[no-untyped-def]
        self.n += 1

    def close(self) -> None:
        event.remove(self.engine, "commit", self._seen)


@pytest.fixture
def commits(api_world: ApiWorld) -> Iterator[Commits]:
    counter = Commits(api_world.engine)
    yield counter
    counter.close()


def organisations(engine: Engine) -> list[str]:
    with unit_of_work(engine) as session:
        return list(session.exec(select(Organisation.name).where(
            Organisation.name.startswith("Probe"))))


def app_with_probe_routes(engine: Engine) -> FastAPI:
    """The real app and a few routes that write through the request's session, then end in
    different ways."""
    app = create_app(engine=engine, settings=api_settings())
    probe = APIRouter(prefix="/probe", route_class=UnitOfWorkRoute)

    def write(session: SessionDep, name: str) -> None:
        session.add(Organisation(name=name))
        session.flush()

    @probe.post("/writes")
    def writes(session: SessionDep) -> dict[str, str]:
        write(session, "Probe ok")
        return {"status": "ok"}

    @probe.post("/writes-then-refuses")
    def writes_then_refuses(session: SessionDep) -> None:
        write(session, "Probe refused")
        raise InvalidInput("Nein.", "No.")

    @probe.post("/writes-then-crashes")
    def writes_then_crashes(session: SessionDep) -> None:
        write(session, "Probe crashed")
        raise RuntimeError("a bug after the write")

    @probe.post("/writes-then-collides")
    def writes_then_collides(session: SessionDep) -> None:
        write(session, "Probe first")
        write(session, "Probe first")  # the unique name: IntegrityError at the flush

    @probe.post("/async-writes")
    async def async_writes(session: SessionDep) -> dict[str, str]:
        session.add(Organisation(name="Probe async"))  # flushed by the dependency's commit
        return {"status": "ok"}

    app.include_router(probe)
    return app


@pytest.fixture
def probe_client(api_world: ApiWorld) -> Iterator[TestClient]:
    with TestClient(app_with_probe_routes(api_world.engine),
                    raise_server_exceptions=False) as client:
        yield client


def test_a_handler_that_returns_commits_once(probe_client: TestClient, api_world: ApiWorld,
                                             commits: Commits) -> None:
    assert probe_client.post("/probe/writes").status_code == 200
    assert commits.n == 1
    assert organisations(api_world.engine) == ["Probe ok"]


def test_an_async_handler_is_committed_by_the_dependency(
        probe_client: TestClient, api_world: ApiWorld, commits: Commits) -> None:
    assert probe_client.post("/probe/async-writes").status_code == 200
    assert commits.n == 1
    assert organisations(api_world.engine) == ["Probe async"]


@pytest.mark.parametrize(("path", "status", "type_"), [
    ("/probe/writes-then-refuses", 422, "invalid-input"),
    ("/probe/writes-then-crashes", 500, "internal-error"),
    ("/probe/writes-then-collides", 409, "conflict"),
])
def test_a_handler_that_raises_after_writing_leaves_nothing(
        probe_client: TestClient, api_world: ApiWorld, commits: Commits, path: str, status: int,
        type_: str) -> None:
    response = probe_client.post(path)
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"].endswith("/" + type_)
    assert commits.n == 0
    assert organisations(api_world.engine) == []


def test_a_failing_commit_is_an_error_response_and_nothing_is_kept(
        probe_client: TestClient, api_world: ApiWorld, commits: Commits, monkeypatch) -> None:
    """The commit runs before the response is sent: if it fails, the client hears so."""
    from sqlmodel import Session

    def broken_commit(self: Session) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(Session, "commit", broken_commit)
    response = probe_client.post("/probe/writes")
    monkeypatch.undo()
    assert response.status_code == 500 and response.json()["type"].endswith("/internal-error")
    assert commits.n == 0
    assert organisations(api_world.engine) == []


def test_one_commit_per_successful_write_request(client: TestClient, api_world: ApiWorld,
                                                 commits: Commits) -> None:
    carrier = login(client, api_world.emails["carrier"])
    reviewer = login(client, api_world.emails["reviewer"])
    admin = login(client, api_world.emails["admin"])
    seen = []

    def step(method: str, url: str, **kwargs) -> dict:  # type: ignore[no-untyped-def]
        before = commits.n
        response = client.request(method, url, **kwargs)
        assert response.status_code in (200, 201), response.text
        seen.append(commits.n - before)
        return response.json()

    ref = step("POST", f"{A}/applications", json=application_body(),
               headers={**carrier, "Idempotency-Key": "one-commit"})["reference"]
    step("PATCH", f"{A}/applications/{ref}", json={"title": "Neu"},
         headers={**carrier, "If-Match": 'W/"1"'})
    step("POST", f"{A}/applications/{ref}/transitions/submit", json={},
         headers={**carrier, "Idempotency-Key": "submit-once"})
    step("POST", f"{A}/applications/{ref}/transitions/start_review", json={}, headers=reviewer)
    step("POST", f"{A}/applications/{ref}/transitions/recommend",
         json={"reason": "Förderfähig", "payload": {"amounts": amounts()}}, headers=reviewer)
    step("POST", f"{A}/admin/calls/ZiQ-2021/budget-changes", headers=admin,
         json={"year": Y1, "source": "Landesmittel", "delta": "100"})
    step("POST", f"{A}/admin/calls/ZiQ-2021/funding-stop", json={"reason": "Sperre"},
         headers=admin)
    step("DELETE", f"{A}/admin/calls/ZiQ-2021/funding-stop", headers=admin)
    assert seen == [1] * 8
    assert count(api_world, IdempotencyRecord) == 2  # stored with their changes


@pytest.mark.parametrize(("trigger", "body", "headers", "status"), [
    ("submit_final_report", {"payload": {"spending": amounts()}}, {}, 409),  # wrong state
    ("approve", {}, {}, 403),  # not the carrier's to do
    ("submit", {}, {"If-Match": 'W/"7"'}, 412),  # stale
    ("zaubern", {}, {}, 422),  # unknown trigger
])
def test_no_commit_for_a_refused_transition(client: TestClient, api_world: ApiWorld,
                                            commits: Commits, trigger: str, body: dict,
                                            headers: dict, status: int) -> None:
    ref = application_in(api_world, "draft")
    carrier = login(client, api_world.emails["carrier"])
    before = commits.n
    refused = client.post(f"{A}/applications/{ref}/transitions/{trigger}", json=body,
                          headers={**carrier, "Idempotency-Key": f"refused-{trigger}",
                                   **headers})
    assert refused.status_code == status, refused.text
    assert commits.n == before
    assert version_of(api_world.engine, ref) == ("draft", 1)
    assert count(api_world, IdempotencyRecord) == 0


def test_no_commit_for_a_refused_edit_or_create(client: TestClient, api_world: ApiWorld,
                                                commits: Commits) -> None:
    carrier = login(client, api_world.emails["carrier"])
    submitted = application_in(api_world, "submitted")
    before = commits.n
    assert client.patch(f"{A}/applications/{submitted}", json={"title": "Neu"},
                        headers=carrier).status_code == 409
    assert client.post(f"{A}/applications", json=application_body(call="ZiQ-1900"),
                       headers={**carrier, "Idempotency-Key": "nowhere"}).status_code == 404
    assert commits.n == before
    assert count(api_world, Application) == 1
    assert count(api_world, TransitionRecord, TransitionRecord.trigger == "create") == 1


def test_no_handler_commits_or_rolls_back() -> None:
    """Only the session dependency ends a unit of work."""
    offenders = []
    for path in sorted(ROUTERS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in ("commit", "rollback"):
                offenders.append(f"{path.name}:{node.lineno} .{node.attr}")
    assert offenders == []


def test_a_route_with_a_session_must_be_a_unit_of_work(api_world: ApiWorld) -> None:
    """The session's unit of work ends with the route's handler: a route of a plain APIRouter
    has none, and the app refuses it when it is made, naming the route."""
    app = create_app(engine=api_world.engine, settings=api_settings())
    plain = APIRouter(prefix="/probe")

    @plain.get("/reads")
    def reads(session: SessionDep) -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(plain)
    with pytest.raises(RuntimeError, match="/probe/reads: a route with a session"):
        check_units_of_work(app.router.routes)
    check_units_of_work(create_app(engine=api_world.engine, settings=api_settings()).routes)
