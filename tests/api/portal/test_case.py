"""The carrier's case pages over HTTP (TestClient): what they show, who may see them, and that
a refused answer shows the engine's reason and writes nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from tests.api.conftest import ApiWorld, application_in, count, version_of
from workflow import engine as wf
from workflow.db import unit_of_work
from workflow.models import Document, TransitionRecord

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def csrf(client: TestClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.text
    found = re.search(r'name="csrf_token" value="([^"]+)"', response.text)
    assert found, response.text
    return found.group(1)


def portal_login(client: TestClient, aw: ApiWorld, role: str = "carrier") -> None:
    from tests.api.conftest import PASSWORD
    token = csrf(client, "/anmelden")
    response = client.post("/anmelden", data={"email": aw.emails[role], "password": PASSWORD,
                                              "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303, response.text


def request_documents(aw: ApiWorld) -> str:
    reference = application_in(aw, "submitted")
    with unit_of_work(aw.engine) as session:
        wf.fire(session, reference, "start_review", aw.actor("reviewer"))
        wf.fire(session, reference, "request_documents", aw.actor("reviewer"),
                reason="Bitte die Satzung nachreichen.",
                payload={"documents": ["Satzung", "Finanzierungsplan"]})
    return reference


@pytest.fixture
def portal_client(client: TestClient, api_world: ApiWorld) -> TestClient:
    portal_login(client, api_world)
    return client


def test_case_page_shows_request_timeline_actions_and_calendar(
        portal_client: TestClient, api_world: ApiWorld) -> None:
    reference = request_documents(api_world)
    response = portal_client.get(f"/antraege/{reference}")
    assert response.status_code == 200
    html = response.text
    assert "Unterlagen nachgefordert" in html and "Bitte die Satzung nachreichen." in html
    assert "<li>Satzung</li>" in html
    assert f'href="/antraege/{reference}/unterlagen"' in html
    assert f'href="/antraege/{reference}/zurueckziehen"' in html
    assert "Bewilligungsbehörde (Sachbearbeitung)" in html
    assert "request_documents" not in html and "start_review" not in html
    assert "Kalenderadresse einrichten" in html  # none yet: a GET writes nothing
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    created = portal_client.post(f"/antraege/{reference}/kalender", data={"csrf_token": token},
                                 follow_redirects=False)
    assert created.status_code == 303
    html = portal_client.get(f"/antraege/{reference}").text
    assert "webcal://testserver/api/v1/calendar/" in html
    feed = re.search(r'value="(http://testserver/api/v1/calendar/[^"]+\.ics)"', html)
    assert feed and portal_client.get(feed.group(1)).status_code == 200


def test_other_organisation_and_staff_do_not_see_the_case(
        client: TestClient, api_world: ApiWorld) -> None:
    reference = request_documents(api_world)
    portal_login(client, api_world, "other_carrier")
    for path in ("", "/unterlagen", "/zurueckziehen", "/verwendungsnachweis", "/dokumente/1"):
        assert client.get(f"/antraege/{reference}{path}").status_code == 404, path
    assert client.get("/antraege/99999999999999").status_code == 404


def test_not_logged_in_goes_to_the_login(client: TestClient, api_world: ApiWorld) -> None:
    reference = request_documents(api_world)
    response = client.get(f"/antraege/{reference}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/anmelden?weiter=/antraege/")


def _post(client: TestClient, path: str, data: dict[str, str],
          files: list[tuple[str, tuple[str, bytes, str]]] | None = None) -> Any:
    data = {"csrf_token": csrf(client, path), **data}
    return client.post(path, data=data, files=files, follow_redirects=False)


def test_documents_answer_with_upload_meets_the_request(
        portal_client: TestClient, api_world: ApiWorld) -> None:
    reference = request_documents(api_world)
    response = _post(portal_client, f"/antraege/{reference}/unterlagen", {},
                     [("dateien", ("satzung.pdf", PDF, "application/pdf")),
                      ("dateien", ("plan.pdf", PDF + b"2", "application/pdf"))])
    assert response.status_code == 303, response.text
    assert version_of(api_world.engine, reference)[0] == "in_review"
    with unit_of_work(api_world.engine) as session:
        docs = session.exec(select(Document).where(Document.purpose == "document_request")).all()
        assert sorted(d.filename for d in docs) == ["plan.pdf", "satzung.pdf"]
        assert all(d.transition_id is not None for d in docs)
    page = portal_client.get(f"/antraege/{reference}").text
    assert "Vielen Dank, Ihre Unterlagen sind eingegangen." in page
    assert "satzung.pdf" in page
    doc_id = docs[0].id
    download = portal_client.get(f"/antraege/{reference}/dokumente/{doc_id}")
    assert download.status_code == 200 and download.content in (PDF, PDF + b"2")
    assert download.headers["content-disposition"].startswith("attachment")


@pytest.mark.parametrize(("files", "data", "reason"), [
    (None, {}, "mindestens eine Unterlage"),
    ([("dateien", ("x.exe", b"MZ\x90\x00" + b"\x00" * 200, "application/pdf"))], {},
     "Dateityp nicht erlaubt"),
    ([("dateien", ("leer.pdf", b"", "application/pdf"))], {"erklaerung": "Siehe Datei"},
     "Die Datei ist leer"),
])
def test_refused_answer_shows_the_reason_and_writes_nothing(
        portal_client: TestClient, api_world: ApiWorld, files: Any, data: dict[str, str],
        reason: str) -> None:
    reference = request_documents(api_world)
    before = version_of(api_world.engine, reference)
    response = _post(portal_client, f"/antraege/{reference}/unterlagen", data, files)
    assert response.status_code in (409, 415, 422), response.text
    assert reason in response.text
    assert 'id="fehlerliste"' in response.text
    if data.get("erklaerung"):
        assert "Siehe Datei" in response.text  # what the carrier typed stays
    assert version_of(api_world.engine, reference) == before
    assert count(api_world, Document, Document.uploaded_by_id.is_not(None)) == 0


def test_too_large_file_is_refused(client: TestClient, api_world: ApiWorld) -> None:
    from api.app import create_app
    from tests.api.conftest import api_settings
    settings = api_settings().model_copy(update={"upload_max_bytes": 1000})
    with TestClient(create_app(engine=api_world.engine, settings=settings)) as small:
        portal_login(small, api_world)
        reference = request_documents(api_world)
        response = _post(small, f"/antraege/{reference}/unterlagen", {},
                         [("dateien", ("gross.pdf", PDF + b"0" * 2000, "application/pdf"))])
    assert response.status_code == 413
    assert "Die Datei ist zu groß" in response.text
    assert count(api_world, Document, Document.uploaded_by_id.is_not(None)) == 0


def test_post_without_csrf_token_is_refused(portal_client: TestClient,
                                            api_world: ApiWorld) -> None:
    reference = request_documents(api_world)
    response = portal_client.post(f"/antraege/{reference}/unterlagen",
                                  data={"erklaerung": "liegt nicht vor"})
    assert response.status_code == 403
    assert version_of(api_world.engine, reference)[0] == "documents_requested"


def test_withdraw_with_confirmation(portal_client: TestClient, api_world: ApiWorld) -> None:
    reference = application_in(api_world, "submitted")
    confirm = portal_client.get(f"/antraege/{reference}/zurueckziehen")
    assert "nicht rückgängig" in confirm.text and "endgültig zurückziehen" in confirm.text
    response = _post(portal_client, f"/antraege/{reference}/zurueckziehen",
                     {"grund": "Projekt anders finanziert"})
    assert response.status_code == 303
    assert version_of(api_world.engine, reference)[0] == "withdrawn"
    page = portal_client.get(f"/antraege/{reference}").text
    assert "Antrag zurückgezogen" in page and "Projekt anders finanziert" in page
    # Now the engine refuses it: the page says why, and the POST writes nothing.
    again = portal_client.get(f"/antraege/{reference}/zurueckziehen").text
    assert "Zurückziehen ist zurzeit nicht möglich." in again
    with unit_of_work(api_world.engine) as session:
        before = len(session.exec(select(TransitionRecord)).all())
    token = csrf(portal_client, f"/antraege/{reference}")
    refused = portal_client.post(f"/antraege/{reference}/zurueckziehen",
                                 data={"csrf_token": token})
    assert refused.status_code == 409
    with unit_of_work(api_world.engine) as session:
        assert len(session.exec(select(TransitionRecord)).all()) == before


def test_hearing_reply(portal_client: TestClient, api_world: ApiWorld) -> None:
    reference = application_in(api_world, "active")
    with unit_of_work(api_world.engine) as session:
        wf.fire(session, reference, "open_hearing", api_world.actor("reviewer"),
                reason="Die Mittel wurden nicht zweckentsprechend verwendet.")
    page = portal_client.get(f"/antraege/{reference}").text
    assert "Anhörung vor einem Widerruf eingeleitet" in page
    assert f"/antraege/{reference}/anhoerung" in page
    empty = _post(portal_client, f"/antraege/{reference}/anhoerung", {"text": ""})
    assert empty.status_code == 422 and "Begründung" in empty.text
    done = _post(portal_client, f"/antraege/{reference}/anhoerung",
                 {"text": "Die Mittel wurden wie beantragt verwendet."})
    assert done.status_code == 303, done.text
    assert "Stellungnahme zur Anhörung abgegeben" in portal_client.get(
        f"/antraege/{reference}").text


def test_interim_report_page_shows_the_engines_reason(portal_client: TestClient,
                                                      api_world: ApiWorld) -> None:
    reference = application_in(api_world, "active")
    response = _post(portal_client, f"/antraege/{reference}/zwischennachweis",
                     {"text": "Bericht"})
    # The budget year has not ended yet: the engine refuses, and nothing is written.
    assert response.status_code in (409, 422), response.text
    assert "erst nach Ablauf des Haushaltsjahres" in response.text
    assert "Bericht" in response.text  # what the carrier typed stays
    assert version_of(api_world.engine, reference)[0] == "active"
