"""The Verwendungsnachweis over HTTP: the carrier keeps a draft, imports its Belegliste from a
CSV file, submits; staff read it beside the approved plan and record the check; refusals are
German-first problem+json naming the field and write nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.conftest import PROBLEM, Y1, Y2, A, ApiWorld, amounts, application_in, count, login
from tests.factories import final_report_payload
from workflow.models import FinalReport, FinalReportEntry, TransitionRecord

CHECK = {"ratings": {c: {"rating": "erfuellt", "note": "ok"}
                     for c in ("sachbericht", "finanzplan", "belegliste", "zweck")},
         "summary": "Nachweis schlüssig."}


def _csv(rows: list[str]) -> bytes:
    return ("Datum;Empfänger/Einzahler;Zweck;Betrag;Kostenposition;Jahr\r\n"
            + "".join(r + "\r\n" for r in rows)).encode("cp1252")


def test_draft_import_submit_check_and_close(client: TestClient, api_world: ApiWorld,
                                             carrier) -> None:
    ref = application_in(api_world, "active")
    url = f"{A}/applications/{ref}/final-report"
    empty = client.get(url, headers=carrier).json()
    assert empty["status"] == "none"
    assert [h["code"] for h in empty["headings"]][:2] == ["personnel", "fees"]

    saved = client.put(url, json={"sachbericht": final_report_payload({})["sachbericht"]},
                       headers=carrier)
    assert saved.status_code == 200, saved.text
    assert saved.json()["status"] == "draft"
    assert any(p["field"].startswith("nachweis") for p in saved.json()["problems"])

    bad = client.post(f"{url}/belegliste", headers=carrier,
                      files={"file": ("belege.csv", _csv([f"31.12.{Y1};A;B;1.000,00;fees;{Y2}"]),
                                      "text/csv")}, data={"file_into_draft": "true"})
    assert bad.status_code == 422 and bad.headers["content-type"] == PROBLEM
    assert bad.json()["rows"][0]["row"] == 2 and "Haushaltsjahr" in bad.json()["detail"]
    assert count(api_world, FinalReportEntry) == 0

    good = client.post(f"{url}/belegliste", headers=carrier, data={"file_into_draft": "true"},
                       files={"file": ("belege.csv", _csv([
                           f"31.03.{Y1};Lohnbüro;Gehalt;30.000,00;Personalausgaben;{Y1}",
                           f"30.04.{Y1};Honorarkraft;Kurs;10.000,00;Honorare;{Y1}",
                           f"31.03.{Y2};Lohnbüro;Gehalt;45.000,50;personnel;{Y2}"]),
                           "text/csv")})
    assert good.status_code == 200, good.text
    assert good.json()["totals"] == {str(Y1): {"personnel": "30000.00", "fees": "10000.00"},
                                     str(Y2): {"personnel": "45000.50"}}
    year1 = good.json()["report"]["years"][0]
    assert year1["expenses"] == "40000.00"
    personnel = next(h for h in year1["headings"] if h["code"] == "personnel")
    assert personnel["actual"] == "30000.00" and personnel["planned"] is not None

    submitted = client.post(f"{url}/submit", headers=carrier)
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["application"]["state"] == "report_submitted"
    assert submitted.json()["final_report"]["status"] == "submitted"

    reviewer = login(client, api_world.emails["reviewer"])
    closing = client.post(f"{A}/applications/{ref}/transitions/close", headers=reviewer)
    assert closing.status_code in (409, 422) and "nicht geprüft" in closing.json()["detail"]

    rows = count(api_world, TransitionRecord)
    over = client.post(f"{url}/check", headers=reviewer, json={
        **CHECK, "lowered": {str(Y1): {"amount": "45000", "reason": "zu viel"}}})
    assert over.status_code == 422 and over.json()["field"] == f"lowered.{Y1}.amount"
    assert count(api_world, TransitionRecord) == rows
    denied = client.post(f"{url}/check", headers=carrier, json=CHECK)
    assert denied.status_code == 403

    checked = client.post(f"{url}/check", headers=reviewer, json={
        **CHECK, "lowered": {str(Y1): {"amount": "39000", "reason": "Honorar nicht belegt"}}})
    assert checked.status_code == 200, checked.text
    assert checked.json()["check"]["final_grant"] == {str(Y1): "39000.00", str(Y2): "45000.50"}
    mine = client.get(url, headers=carrier).json()
    assert "ratings" not in mine["check"] and mine["check"]["reductions"]
    closed = client.post(f"{A}/applications/{ref}/transitions/close", headers=reviewer)
    assert closed.status_code == 200, closed.text


def test_spending_only_is_refused_and_the_full_payload_is_taken(client: TestClient,
                                                                api_world: ApiWorld,
                                                                carrier) -> None:
    ref = application_in(api_world, "active")
    fire = f"{A}/applications/{ref}/transitions/submit_final_report"
    refused = client.post(fire, json={"payload": {"spending": amounts("0", "0")}},
                          headers=carrier)
    assert refused.status_code == 422 and refused.json()["field"] == "sachbericht"
    assert count(api_world, FinalReport) == 0
    short = client.post(f"{A}/applications/{ref}/final-report/submit", headers=carrier,
                        json={**final_report_payload(amounts("1", "1")), "sachbericht": "kurz"})
    assert short.status_code == 422 and "zu kurz" in short.json()["detail"]
    taken = client.post(fire, json={"payload": final_report_payload(amounts("40000", "1"))},
                        headers=carrier)
    assert taken.status_code == 200, taken.text
    observer = login(client, api_world.emails["observer"])
    assert client.get(f"{A}/applications/{ref}/final-report",
                      headers=observer).status_code == 403
