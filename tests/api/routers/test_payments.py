"""Money after the approval over HTTP: approve, waive appeal, the bank account, call 60 % of year
1, check, order by a second person (the checker is refused), export the SEPA file (validated here
against the pain.001.001.03 XSD that sepaxml ships), the ledger's paid money in the call's
budget and the ledger; refusals are German-first problem+json and write nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sepaxml
import xmlschema
from fastapi.testclient import TestClient
from sqlmodel import select

from api.app import create_app
from tests.api.conftest import (
    PROBLEM,
    Y1,
    Y2,
    A,
    ApiWorld,
    api_settings,
    application_in,
    count,
    login,
)
from workflow.db import unit_of_work
from workflow.models import LedgerEntry, TransitionRecord, User
from workflow.payment_tables import FundsCall, Payment

IBAN = "DE89 3704 0044 0532 0130 00"
OFFICE_IBAN = "DE02120300000000202051"
XSD = Path(sepaxml.__file__).parent / "schemas" / "pain.001.001.03.xsd"


@pytest.fixture
def paying_client(api_world: ApiWorld) -> Iterator[TestClient]:
    settings = api_settings().model_copy(update={"paying_office_iban": OFFICE_IBAN,
                                                 "paying_office_name": "Landeskasse NRW"})
    with TestClient(create_app(engine=api_world.engine, settings=settings)) as client:
        yield client


def _organisation_admin(api_world: ApiWorld) -> None:
    with unit_of_work(api_world.engine) as s:
        user = s.get(User, api_world.user_ids["carrier"])
        user.organisation_admin = True
        s.add(user)


def test_the_whole_journey_of_a_call_of_funds(paying_client: TestClient,
                                               api_world: ApiWorld) -> None:
    client = paying_client
    ref = application_in(api_world, "approved")  # approved today: not final yet
    carrier = login(client, api_world.emails["carrier"])
    reviewer = login(client, api_world.emails["reviewer"])
    approver = login(client, api_world.emails["approver"])
    calls = f"{A}/applications/{ref}/funds-calls"
    body = {"year": Y1, "amount": "30000.00", "needed_within_two_months": True,
            "purpose": "Personalausgaben März bis April"}

    early = client.post(calls, json=body, headers=carrier)
    assert early.status_code == 409 and early.headers["content-type"] == PROBLEM
    assert "bestandskräftig" in early.json()["detail"]
    assert client.post(f"{A}/applications/{ref}/waiver-of-appeal",
                       headers=carrier).status_code == 200

    # The bank account: the organisation's admin sets it; an invalid IBAN is refused in German.
    account = f"{A}/me/organisation/bank-account"
    assert client.put(account, json={"iban": IBAN}, headers=carrier).status_code == 403
    _organisation_admin(api_world)
    wrong = client.put(account, json={"iban": "DE89 3704 0044 0532 0130 01"}, headers=carrier)
    assert wrong.status_code == 422 and wrong.headers["content-type"] == PROBLEM
    assert "keine gültige IBAN" in wrong.json()["detail"]
    saved = client.put(account, json={"iban": IBAN, "account_holder": "Träger 1 e.V."},
                       headers=carrier)
    assert saved.status_code == 200, saved.text
    assert saved.json()["iban"] == "DE89370400440532013000"
    assert saved.json()["bic"] == "COBADEFFXXX" and saved.json()["bank_name"] == "Commerzbank"
    assert client.get(account, headers=carrier).json()["iban_formatted"] == IBAN

    # 60 % of year 1; more than what is left is refused with the numbers.
    too_much = client.post(calls, json={**body, "amount": "50000.01"}, headers=carrier)
    assert too_much.status_code == 409 and "noch abrufbar 50.000,00 €" in too_much.json()[
        "detail"]
    assert client.post(calls, json=body, headers=reviewer).status_code == 403
    called = client.post(calls, json=body, headers=carrier)
    assert called.status_code == 201, called.text
    call = called.json()
    assert (call["status"], call["amount"], call["status_label"]) == (
        "requested", "30000.00", "Beantragt")
    listed = client.get(calls, headers=carrier).json()
    year1 = next(y for y in listed["years"] if y["year"] == Y1)
    assert (year1["committed"], year1["called_open"], year1["paid"], year1["callable"]) == (
        "50000.00", "30000.00", "0.00", "20000.00")

    checked = client.post(f"{A}/funds-calls/{call['id']}/check",
                          json={"note": "Belege plausibel"}, headers=reviewer)
    assert checked.status_code == 200, checked.text
    assert checked.json()["checked_by"] and checked.json()["checked_at"]

    rows = count(api_world, TransitionRecord)
    same = client.post(f"{A}/funds-calls/{call['id']}/order", json={}, headers=reviewer)
    assert same.status_code == 403 and same.headers["content-type"] == PROBLEM
    assert same.json()["type"].endswith("four-eyes")
    assert "Vier-Augen-Prinzip" in same.json()["detail"]
    assert count(api_world, TransitionRecord) == rows and count(api_world, Payment) == 0
    english = client.post(f"{A}/funds-calls/{call['id']}/order",
                          headers={**reviewer, "Accept-Language": "en"})
    assert "Four-eyes principle" in english.json()["detail"]

    ordered = client.post(f"{A}/funds-calls/{call['id']}/order", json={}, headers=approver)
    assert ordered.status_code == 200, ordered.text
    payment = ordered.json()["payment"]
    assert ordered.json()["status"] == "ordered" and payment["amount"] == "30000.00"
    assert payment["iban"] == "DE89370400440532013000" and payment["exported"] is False
    again = client.post(f"{A}/funds-calls/{call['id']}/order", json={}, headers=approver)
    assert again.status_code == 409

    # The ledger and the call's budget tell committed, paid and repaid.
    admin = login(client, api_world.emails["admin"])
    ledger = client.get(f"{A}/admin/calls/ZiQ-2021/ledger", headers=admin).json()["items"]
    paid = [e for e in ledger if e["kind"] == "paid"]
    assert [(e["paid_delta"], e["application"], e["funds_call_id"]) for e in paid] == [
        ("30000.00", ref, call["id"])]
    years = {y["year"]: y for y in client.get(f"{A}/calls/ZiQ-2021",
                                              headers=admin).json()["years"]}
    assert (years[Y1]["committed"], years[Y1]["paid"], years[Y1]["repaid"]) == (
        "50000.00", "30000.00", "0.00")
    assert years[Y2]["paid"] == "0.00"

    # The SEPA export: every ordered payment not exported yet, once.
    assert client.post(f"{A}/payments/sepa-exports", headers=carrier).status_code == 403
    exported = client.post(f"{A}/payments/sepa-exports", headers=admin)
    assert exported.status_code == 201, exported.text
    assert exported.headers["content-type"].startswith("application/xml")
    assert exported.headers["X-Sepa-Total"] == "30000.00"
    xml = exported.content.decode("utf-8")
    xmlschema.XMLSchema(str(XSD)).validate(xml)  # raises on any violation of pain.001.001.03
    assert "<InstdAmt Ccy=\"EUR\">30000.00</InstdAmt>" in xml
    assert OFFICE_IBAN in xml and "DE89370400440532013000" in xml and ref in xml
    nothing = client.post(f"{A}/payments/sepa-exports", headers=admin)
    assert nothing.status_code == 409 and "keine angeordneten Zahlungen" in nothing.json()[
        "detail"]
    export_id = exported.headers["X-Sepa-Export-Id"]
    assert client.get(f"{A}/payments/sepa-exports/{export_id}",
                      headers=admin).content == exported.content
    shown = client.get(calls, headers=carrier).json()["items"][0]["payment"]
    assert shown["exported"] is True and shown["sepa_export_id"] == int(export_id)

    history = [h["trigger"] for h in client.get(f"{A}/applications/{ref}/history",
                                               headers=carrier).json()]
    assert history[-4:] == ["call_funds", "check_funds_call", "order_payment", "export_payment"]
    with unit_of_work(api_world.engine) as s:
        assert s.exec(select(FundsCall.status)).all() == ["ordered"]
        assert sum(e.paid_delta_cents for e in s.exec(select(LedgerEntry))) == 30_000_00


def test_refusals_write_nothing(paying_client: TestClient, api_world: ApiWorld) -> None:
    client = paying_client
    ref = application_in(api_world, "active")  # started with a waiver of appeal: final
    carrier = login(client, api_world.emails["carrier"])
    calls = f"{A}/applications/{ref}/funds-calls"
    before = count(api_world, FundsCall)
    for body, status, words in (
            ({"year": Y1, "amount": "0", "needed_within_two_months": True}, 422, "über 0"),
            ({"year": Y2 + 5, "amount": "10", "needed_within_two_months": True}, 409,
             "keine Mittel bewilligt"),
            ({"year": Y1, "amount": 10.5, "needed_within_two_months": True}, 422, ""),
            ({"year": Y1, "amount": "10", "needed_within_two_months": False}, 422, ""),
    ):
        answer = client.post(calls, json=body, headers=carrier)
        assert answer.status_code == status, answer.text
        assert answer.headers["content-type"] == PROBLEM and words in answer.json()["detail"]
    other = login(client, api_world.emails["other_carrier"])
    assert client.post(calls, json={"year": Y1, "amount": "10",
                                    "needed_within_two_months": True},
                       headers=other).status_code == 404
    assert count(api_world, FundsCall) == before
    reviewer = login(client, api_world.emails["reviewer"])
    assert client.get(f"{A}/funds-calls", headers=carrier).status_code == 403
    assert client.get(f"{A}/funds-calls", headers=reviewer).json() == []
    assert client.post(f"{A}/funds-calls/999/check", headers=reviewer).status_code == 404
    no_payments = client.post(f"{A}/payments/sepa-exports", headers=reviewer)
    assert no_payments.status_code == 409


def test_the_ledger_export_shows_payments(paying_client: TestClient, api_world: ApiWorld) -> None:
    import io

    from openpyxl import load_workbook

    from tests.workflow.test_payments import with_bank_account
    from workflow import payments
    ref = application_in(api_world, "active")
    w = api_world.world
    with unit_of_work(api_world.engine) as s:
        with_bank_account(s, w)
        call_id = payments.request_call(s, ref, w.carrier, year=Y1, amount="12345.67",
                                        needed_within_two_months=True).id
        payments.check_call(s, call_id, w.reviewer)
        payments.order_payment(s, call_id, w.approver)
    admin = login(paying_client, api_world.emails["admin"])
    book = paying_client.get(f"{A}/admin/calls/ZiQ-2021/ledger/export",
                             params={"format": "xlsx"}, headers=admin)
    rows = list(load_workbook(io.BytesIO(book.content)).active.iter_rows(values_only=True))
    assert rows[0][8:11] == ("Auszahlung (EUR)", "Rückzahlung (EUR)", "Mittelabruf")
    paid = [r for r in rows[1:] if r[4] == "Auszahlung"]
    assert [(r[5], float(r[8]), r[10]) for r in paid] == [(ref, 12345.67, call_id)]
