"""Money after the approval in the portal over HTTP (TestClient): the bank account on the
organisation page, the waiver of appeal with its confirmation, a call of funds (a refused amount
keeps what was typed and shows the engine's reason), the staff's /zahlungen page with the
four-eyes refusal on the page, the SEPA download and the case pages' section."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sepaxml
import xmlschema
from fastapi.testclient import TestClient

from api.app import create_app
from tests.api.conftest import PASSWORD, Y1, ApiWorld, api_settings, application_in, count
from workflow.db import unit_of_work
from workflow.models import Organisation, TransitionRecord, User
from workflow.payment_tables import FundsCall, Payment

IBAN = "DE89 3704 0044 0532 0130 00"
XSD = Path(sepaxml.__file__).parent / "schemas" / "pain.001.001.03.xsd"


@pytest.fixture
def clients(api_world: ApiWorld) -> Iterator[dict[str, TestClient]]:
    """One logged-in browser per role (each its own cookies), on one app."""
    settings = api_settings().model_copy(update={"paying_office_iban": "DE02120300000000202051",
                                                 "paying_office_name": "Landeskasse NRW"})
    app = create_app(engine=api_world.engine, settings=settings)
    with unit_of_work(api_world.engine) as s:
        user = s.get(User, api_world.user_ids["carrier"])
        user.organisation_admin = True
        s.add(user)
    out = {}
    for role in ("carrier", "reviewer", "approver", "observer", "admin"):
        client = TestClient(app)
        client.__enter__()
        token = _token(client, "/anmelden")
        response = client.post("/anmelden", data={"email": api_world.emails[role],
                                                  "password": PASSWORD, "csrf_token": token},
                               follow_redirects=False)
        assert response.status_code == 303, response.text
        out[role] = client
    yield out
    for client in out.values():
        client.__exit__(None, None, None)


def _token(client: TestClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.text
    found = re.search(r'name="csrf_token" value="([^"]+)"', response.text)
    assert found, response.text
    return found.group(1)


def _post(client: TestClient, page: str, action: str, data: dict[str, str]):  # noqa: ANN202
    return client.post(action, data={**data, "csrf_token": _token(client, page)},
                       follow_redirects=False)


def test_bank_account_on_the_organisation_page(clients: dict[str, TestClient],
                                               api_world: ApiWorld) -> None:
    carrier = clients["carrier"]
    assert "Es ist noch keine Bankverbindung hinterlegt" in carrier.get("/organisation").text
    wrong = _post(carrier, "/organisation", "/organisation/bankverbindung",
                  {"iban": "DE89 3704 0044 0532 0130 01", "bic": "", "account_holder": "X"})
    assert wrong.status_code == 422
    assert "keine gültige IBAN" in wrong.text
    assert 'value="DE89 3704 0044 0532 0130 01"' in wrong.text  # kept as typed
    with unit_of_work(api_world.engine) as s:
        assert all(o.iban is None for o in s.query(Organisation))
    saved = _post(carrier, "/organisation", "/organisation/bankverbindung",
                  {"iban": IBAN, "bic": "", "account_holder": "Träger 1 e.V."})
    assert saved.status_code == 303
    html = carrier.get("/organisation").text
    assert IBAN in html and "COBADEFFXXX" in html and "Träger 1 e.V." in html


def test_waiver_call_check_order_export(clients: dict[str, TestClient],
                                        api_world: ApiWorld) -> None:
    carrier, reviewer, approver = clients["carrier"], clients["reviewer"], clients["approver"]
    ref = application_in(api_world, "approved")
    _post(carrier, "/organisation", "/organisation/bankverbindung",
          {"iban": IBAN, "bic": "", "account_holder": ""})
    case = carrier.get(f"/antraege/{ref}").text
    assert "Mittelabrufe und Zahlungen" in case and "bestandskräftig ab" in case
    assert f'href="/antraege/{ref}/rechtsbehelfsverzicht"' in case

    # Calling before the notice is final: refused with the engine's reason, typed values kept.
    form = f"/antraege/{ref}/mittelabruf"
    early = _post(carrier, form, form, {"jahr": str(Y1), "betrag": "30.000,00",
                                        "zweck": "Personal", "benoetigt": "ja"})
    assert early.status_code == 409 and "bestandskräftig" in early.text
    assert 'value="30.000,00"' in early.text and count(api_world, FundsCall) == 0

    # The waiver needs the confirmation.
    waiver = f"/antraege/{ref}/rechtsbehelfsverzicht"
    unconfirmed = _post(carrier, waiver, waiver, {})
    assert unconfirmed.status_code == 422 and "Bitte bestätigen Sie" in unconfirmed.text
    assert _post(carrier, waiver, waiver, {"bestaetigt": "ja"}).status_code == 303
    assert "bestandskräftig seit" in carrier.get(f"/antraege/{ref}").text

    too_much = _post(carrier, form, form, {"jahr": str(Y1), "betrag": "50.000,01",
                                           "zweck": "Personal", "benoetigt": "ja"})
    assert too_much.status_code == 409 and "noch abrufbar 50.000,00 €" in too_much.text
    assert 'value="50.000,01"' in too_much.text and ">Personal</textarea>" in too_much.text
    unaffirmed = _post(carrier, form, form, {"jahr": str(Y1), "betrag": "30.000,00"})
    assert unaffirmed.status_code == 422 and "ANBest-P Nr. 1.4" in unaffirmed.text
    assert count(api_world, FundsCall) == 0
    called = _post(carrier, form, form, {"jahr": str(Y1), "betrag": "30.000,00",
                                         "zweck": "Personal März bis April",
                                         "benoetigt": "ja"})
    assert called.status_code == 303
    assert "Beantragt" in carrier.get(f"/antraege/{ref}").text

    # Staff: check, the same person's order refused on the page, a second person orders.
    assert clients["observer"].get("/zahlungen").status_code == 403
    assert carrier.get("/zahlungen").status_code == 403
    overview = reviewer.get("/zahlungen").text
    assert ref in overview and "30.000,00 €" in overview and "20.000,00 €" in overview
    call_id = next(iter(_ids(api_world)))
    assert _post(reviewer, "/zahlungen", f"/zahlungen/{call_id}/pruefen",
                 {"vermerk": "Belege plausibel"}).status_code == 303
    rows = count(api_world, TransitionRecord)
    same = _post(reviewer, "/zahlungen", f"/zahlungen/{call_id}/anordnen", {})
    assert same.status_code == 403 and "Vier-Augen-Prinzip" in same.text
    assert count(api_world, TransitionRecord) == rows and count(api_world, Payment) == 0
    assert _post(approver, "/zahlungen", f"/zahlungen/{2**40}/anordnen", {}).status_code in (
        404, 422)
    ordered = _post(approver, "/zahlungen", f"/zahlungen/{call_id}/anordnen", {})
    assert ordered.status_code == 303
    assert count(api_world, Payment) == 1

    staff_case = reviewer.get(f"/pruefung/antraege/{ref}").text
    assert "Mittelabrufe und Zahlungen" in staff_case and "angeordnet:" in staff_case

    download = _post(approver, "/zahlungen", "/zahlungen/sepa-export", {})
    assert download.status_code == 200, download.text
    assert download.headers["content-type"].startswith("application/xml")
    assert "attachment" in download.headers["content-disposition"]
    xmlschema.XMLSchema(str(XSD)).validate(download.content.decode("utf-8"))
    assert "DE89370400440532013000" in download.content.decode("utf-8")
    again = reviewer.get("/zahlungen").text
    assert "Keine angeordneten Zahlungen warten auf den Export." in again

    # The ledger: the dashboard's money figure (the observer's aggregates) and its CSV.
    figures = clients["observer"].get("/auswertung").text
    assert "Ausgezahlt (EUR)" in figures and "Zurückgezahlt (EUR)" in figures
    assert "30.000,00 €" in figures and ref not in figures
    csv = clients["observer"].get("/auswertung/ZiQ-2021/mittel.csv")
    assert csv.status_code == 200 and "Ausgezahlt (EUR)" in csv.text
    assert any(line.startswith(f"{Y1};Summe") and "30000" in line
               for line in csv.text.splitlines()), csv.text

    call_page = clients["admin"].get("/verwaltung/aufrufe/ZiQ-2021").text
    assert "Zurückgezahlt" in call_page and "30.000,00 €" in call_page

    mine = carrier.get(f"/antraege/{ref}").text
    assert "Ausgezahlt" in mine and "30.000,00 €" in mine
    assert "Valuta" in mine and "Abgerufen, offen" in mine
    with unit_of_work(api_world.engine) as s:
        s.get(User, api_world.user_ids["reviewer"]).language = "en"
    english = reviewer.get("/zahlungen").text
    assert "Calls of funds to certify" in english and "SEPA export" in english
    assert "Zahlungen" not in english.replace("/zahlungen", "")
    timeline = mine[mine.index('id="verlauf"'):]
    for step in ("Auf Rechtsbehelfe verzichtet", "Mittel abgerufen",
                 "Mittelabruf sachlich richtig gezeichnet", "Auszahlung angeordnet"):
        assert step in timeline, step


def _ids(api_world: ApiWorld) -> list[int]:
    with unit_of_work(api_world.engine) as s:
        return [c.id for c in s.query(FundsCall).order_by(FundsCall.id)]
