"""Problem responses, validation, languages, request ids, health, calls, lists, administration."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.api.conftest import (
    Y1,
    Y2,
    ApiWorld,
    amounts,
    api_settings,
    application_body,
    application_in,
    login,
    version_of,
)
from workflow.settings import DEFAULT_SECRET, InsecureSettings, Settings

A = "/api/v1"
PROBLEM = "application/problem+json"


@pytest.fixture
def carrier(client: TestClient, api_world: ApiWorld) -> dict[str, str]:
    return login(client, api_world.emails["carrier"])


@pytest.mark.parametrize(("body", "field"), [
    ({"amounts": {str(Y1): 50000.5}}, f"amounts.{Y1}"),
    ({"module_code": None}, "module_code"),
    ({"project_start": "morgen"}, "project_start"),
    ({"colour": "blau"}, "colour"),
    ({"own_contribution": [1]}, "own_contribution"),
])
def test_validation_errors_name_the_field(client: TestClient, carrier, body, field) -> None:
    response = client.post(f"{A}/applications", json=application_body(**body), headers=carrier)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["type"] == "https://quartier.example/problems/validation-error"
    assert problem["field"] == field and field in problem["detail"]
    assert problem["detail"].startswith("Ungültige Eingabe")


def test_english_with_accept_language(client: TestClient, carrier) -> None:
    headers = {**carrier, "Accept-Language": "en-GB,en;q=0.9,de;q=0.5"}
    invalid = client.post(f"{A}/applications", json=application_body(module_code=None),
                          headers=headers).json()
    assert invalid["title"] == "Invalid request" and "module_code" in invalid["detail"]
    missing = client.get(f"{A}/applications/ZiQ-2000-0001", headers=headers).json()
    assert missing["title"] == "Not found" and missing["detail"].startswith("Application")
    german = client.get(f"{A}/applications/ZiQ-2000-0001",
                        headers={**carrier, "Accept-Language": "fr, de;q=0.8, en;q=0.1"}).json()
    assert german["title"] == "Nicht gefunden" and german["detail"].startswith("Antrag")


@pytest.mark.parametrize(("method", "url", "kwargs", "status", "type_"), [
    ("POST", f"{A}/applications", {"content": b"{kaputt",
                                   "headers": {"Content-Type": "application/json"}},
     422, "validation-error"),
    ("POST", f"{A}/applications", {"json": application_body(own_contribution="viel")},
     422, "invalid-input"),
    ("POST", f"{A}/applications", {"json": application_body(amounts={"1999": "10"})},
     422, "invalid-input"),
    ("POST", f"{A}/applications", {"json": application_body(call="ZiQ-1900")}, 404, "not-found"),
    ("POST", f"{A}/applications", {"json": application_body(project_end=f"{Y1}-04-01")},
     422, "invalid-input"),
    ("GET", f"{A}/applications?limit=100000", {}, 422, "validation-error"),
    ("GET", f"{A}/applications?state=verloren", {}, 422, "validation-error"),
    ("GET", f"{A}/applications?overdue=vielleicht", {}, 422, "validation-error"),
    ("GET", f"{A}/nirgendwo", {}, 404, "not-found"),
    ("GET", f"{A}/applications/{10**30}", {}, 422, "invalid-input"),
    ("GET", f"{A}/applications?organisation={10**30}", {}, 422, "invalid-input"),
    ("GET", f"{A}/applications?offset={10**30}", {}, 422, "invalid-input"),
    ("DELETE", f"{A}/calls", {}, 405, "method-not-allowed"),
])
def test_bad_input_is_a_problem_never_500(client: TestClient, carrier, method, url, kwargs,
                                          status, type_) -> None:
    headers = {**carrier, **kwargs.pop("headers", {})}
    response = client.request(method, url, headers=headers, **kwargs)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"].endswith("/" + type_)


def test_unknown_trigger_and_wrong_state(client: TestClient, api_world: ApiWorld, carrier) -> None:
    ref = application_in(api_world, "draft")
    unknown = client.post(f"{A}/applications/{ref}/transitions/zaubern", json={}, headers=carrier)
    assert unknown.status_code == 422 and unknown.json()["type"].endswith("/unknown-trigger")
    wrong = client.post(f"{A}/applications/{ref}/transitions/submit_final_report",
                        json={"payload": {"spending": amounts()}}, headers=carrier)
    assert wrong.status_code == 409 and wrong.json()["type"].endswith("/wrong-state")
    assert "Entwurf" in wrong.json()["detail"]
    assert version_of(api_world.engine, ref) == ("draft", 1)


def test_request_id_is_echoed_or_made_and_logged_once(client: TestClient, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="quartier.api"):
        echoed = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
        made = client.get("/healthz")
    assert echoed.headers["X-Request-ID"] == "abc-123"
    generated = made.headers["X-Request-ID"]
    assert len(generated) == 32
    lines = [r.getMessage() for r in caplog.records if r.name == "quartier.api"]
    assert len(lines) == 2
    assert "GET /healthz 200" in lines[0] and "request_id=abc-123" in lines[0]
    assert f"request_id={generated}" in lines[1]


def test_problem_carries_request_id(client: TestClient) -> None:
    response = client.get(f"{A}/me", headers={"X-Request-ID": "r-42"})
    assert response.status_code == 401 and response.json()["request_id"] == "r-42"


def test_readyz_checks_the_database(client: TestClient, tmp_path) -> None:
    assert client.get("/readyz").json() == {"status": "ready", "database": "ok"}
    empty = create_app(f"sqlite:///{tmp_path / 'leer.sqlite3'}", settings=api_settings())
    with TestClient(empty) as unready:
        response = unready.get("/readyz")
        assert unready.get("/healthz").status_code == 200
    assert response.status_code == 503 and response.json()["type"].endswith("/not-ready")


def test_default_secret_is_refused_outside_development() -> None:
    with pytest.raises(InsecureSettings, match="QUARTIER_SECRET_KEY"):
        create_app("sqlite://", settings=Settings(environment="production",
                                                  secret_key=DEFAULT_SECRET))
    create_app("sqlite://", settings=Settings(environment="production", secret_key="s" * 48))


def test_expired_token_is_401(client: TestClient, api_world: ApiWorld) -> None:
    from datetime import UTC, datetime, timedelta

    from api.auth import create_access_token
    from workflow.db import unit_of_work
    from workflow.models import User

    with unit_of_work(api_world.engine) as session:
        user = session.get(User, api_world.user_ids["carrier"])
    old = create_access_token(user, api_settings(), now=datetime.now(UTC) - timedelta(hours=2))
    response = client.get(f"{A}/me", headers={"Authorization": f"Bearer {old}"})
    assert response.status_code == 401 and "abgelaufen" in response.json()["detail"]


def test_login_answers_a_bearer_token(client: TestClient, api_world: ApiWorld) -> None:
    response = client.post(f"{A}/auth/token", data={"username": api_world.emails["reviewer"],
                                                    "password": "richtig-geheim-42"})
    token = response.json()
    assert token["token_type"] == "bearer" and token["expires_in"] == 30 * 60
    me = client.get(f"{A}/me", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert me.json()["role"] == "reviewer" and me.json()["role_label"] == "Sachbearbeitung"
    wrong = client.post(f"{A}/auth/token", data={"username": api_world.emails["reviewer"],
                                                 "password": "falsch"})
    assert wrong.status_code == 401 and wrong.headers["WWW-Authenticate"] == "Bearer"


def test_list_filters_and_pagination(client: TestClient, api_world: ApiWorld) -> None:
    refs = [application_in(api_world, "draft") for _ in range(3)]
    submitted = application_in(api_world, "submitted")
    in_docs = application_in(api_world, "in_review")
    reviewer = login(client, api_world.emails["reviewer"])
    client.post(f"{A}/applications/{in_docs}/transitions/request_documents",
                json={"reason": "Satzung fehlt"}, headers=reviewer)

    def refs_of(**params) -> tuple[int, list[str]]:
        page = client.get(f"{A}/applications", params=params, headers=reviewer).json()
        return page["total"], [a["reference"] for a in page["items"]]

    assert refs_of() == (5, [*refs, submitted, in_docs])
    assert refs_of(state="draft", limit=2) == (3, refs[:2])
    assert refs_of(state="draft", limit=2, offset=2) == (3, refs[2:])
    assert refs_of(state="submitted", call="ZiQ-2021", module="B1") == (1, [submitted])
    assert refs_of(module="B2") == (0, [])
    assert refs_of(q=submitted) == (1, [submitted])
    assert refs_of(q="stadtteilmütter")[0] in (0, 5)  # SQLite folds only ASCII case
    assert refs_of(q="Stadtteil", municipality="Gelsenkirchen")[0] == 5
    assert refs_of(q="100%_") == (0, [])
    assert refs_of(organisation=api_world.world.carrier.organisation_id)[0] == 5
    # Nothing is overdue yet: the document request is due in 14 days.
    assert refs_of(overdue=True) == (0, [])
    assert refs_of(overdue=False)[0] == 5
    deadlines = client.get(f"{A}/applications/{in_docs}/deadlines", headers=reviewer).json()
    assert deadlines[0]["kind"] == "document_request" and deadlines[0]["overdue"] is False
    assert deadlines[0]["label"] == "Nachforderung"


def test_overdue_filter_finds_a_past_deadline(client: TestClient, api_world: ApiWorld) -> None:
    from datetime import timedelta

    from sqlmodel import select

    from workflow.db import unit_of_work
    from workflow.models import Application, Deadline

    late = application_in(api_world, "in_review")
    reviewer = login(client, api_world.emails["reviewer"])
    client.post(f"{A}/applications/{late}/transitions/request_documents",
                json={"reason": "Satzung fehlt"}, headers=reviewer)
    with unit_of_work(api_world.engine) as session:
        app = session.exec(select(Application).where(Application.reference == late)).one()
        deadline = session.exec(select(Deadline).where(Deadline.application_id == app.id)).one()
        deadline.due_date = deadline.opened_at.date() - timedelta(days=3)
        session.add(deadline)
    page = client.get(f"{A}/applications", params={"overdue": "true"}, headers=reviewer).json()
    assert [a["reference"] for a in page["items"]] == [late]


def test_transitions_say_why_not(client: TestClient, api_world: ApiWorld) -> None:
    ref = application_in(api_world, "recommended")
    reviewer = login(client, api_world.emails["reviewer"])
    offered = {t["trigger"]: t for t in client.get(
        f"{A}/applications/{ref}/transitions", headers=reviewer).json()}
    assert offered["reject"]["available"] is True
    assert offered["approve"]["available"] is False
    assert offered["approve"]["reason"]["type"] == "not-permitted"
    approver = login(client, api_world.emails["approver"])
    mine = {t["trigger"]: t for t in client.get(
        f"{A}/applications/{ref}/transitions", headers=approver).json()}
    assert mine["approve"] == {"trigger": "approve", "label": "Bewilligen", "available": True,
                               "reason": None}


def test_funding_stop_and_budget_change(client: TestClient, api_world: ApiWorld, carrier) -> None:
    admin = login(client, api_world.emails["admin"])
    draft = application_in(api_world, "draft")
    declared = client.post(f"{A}/admin/calls/ZiQ-2021/funding-stop",
                           json={"reason": "Haushaltssperre"}, headers=admin)
    assert declared.status_code == 200
    stop = client.get(f"{A}/calls/ZiQ-2021", headers=carrier).json()["funding_stop"]
    assert stop["in_force"] is True and stop["kind"] == "declared"
    assert stop["reason"] == "Haushaltssperre" and stop["since"]
    refused = client.post(f"{A}/applications/{draft}/transitions/submit", json={},
                          headers=carrier)
    assert refused.status_code == 409 and refused.json()["type"].endswith("/funding-stop")
    assert "Fördermittelstopp" in refused.json()["detail"]
    assert version_of(api_world.engine, draft) == ("draft", 1)
    lifted = client.delete(f"{A}/admin/calls/ZiQ-2021/funding-stop", headers=admin).json()
    assert lifted["funding_stop"]["in_force"] is False
    again = client.delete(f"{A}/admin/calls/ZiQ-2021/funding-stop", headers=admin)
    assert again.status_code == 409

    cut = client.post(f"{A}/admin/calls/ZiQ-2021/budget-changes", headers=admin,
                      json={"year": Y2, "source": "Landesmittel", "delta": "-2500.50"})
    assert cut.status_code == 200, cut.text
    assert {y["year"]: y["available"] for y in cut.json()["years"]}[Y2] == "997499.50"
    too_much = client.post(f"{A}/admin/calls/ZiQ-2021/budget-changes", headers=admin,
                           json={"year": Y2, "source": "Landesmittel", "delta": "-2000000"})
    assert too_much.status_code == 422
    no_line = client.post(f"{A}/admin/calls/ZiQ-2021/budget-changes", headers=admin,
                          json={"year": Y2, "source": "ESF", "delta": "10"})
    assert no_line.status_code == 404
    floaty = client.post(f"{A}/admin/calls/ZiQ-2021/budget-changes", headers=admin,
                         json={"year": Y2, "source": "Landesmittel", "delta": 10.5})
    assert floaty.status_code == 422
    ledger = client.get(f"{A}/admin/calls/ZiQ-2021/ledger", headers=admin).json()
    assert ledger["items"][-1]["budget_delta"] == "-2500.50"
    assert ledger["total"] == 3  # two opening budgets and the cut


def test_calls_show_the_public_status(client: TestClient, carrier) -> None:
    calls = client.get(f"{A}/calls", headers=carrier).json()
    assert [c["code"] for c in calls] == ["ZiQ-2021"]
    call = calls[0]
    assert call["submission_window"]["open_now"] is True
    assert call["funding_stop"] == {"in_force": False, "kind": None, "since": None,
                                    "reason": None}
    assert call["years"] == [
        {"year": Y1, "budget": "1000000.00", "committed": "0.00", "available": "1000000.00",
         "available_cents": 100_000_000},
        {"year": Y2, "budget": "1000000.00", "committed": "0.00", "available": "1000000.00",
         "available_cents": 100_000_000}]
    assert client.get(f"{A}/calls/ZiQ-1900", headers=carrier).status_code == 404


def test_admin_user_validation(client: TestClient, api_world: ApiWorld) -> None:
    admin = login(client, api_world.emails["admin"])
    base = {"email": "neu@example.org", "name": "Neu", "role": "carrier",
            "password": "lang-genug-1"}
    no_org = client.post(f"{A}/admin/users", json=base, headers=admin)
    assert no_org.status_code == 422 and no_org.json()["field"] == "organisation_id"
    org = api_world.world.carrier.organisation_id
    ok = client.post(f"{A}/admin/users", json={**base, "organisation_id": org}, headers=admin)
    assert ok.status_code == 201 and ok.json()["organisation_id"] == org
    twice = client.post(f"{A}/admin/users", json={**base, "organisation_id": org}, headers=admin)
    assert twice.status_code == 409
    short = client.post(f"{A}/admin/users", json={**base, "password": "kurz"}, headers=admin)
    assert short.status_code == 422 and short.json()["field"] == "password"
    system = client.post(f"{A}/admin/users", json={**base, "role": "system"}, headers=admin)
    assert system.status_code == 422
    listed = client.get(f"{A}/admin/users", headers=admin).json()
    assert "password_hash" not in listed[0] and len(listed) == 8


def test_workflow_diagram(client: TestClient, carrier) -> None:
    text = client.get(f"{A}/workflow/diagram", headers=carrier).text
    assert text.startswith("stateDiagram-v2") and "approve (approver)" in text
    english = client.get(f"{A}/workflow/diagram", headers={**carrier, "Accept-Language": "en"})
    assert 'state "Draft" as draft' in english.text


def test_openapi_lists_everything_under_api_v1(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {p for p in paths if not p.startswith("/api/v1/")} == {"/healthz", "/readyz"}
    assert client.get("/docs").status_code == 200


def test_only_drafts_can_be_edited(client: TestClient, api_world: ApiWorld, carrier) -> None:
    draft = application_in(api_world, "draft")
    edited = client.patch(f"{A}/applications/{draft}", headers=carrier, json={
        "amounts": {str(Y1): "12345.67"}, "quartier": "Bismarck", "project_end": f"{Y2}-06-30"})
    assert edited.status_code == 200, edited.text
    body = edited.json()
    assert body["years"] == [{"year": Y1, "requested": "12345.67", "approved": None,
                              "spent": None}]
    assert body["quartier"] == "Bismarck" and body["project_end"] == f"{Y2}-06-30"
    assert body["version"] == 2 and edited.headers["ETag"] == 'W/"2"'
    submitted = application_in(api_world, "submitted")
    refused = client.patch(f"{A}/applications/{submitted}", json={"title": "Neu"},
                           headers={**carrier, "Accept-Language": "en"})
    assert refused.status_code == 409
    assert refused.json()["title"] == "Not possible in the current state"
    assert refused.json()["detail"] == "Only drafts can be edited."
    assert version_of(api_world.engine, submitted) == ("submitted", 2)


def test_a_late_refusal_rolls_back_what_the_engine_already_wrote(
        client: TestClient, api_world: ApiWorld) -> None:
    """The engine refuses a past deadline only after it changed the state: nothing may stay."""
    from sqlmodel import func, select

    from notifications.outbox import OutboxMessage
    from workflow.db import unit_of_work
    from workflow.models import Deadline, TransitionRecord

    ref = application_in(api_world, "in_review")

    def counts() -> tuple[int, int, int]:
        with unit_of_work(api_world.engine) as session:
            return tuple(session.exec(select(func.count()).select_from(m)).one()
                         for m in (TransitionRecord, Deadline, OutboxMessage))

    before = counts()
    reviewer = login(client, api_world.emails["reviewer"])
    refused = client.post(f"{A}/applications/{ref}/transitions/request_documents", json={
        "reason": "Satzung fehlt", "payload": {"deadline": "2020-01-01"}}, headers=reviewer)
    assert refused.status_code == 422 and refused.json()["field"] == "deadline"
    assert version_of(api_world.engine, ref) == ("in_review", 3)
    assert counts() == before


def test_escalated_filter_lists_applications_whose_grace_period_ended(
        client: TestClient, api_world: ApiWorld) -> None:
    from datetime import UTC, datetime, timedelta

    from workflow.reminders import run_reminder_pass

    late = application_in(api_world, "in_review")
    on_time = application_in(api_world, "in_review")
    reviewer = login(client, api_world.emails["reviewer"])
    for ref in (late, on_time):
        client.post(f"{A}/applications/{ref}/transitions/request_documents",
                    json={"reason": "Satzung fehlt"}, headers=reviewer)
    carrier = login(client, api_world.emails["carrier"])
    client.post(f"{A}/applications/{on_time}/transitions/provide_documents",
                json={"reason": "anbei"}, headers=carrier)
    # 14 days to answer, 7 days overdue: formal reminder; 14 more days of grace: escalation.
    run_reminder_pass(api_world.engine, now=datetime.now(UTC) + timedelta(days=22))
    run_reminder_pass(api_world.engine, now=datetime.now(UTC) + timedelta(days=40))
    page = client.get(f"{A}/applications", params={"escalated": "true"}, headers=reviewer).json()
    assert [a["reference"] for a in page["items"]] == [late]
    rest = client.get(f"{A}/applications", params={"escalated": "false"}, headers=reviewer).json()
    assert late not in [a["reference"] for a in rest["items"]]
