"""Who may open the staff pages (TestClient): reviewers the worklist and case pages, approvers
also the signing queue; a carrier, an observer and a reviewer where the page is not theirs get
the 403 page; the carrier's case page has no Prüfvermerk."""

from __future__ import annotations

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
