"""The whole ZiQ journey over HTTP, one token per role, on SQLite and on PostgreSQL."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.app import create_app
from tests.api.conftest import Y1, Y2, amounts, api_settings, application_body, build_world, login
from tests.factories import final_report_payload


def available(client: TestClient, headers: dict[str, str]) -> dict[int, str]:
    response = client.get("/api/v1/calls/ZiQ-2021", headers=headers)
    assert response.status_code == 200, response.text
    return {y["year"]: y["available"] for y in response.json()["years"]}


def test_ziq_journey_over_http(any_engine) -> None:
    aw = build_world(any_engine)
    with TestClient(create_app(engine=any_engine, settings=api_settings())) as client:
        carrier = login(client, aw.emails["carrier"])
        other = login(client, aw.emails["other_carrier"])
        reviewer = login(client, aw.emails["reviewer"])
        approver = login(client, aw.emails["approver"])
        admin = login(client, aw.emails["admin"])
        observer = login(client, aw.emails["observer"])

        def fire(headers, trigger, body=None, expect=200, **extra_headers):
            response = client.post(f"/api/v1/applications/{ref}/transitions/{trigger}",
                                   json=body or {}, headers={**headers, **extra_headers})
            assert response.status_code == expect, response.text
            return response

        assert available(client, carrier) == {Y1: "1000000.00", Y2: "1000000.00"}

        created = client.post("/api/v1/applications", json=application_body(), headers=carrier)
        assert created.status_code == 201, created.text
        app = created.json()
        ref = app["reference"]
        assert app["state"] == "draft" and app["state_label"] == "Entwurf"
        assert created.headers["ETag"] == 'W/"1"'
        assert created.headers["Location"] == f"/api/v1/applications/{ref}"
        assert app["years"] == [
            {"year": Y1, "requested": "50000.00", "approved": None, "spent": None},
            {"year": Y2, "requested": "50000.00", "approved": None, "spent": None}]
        assert app["own_contribution"] == "1000.00"

        offered = {t["trigger"]: t for t in client.get(
            f"/api/v1/applications/{ref}/transitions", headers=carrier).json()}
        assert offered["submit"]["available"] is True
        assert offered["approve"]["available"] is False
        assert offered["approve"]["reason"]["type"] == "not-permitted"

        fire(carrier, "submit", **{"If-Match": 'W/"1"'})
        assert client.get(f"/api/v1/applications/{ref}", headers=other).status_code == 404
        fire(observer, "start_review", expect=403)
        fire(reviewer, "start_review")
        fire(reviewer, "request_documents",
             {"reason": "Bitte den Finanzierungsplan nachreichen.",
              "payload": {"documents": ["Finanzierungsplan"]}})
        deadlines = client.get(f"/api/v1/applications/{ref}/deadlines", headers=carrier).json()
        assert [(d["kind"], d["status"]) for d in deadlines] == [("document_request", "open")]
        plan = client.post(f"/api/v1/applications/{ref}/documents", headers=carrier,
                           data={"purpose": "document_request"},
                           files={"file": ("Finanzierungsplan.pdf", b"%PDF-1.4\n%%EOF\n",
                                           "application/pdf")})
        assert plan.status_code == 201, plan.text
        provided = fire(carrier, "provide_documents", {"reason": "Finanzierungsplan anbei."})
        assert provided.json()["transition"]["payload"]["document_files"] == [
            {"id": plan.json()["id"], "filename": "Finanzierungsplan.pdf"}]
        fire(reviewer, "recommend", {"reason": "Förderfähig.", "payload": {"amounts": amounts()}})

        refused = fire(reviewer, "approve", expect=403, **{"Accept-Language": "en"})
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert "not allowed for role reviewer" in refused.json()["detail"]

        approved = fire(approver, "approve").json()
        assert approved["application"]["state"] == "approved"
        assert approved["application"]["approved_by_id"] == aw.user_ids["approver"]
        assert available(client, observer) == {Y1: "950000.00", Y2: "950000.00"}

        fire(carrier, "start", {"payload": {"waiver_of_appeal": True}})  # before its start
        fire(carrier, "submit_final_report",
             {"reason": "Verwendungsnachweis",
              "payload": final_report_payload(amounts("40000", "45000.50"))})
        checked = client.post(f"/api/v1/applications/{ref}/final-report/check", headers=reviewer,
                              json={"summary": "Nachweis schlüssig.", "ratings": {
                                  c: {"rating": "erfuellt"} for c in
                                  ("sachbericht", "finanzplan", "belegliste", "zweck")}})
        assert checked.status_code == 200, checked.text
        closed = fire(reviewer, "close", {"reason": "Nachweis geprüft."}).json()
        assert closed["application"]["state"] == "closed"
        assert closed["application"]["years"] == [
            {"year": Y1, "requested": "50000.00", "approved": "50000.00", "spent": "40000.00"},
            {"year": Y2, "requested": "50000.00", "approved": "50000.00", "spent": "45000.50"}]
        assert closed["transition"]["payload"]["released_cents"] == 14_999_50

        # The under-spend (10,000.00 + 4,999.50) is available again.
        assert available(client, carrier) == {Y1: "960000.00", Y2: "954999.50"}

        history = client.get(f"/api/v1/applications/{ref}/history", headers=carrier).json()
        assert [h["trigger"] for h in history] == [
            "create", "submit", "start_review", "request_documents", "provide_documents",
            "recommend", "approve", "start", "submit_final_report", "check_final_report", "close"]
        ledger = client.get("/api/v1/admin/calls/ZiQ-2021/ledger", headers=admin).json()
        mine = [(e["kind"], e["year"], e["committed_delta"]) for e in ledger["items"]
                if e["application"] == ref]
        assert mine == [("commit", Y1, "50000.00"), ("commit", Y2, "50000.00"),
                        ("release", Y1, "-10000.00"), ("release", Y2, "-4999.50")]
