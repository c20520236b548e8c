"""api/routers/applications.py: drafts, the list and its filters, deadlines, transitions, and
firing them (refusals change nothing; a stale If-Match is 412)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import func, select

from tests.api.conftest import (
    Y1,
    Y2,
    A,
    ApiWorld,
    amounts,
    application_body,
    application_in,
    count,
    login,
    version_of,
)
from workflow.db import unit_of_work
from workflow.models import Application, TransitionRecord


def test_unknown_trigger_and_wrong_state(client: TestClient, api_world: ApiWorld, carrier) -> None:
    ref = application_in(api_world, "draft")
    unknown = client.post(f"{A}/applications/{ref}/transitions/zaubern", json={}, headers=carrier)
    assert unknown.status_code == 422 and unknown.json()["type"].endswith("/unknown-trigger")
    wrong = client.post(f"{A}/applications/{ref}/transitions/submit_final_report",
                        json={"payload": {"spending": amounts()}}, headers=carrier)
    assert wrong.status_code == 409 and wrong.json()["type"].endswith("/wrong-state")
    assert "Entwurf" in wrong.json()["detail"]
    assert version_of(api_world.engine, ref) == ("draft", 1)


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

    # Staff never see the carrier's unsubmitted drafts; the carrier sees them.
    assert refs_of() == (2, [submitted, in_docs])
    assert refs_of(state="draft") == (0, [])
    carrier = login(client, api_world.emails["carrier"])

    def carrier_refs(**params) -> tuple[int, list[str]]:
        page = client.get(f"{A}/applications", params=params, headers=carrier).json()
        return page["total"], [a["reference"] for a in page["items"]]

    assert carrier_refs(state="draft", limit=2) == (3, refs[:2])
    assert carrier_refs(state="draft", limit=2, offset=2) == (3, refs[2:])
    assert client.get(f"{A}/applications/{refs[0]}", headers=reviewer).status_code == 404
    assert client.get(f"{A}/applications/{refs[0]}", headers=carrier).status_code == 200
    assert refs_of(state="submitted", call="ZiQ-2021", module="B1") == (1, [submitted])
    assert refs_of(module="B2") == (0, [])
    assert refs_of(q=submitted) == (1, [submitted])
    assert refs_of(q="stadtteilmütter")[0] in (0, 2)  # SQLite folds only ASCII case
    assert refs_of(q="Stadtteil", municipality="Gelsenkirchen")[0] == 2
    assert refs_of(q="100%_") == (0, [])
    assert refs_of(organisation=api_world.world.carrier.organisation_id)[0] == 2
    # Nothing is overdue yet: the document request is due in 14 days.
    assert refs_of(overdue=True) == (0, [])
    assert refs_of(overdue=False)[0] == 2
    deadlines = client.get(f"{A}/applications/{in_docs}/deadlines", headers=reviewer).json()
    assert deadlines[0]["kind"] == "document_request" and deadlines[0]["overdue"] is False
    assert deadlines[0]["label"] == "Nachforderung"


def test_overdue_filter_finds_a_past_deadline(client: TestClient, api_world: ApiWorld) -> None:
    from datetime import timedelta

    from workflow.models import Deadline

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


def test_only_drafts_can_be_edited(client: TestClient, api_world: ApiWorld, carrier) -> None:
    draft = application_in(api_world, "draft")
    edited = client.patch(f"{A}/applications/{draft}", headers=carrier, json={
        "finance_plan": {str(Y1): {"expenses": {"personnel": "12845.67"}, "own": "500"}},
        "quartier": "Bismarck", "project_end": f"{Y2}-06-30"})
    assert edited.status_code == 200, edited.text
    body = edited.json()
    assert body["years"] == [{"year": Y1, "requested": "12345.67", "approved": None,
                              "spent": None}]
    assert body["own_contribution"] == "500.00"
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

    from notifications.outbox import OutboxMessage
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
                json={"reason": "anbei", "payload": {"explanation": "Satzung folgt per Post"}},
                headers=carrier)
    # 14 days to answer, 7 days overdue: formal reminder; 14 more days of grace: escalation.
    run_reminder_pass(api_world.engine, now=datetime.now(UTC) + timedelta(days=22))
    run_reminder_pass(api_world.engine, now=datetime.now(UTC) + timedelta(days=40))
    page = client.get(f"{A}/applications", params={"escalated": "true"}, headers=reviewer).json()
    assert [a["reference"] for a in page["items"]] == [late]
    rest = client.get(f"{A}/applications", params={"escalated": "false"}, headers=reviewer).json()
    assert late not in [a["reference"] for a in rest["items"]]


def test_stale_if_match_is_412_and_changes_nothing(client: TestClient,
                                                   api_world: ApiWorld) -> None:
    carrier = login(client, api_world.emails["carrier"])
    created = client.post(f"{A}/applications", json=application_body(), headers=carrier)
    ref, etag = created.json()["reference"], created.headers["ETag"]
    assert etag == 'W/"1"'
    edited = client.patch(f"{A}/applications/{ref}", json={"title": "Stadtteilmütter Nord"},
                          headers={**carrier, "If-Match": etag})
    assert edited.status_code == 200 and edited.headers["ETag"] == 'W/"2"'

    stale_fire = client.post(f"{A}/applications/{ref}/transitions/submit", json={},
                             headers={**carrier, "If-Match": etag})
    assert stale_fire.status_code == 412
    problem = stale_fire.json()
    assert problem["type"].endswith("/precondition-failed") and problem["current_version"] == 2
    stale_edit = client.patch(f"{A}/applications/{ref}", json={"title": "Überschrieben"},
                              headers={**carrier, "If-Match": '"1"'})
    assert stale_edit.status_code == 412
    assert version_of(api_world.engine, ref) == ("draft", 2)
    detail = client.get(f"{A}/applications/{ref}", headers=carrier)
    assert detail.json()["title"] == "Stadtteilmütter Nord" and detail.headers["ETag"] == 'W/"2"'
    assert count(api_world, TransitionRecord, TransitionRecord.trigger == "submit") == 0

    fresh = client.post(f"{A}/applications/{ref}/transitions/submit", json={},
                        headers={**carrier, "If-Match": detail.headers["ETag"]})
    assert fresh.status_code == 200 and fresh.headers["ETag"] == 'W/"3"'

    bad = client.post(f"{A}/applications/{ref}/transitions/start_review", json={},
                      headers={**login(client, api_world.emails["reviewer"]),
                               "If-Match": "irgendwas"})
    assert bad.status_code == 422 and bad.json()["field"] == "If-Match"


def test_refusals_of_a_transition_carry_english_labels(client: TestClient,
                                                       api_world: ApiWorld) -> None:
    ref = application_in(api_world, "in_review")
    reviewer = {**login(client, api_world.emails["reviewer"]), "Accept-Language": "en"}
    response = client.post(f"{A}/applications/{ref}/transitions/recommend",
                           json={"reason": "ok", "payload": {"amounts": {str(Y1): "-5"}}},
                           headers=reviewer)
    assert response.status_code == 422
    assert response.json()["detail"] == f"Grant amount {Y1}: the amount must not be negative."
    german = client.post(f"{A}/applications/{ref}/transitions/recommend",
                         json={"reason": "ok", "payload": {"amounts": {str(Y1): "1e4"}}},
                         headers={**reviewer, "Accept-Language": "de"}).json()["detail"]
    assert german.startswith(f"Bewilligungsbetrag {Y1}: „1e4“ ist kein gültiger Betrag")


# ------------------------------------------------------------------ the finance plan (issue 14)


def test_the_finance_plan_over_http(client: TestClient, api_world: ApiWorld, carrier) -> None:
    plan = {str(Y1): {"expenses": {"personnel": "50000", "rent": "6000,50"}, "own": "4000",
                      "third_party": "2000"},
            str(Y2): {"expenses": {"personnel": "30000"}, "own": 1000}}
    created = client.post(f"{A}/applications", headers=carrier,
                          json=application_body(finance_plan=plan))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["finance_plan"][str(Y1)] == {
        "expenses": {"personnel": "50000.00", "fees": "0.00", "material": "0.00",
                     "rent": "6000.50", "investment": "0.00"},
        "own": "4000.00", "third_party": "2000.00", "grant": "50000.50",
        "total_expenses": "56000.50", "total_financing": "56000.50", "difference": "0.00"}
    assert [y["requested"] for y in body["years"]] == ["50000.50", "29000.00"]
    assert body["own_contribution"] == "5000.00"
    ref = body["reference"]
    shown = client.get(f"{A}/applications/{ref}", headers=carrier).json()
    assert shown["finance_plan"] == body["finance_plan"]
    # Amounts beside the plan: 422, field named, nothing written.
    beside = client.patch(f"{A}/applications/{ref}", headers=carrier,
                          json={"amounts": {str(Y1): "1000"}})
    assert beside.status_code == 422 and beside.json()["field"] == "amounts"
    assert "Finanzierungsplan" in beside.json()["detail"]
    assert version_of(api_world.engine, ref) == ("draft", 1)
    submitted = client.post(f"{A}/applications/{ref}/transitions/submit", json={},
                            headers=carrier)
    assert submitted.status_code == 200, submitted.text


def test_an_unbalanced_plan_refuses_the_submission(client: TestClient, api_world: ApiWorld,
                                                   carrier) -> None:
    # Fehlbedarf without a maximum balances whenever own and third-party money stay below the
    # expenses; here they exceed them in the second year.
    plan = {str(Y1): {"expenses": {"personnel": "50000"}, "own": "4000"},
            str(Y2): {"expenses": {"material": "3000"}, "own": "2000", "third_party": "2000"}}
    ref = client.post(f"{A}/applications", headers=carrier,
                      json=application_body(finance_plan=plan)).json()["reference"]
    refused = client.post(f"{A}/applications/{ref}/transitions/submit", json={},
                          headers=carrier)
    assert refused.status_code == 422
    problem = refused.json()
    assert problem["field"] == "finance_plan" and problem["years"] == [Y2]
    assert (f"{Y2}: Ausgaben 3.000,00 € ≠ Finanzierung 4.000,00 € (Differenz 1.000,00 €)"
            in problem["detail"])
    assert version_of(api_world.engine, ref) == ("draft", 1)


def test_a_plan_with_a_grant_line_or_a_float_is_refused(client: TestClient, carrier) -> None:
    for plan, status in (({str(Y1): {"expenses": {"personnel": 1.5}}}, 422),
                         ({str(Y1): {"grant": "100"}}, 422)):
        answer = client.post(f"{A}/applications", headers=carrier,
                             json=application_body(finance_plan=plan))
        assert answer.status_code == status, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")


def test_a_filter_with_a_nul_character_is_refused_before_the_database(
        client: TestClient, api_world: ApiWorld, carrier) -> None:
    # PostgreSQL cannot hold NUL in a string; the schema says so and the request gets a 422
    # naming the parameter, not the database's error.
    for name in ("q", "module", "call", "municipality"):
        response = client.get("/api/v1/applications", params={name: "Haus\x00"}, headers=carrier)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert name in response.text
