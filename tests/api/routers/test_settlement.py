"""The settlement over HTTP: the settlement view, settle (a hearing on the over-payment), the
claim with interest for `?on=`, repayments, all claims and their CSV/XLSX export; refusals are
German-first problem+json and write nothing."""

from __future__ import annotations

import io
from datetime import timedelta

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import select

from tests.api.conftest import PROBLEM, Y1, Y2, A, ApiWorld, application_in, count, login
from tests.workflow.settlement_helpers import fix_final_grant, pay, repayment_account, report
from tests.workflow.test_payments import with_bank_account
from workflow import engine as wf
from workflow import interest, settlement
from workflow.claim_tables import Repayment, RepaymentClaim
from workflow.db import unit_of_work
from workflow.models import TransitionRecord


def _reported(api_world: ApiWorld) -> str:
    ref = application_in(api_world, "active")
    with unit_of_work(api_world.engine) as s:
        world = api_world.world
        with_bank_account(s, world)
        repayment_account(s)
        now = wf.utcnow()
        pay(s, world, ref, Y1, "30000", now=now)
        report(s, world, ref, {str(Y1): "20000", str(Y2): "0"}, now=now)
        fix_final_grant(s, ref, {Y1: 20_000_00, Y2: 0})
    return ref


def test_settle_claim_interest_repayment_and_export(client: TestClient,
                                                    api_world: ApiWorld) -> None:
    ref = _reported(api_world)
    reviewer = login(client, api_world.emails["reviewer"])
    carrier = login(client, api_world.emails["carrier"])
    url = f"{A}/applications/{ref}/settlement"

    view = client.get(url, headers=reviewer)
    assert view.status_code == 200, view.text
    body = view.json()
    assert [y["difference"] for y in body["years"]] == ["10000.00", "0.00"]
    assert body["claim"] is None and body["final_grant_complete"] is True

    records = count(api_world, TransitionRecord)
    missing = client.post(url, json={}, headers=reviewer)
    assert missing.status_code == 422 and missing.headers["content-type"] == PROBLEM
    assert "Teilwiderruf" in missing.json()["detail"]
    assert count(api_world, TransitionRecord) == records
    by_carrier = client.post(url, json={"reason": "x"}, headers=carrier)
    assert by_carrier.status_code == 403

    settled = client.post(url, json={"reason": "Ausgaben nicht belegt"}, headers=reviewer)
    assert settled.status_code == 200, settled.text
    assert settled.json()["state"] == "revocation_hearing"
    assert client.get(f"{A}/applications/{ref}/claim", headers=reviewer).status_code == 404

    with unit_of_work(api_world.engine) as s:
        wf.fire(s, ref, "answer_hearing", api_world.actor("carrier"), reason="Ja")
        wf.fire(s, ref, "revoke_partially", api_world.actor("approver"), reason="Teilwiderruf")
        claim = s.exec(select(RepaymentClaim)).one()
        effective = claim.effective_on
    later = effective + timedelta(days=30)
    shown = client.get(f"{A}/applications/{ref}/claim", params={"on": later.isoformat()},
                       headers=carrier)
    assert shown.status_code == 200, shown.text
    expected = interest.interest(10_000_00, effective, later).cents
    assert shown.json()["balance"]["interest"] == settlement.euros(expected)
    assert shown.json()["balance"]["open"] == settlement.euros(10_000_00 + expected)
    assert shown.json()["account"]["iban"] == "DE02300500000001234567"

    repayments = f"{A}/applications/{ref}/claim/repayments"
    too_much = client.post(repayments, json={"amount": "20000.00"}, headers=reviewer)
    assert too_much.status_code == 422 and "übersteigt" in too_much.json()["detail"]
    assert count(api_world, Repayment) == 0
    paid = client.post(repayments, json={"amount": "2500.00", "note": "Teilzahlung"},
                       headers=reviewer)
    assert paid.status_code == 201, paid.text
    assert paid.json()["balance"]["principal_open"] == "7500.00"
    assert paid.json()["repayments"][0]["principal"] == "2500.00"
    assert client.post(repayments, json={"amount": "1"}, headers=carrier).status_code == 403

    listed = client.get(f"{A}/claims", headers=reviewer)
    assert listed.status_code == 200 and [c["reference"] for c in listed.json()] == [ref]
    assert client.get(f"{A}/claims", headers=carrier).status_code == 403
    csv = client.get(f"{A}/exports/claims", params={"format": "csv"}, headers=reviewer)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Aktenzeichen;Rechtsgrund;Status;Hauptforderung (EUR)")
    assert ref in lines[1] and "Teilwiderruf" in lines[1] and "10000,00" in lines[1]
    xlsx = client.get(f"{A}/exports/claims", headers=reviewer)
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet["A2"].value == ref and float(sheet["K2"].value) == 7500.0
