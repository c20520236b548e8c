"""Who may open the staff pages (TestClient): reviewers the worklist and case pages, approvers
also the signing queue; a carrier, an observer and a reviewer where the page is not theirs get
the 403 page; the carrier's case page has no Prüfvermerk."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import ApiWorld, application_in
from tests.api.portal.test_case import portal_login

PAGES = ("/pruefung", "/pruefung/antraege/{ref}", "/pruefung/antraege/{ref}/pruefvermerk",
         "/pruefung/antraege/{ref}/pruefvermerk/druck", "/zeichnung")
ALLOWED = {"reviewer": set(PAGES) - {"/zeichnung"}, "approver": set(PAGES),
           "carrier": set(), "observer": set()}


@pytest.mark.parametrize("role", sorted(ALLOWED))
def test_staff_pages_by_role(client: TestClient, api_world: ApiWorld, role: str) -> None:
    reference = application_in(api_world, "submitted")
    portal_login(client, api_world, role)
    for path in PAGES:
        response = client.get(path.format(ref=reference), follow_redirects=False)
        expected = 200 if path in ALLOWED[role] else 403
        assert response.status_code == expected, (role, path, response.text[:300])
        assert response.headers["content-type"].startswith("text/html")


def test_staff_land_on_their_pages(client: TestClient, api_world: ApiWorld) -> None:
    from tests.api.conftest import PASSWORD
    from tests.api.portal.test_case import csrf
    for role, home in (("reviewer", "/pruefung"), ("approver", "/zeichnung")):
        client.cookies.clear()
        token = csrf(client, "/anmelden")
        response = client.post("/anmelden", data={
            "email": api_world.emails[role], "password": PASSWORD, "csrf_token": token},
            follow_redirects=False)
        assert response.headers["location"] == home


def _case_officer_and_history(aw: ApiWorld, reference: str) -> tuple[int | None, list[str]]:
    from sqlmodel import Session, select

    from workflow.models import Application, TransitionRecord
    with Session(aw.engine) as session:
        app = session.exec(select(Application).where(Application.reference == reference)).one()
        triggers = list(session.exec(select(TransitionRecord.trigger).where(
            TransitionRecord.application_id == app.id).order_by(TransitionRecord.id)))
        return app.case_officer_id, triggers


def test_an_admin_assigns_ticked_cases_from_the_worklist(client: TestClient,
                                                         api_world: ApiWorld) -> None:
    from tests.api.portal.test_case import csrf
    first, second = (application_in(api_world, "submitted") for _ in range(2))
    portal_login(client, api_world, "admin")
    page = client.get("/pruefung?ansicht=offen")
    assert 'name="antraege"' in page.text and "Ausgewählte Anträge zuweisen" in page.text
    token = csrf(client, "/pruefung?ansicht=offen")
    reviewer = api_world.user_ids["reviewer"]
    response = client.post("/pruefung/zuweisen?ansicht=offen", data={
        "antraege": [first, second], "bearbeitung": str(reviewer), "grund": "Urlaubsvertretung",
        "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/pruefung?ansicht=offen"
    assert "2 Anträge zugewiesen." in client.get(response.headers["location"]).text
    for reference in (first, second):
        officer, history = _case_officer_and_history(api_world, reference)
        assert officer == reviewer
        assert history[-1] == "assign_case"


def test_a_refused_bulk_assignment_names_the_case_keeps_the_ticks_and_writes_nothing(
        client: TestClient, api_world: ApiWorld) -> None:
    from tests.api.portal.test_case import csrf
    open_case = application_in(api_world, "submitted")
    decided = application_in(api_world, "submitted")
    from workflow import engine as wf
    from workflow.db import unit_of_work
    with unit_of_work(api_world.engine) as session:
        wf.fire(session, decided, "withdraw", api_world.actor("carrier"),
                reason="Projekt findet nicht statt")
    portal_login(client, api_world, "admin")
    token = csrf(client, "/pruefung?ansicht=alle")
    response = client.post("/pruefung/zuweisen?ansicht=alle", data={
        "antraege": [open_case, decided], "bearbeitung": str(api_world.user_ids["reviewer"]),
        "csrf_token": token})
    assert response.status_code == 409, response.text
    assert f"{decided}: „Fall zuweisen“ ist im Status „Zurückgezogen“ nicht möglich." in \
        response.text
    assert f'value="{open_case}" checked' in response.text
    assert _case_officer_and_history(api_world, open_case)[0] is None  # nothing written
    # Nobody chosen, nothing ticked: German reasons, no write.
    response = client.post("/pruefung/zuweisen", data={"antraege": [open_case],
                                                       "csrf_token": token})
    assert response.status_code == 422 and "wem die Anträge zugewiesen werden" in response.text


def test_bulk_assignment_is_for_admins_and_leads(client: TestClient,
                                                 api_world: ApiWorld) -> None:
    from tests.api.portal.test_case import csrf
    reference = application_in(api_world, "submitted")
    portal_login(client, api_world, "reviewer")
    assert 'name="antraege"' not in client.get("/pruefung?ansicht=offen").text
    token = csrf(client, "/pruefung")
    response = client.post("/pruefung/zuweisen", data={
        "antraege": [reference], "bearbeitung": str(api_world.user_ids["reviewer"]),
        "csrf_token": token})
    assert response.status_code == 403
    assert _case_officer_and_history(api_world, reference)[0] is None


def test_an_admin_edits_the_cost_headings_in_the_browser_form(client: TestClient,
                                                              api_world: ApiWorld) -> None:
    from tests.api.portal.test_case import csrf
    portal_login(client, api_world, "admin")
    page = client.get("/verwaltung/programme").text
    assert 'value="personnel"' in page and "Kostenpositionen des Finanzplans" in page
    token = csrf(client, "/verwaltung/programme")
    form = {"csrf_token": token}
    codes = re.findall(r'name="(kp-ZiQ-\d+-code)"[^>]*value="([^"]*)"', page) or \
        re.findall(r'id="(kp-ZiQ-\d+-code)" name="kp-ZiQ-\d+-code" type="text" value="([^"]*)"',
                   page)
    assert codes, page[:2000]
    for name, value in codes:
        stem = name.removesuffix("-code")
        form[name] = value
        form[f"{stem}-de"] = re.search(rf'name="{stem}-de" type="text" value="([^"]*)"',
                                       page).group(1)
        form[f"{stem}-en"] = re.search(rf'name="{stem}-en" type="text" value="([^"]*)"',
                                       page).group(1)
    last = codes[-1][0].removesuffix("-code")
    form.update({f"{last}-code": "Reise!", f"{last}-de": "Reisekosten"})
    response = client.post("/verwaltung/programme/ZiQ/kostenpositionen", data=form)
    assert response.status_code == 422
    assert "kein gültiges Kürzel" in response.text and 'value="Reise!"' in response.text
    form[f"{last}-code"] = "travel"
    response = client.post("/verwaltung/programme/ZiQ/kostenpositionen", data=form,
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    assert 'value="travel"' in client.get("/verwaltung/programme").text
