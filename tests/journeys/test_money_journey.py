"""Issue 16, done when 1: the money after the approval over HTTP, one token per role.

Approved 50,000 € a year; the carrier waives appeal and calls 60 % of year 1 (30,000 €); a
reviewer certifies it, the same reviewer may not order it, an approver does; the SEPA file is
valid pain.001. The Verwendungsnachweis comes with a Belegliste imported from CSV: 20,000 € in
year 1, nothing in year 2; the check fixes the final grant at 20,000 €, below the 30,000 € paid.
The settlement opens the hearing on a partial revocation, the approver revokes in part, the
claim of 10,000 € bears § 49a interest computed for a given repayment day; the repayment of
that balance settles the claim and the case closes."""

from __future__ import annotations

from datetime import timedelta

import xmlschema
from fastapi.testclient import TestClient
from sqlmodel import select

from api.app import create_app
from tests.api.conftest import Y1, A, api_settings, application_in, build_world, login
from tests.api.routers.test_final_report import CHECK, _csv
from tests.api.routers.test_payments import IBAN, OFFICE_IBAN, XSD
from tests.factories import final_report_payload
from tests.workflow.settlement_helpers import repayment_account
from workflow import interest, settlement
from workflow.claim_tables import RepaymentClaim
from workflow.db import unit_of_work
from workflow.models import ApplicationYear, User


def test_approve_pay_report_settle_reclaim_and_close_over_http(any_engine) -> None:
    aw = build_world(any_engine)
    with unit_of_work(aw.engine) as s:
        user = s.get(User, aw.user_ids["carrier"])
        user.organisation_admin = True
        s.add(user)
        repayment_account(s)
    ref = application_in(aw, "approved")
    settings = api_settings().model_copy(update={"paying_office_iban": OFFICE_IBAN,
                                                 "paying_office_name": "Landeskasse NRW"})
    with TestClient(create_app(engine=aw.engine, settings=settings)) as client:
        carrier = login(client, aw.emails["carrier"])
        reviewer = login(client, aw.emails["reviewer"])
        approver = login(client, aw.emails["approver"])
        admin = login(client, aw.emails["admin"])

        def ok(response, status: int = 200):  # noqa: ANN001, ANN202
            assert response.status_code == status, response.text
            return response.json() if response.headers["content-type"].startswith(
                "application/json") else response

        def fire(headers, trigger, body=None):  # noqa: ANN001, ANN202
            return ok(client.post(f"{A}/applications/{ref}/transitions/{trigger}",
                                  json=body or {}, headers=headers))

        # Finality by waiver; the bank account; 60 % of year 1.
        ok(client.post(f"{A}/applications/{ref}/waiver-of-appeal", headers=carrier))
        ok(client.put(f"{A}/me/organisation/bank-account",
                      json={"iban": IBAN, "account_holder": "Träger 1 e.V."}, headers=carrier))
        call = ok(client.post(f"{A}/applications/{ref}/funds-calls", headers=carrier, json={
            "year": Y1, "amount": "30000.00", "needed_within_two_months": True,
            "purpose": "Personalausgaben"}), 201)
        ok(client.post(f"{A}/funds-calls/{call['id']}/check", json={"note": "sachlich richtig"},
                       headers=reviewer))
        same = client.post(f"{A}/funds-calls/{call['id']}/order", json={}, headers=reviewer)
        assert same.status_code == 403 and "Vier-Augen-Prinzip" in same.json()["detail"]
        ordered = ok(client.post(f"{A}/funds-calls/{call['id']}/order", json={},
                                 headers=approver))
        assert ordered["payment"]["amount"] == "30000.00"
        sepa = ok(client.post(f"{A}/payments/sepa-exports", headers=admin), 201)
        xmlschema.XMLSchema(str(XSD)).validate(sepa.content.decode("utf-8"))

        # The project runs; the Verwendungsnachweis with its Belegliste from a CSV file.
        fire(carrier, "start", {"payload": {"waiver_of_appeal": True}})
        url = f"{A}/applications/{ref}/final-report"
        report = final_report_payload({str(Y1): "20000", str(Y1 + 1): "0"})
        ok(client.put(url, json={"sachbericht": report["sachbericht"],
                                 "nachweis": report["nachweis"]}, headers=carrier))
        ok(client.post(f"{url}/belegliste", headers=carrier, data={"file_into_draft": "true"},
                       files={"file": ("belege.csv", _csv([
                           f"31.03.{Y1};Lohnbüro;Gehalt;15.000,00;personnel;{Y1}",
                           f"30.04.{Y1};Lohnbüro;Gehalt;5.000,00;Personalausgaben;{Y1}"]),
                           "text/csv")}))
        ok(client.post(f"{url}/submit", headers=carrier))
        checked = ok(client.post(f"{url}/check", headers=reviewer, json=CHECK))
        assert checked["check"]["final_grant"][str(Y1)] == "20000.00"

        # Settlement: 10,000 € paid beyond the final grant; hearing, partial revocation.
        settled = ok(client.post(f"{A}/applications/{ref}/settlement", headers=reviewer,
                                 json={"reason": "Ausgaben 2021 nur zum Teil nachgewiesen"}))
        assert settled["state"] == "revocation_hearing"
        fire(carrier, "answer_hearing", {"reason": "Wir sehen es ein."})
        fire(approver, "revoke_partially", {"reason": "Teilwiderruf in Höhe der Überzahlung"})
        with unit_of_work(aw.engine) as s:
            effective = s.exec(select(RepaymentClaim)).one().effective_on
        on = effective + timedelta(days=45)
        claim = ok(client.get(f"{A}/applications/{ref}/claim", params={"on": on.isoformat()},
                              headers=carrier))
        expected = interest.interest(10_000_00, effective, on).cents
        assert expected > 0
        assert claim["balance"]["interest"] == settlement.euros(expected)
        owed = claim["balance"]["open"]
        assert owed == settlement.euros(10_000_00 + expected)

        # A repayment cannot be dated ahead of today; the balance of today is repaid, the
        # claim is settled (the claim closes), and the case closes.
        ahead = client.post(f"{A}/applications/{ref}/claim/repayments", headers=reviewer,
                            json={"amount": owed, "value_date": on.isoformat()})
        assert ahead.status_code == 422 and "Zukunft" in ahead.json()["detail"]
        today = ok(client.get(f"{A}/applications/{ref}/claim", headers=carrier))
        body = ok(client.post(f"{A}/applications/{ref}/claim/repayments", headers=reviewer,
                              json={"amount": today["balance"]["open"]}), 201)
        assert body["balance"]["open"] == "0.00" and body["status"] == "paid"
        fire(reviewer, "close", {"reason": "Rückforderung beglichen"})
        assert ok(client.get(f"{A}/applications/{ref}", headers=carrier))["state"] == "closed"
        with unit_of_work(aw.engine) as s:
            years = {y.year: y for y in s.exec(select(ApplicationYear))}
            assert years[Y1].paid_cents == 30_000_00 and years[Y1].repaid_cents == 10_000_00
            assert years[Y1].final_grant_cents == 20_000_00
