"""Staff's Verwendungsnachweis page: the Nachweis beside the plan with differences, the
Belegliste, the check form; an incomplete check is shown again with the reason at its field
and writes nothing; a complete one fixes the final grant and lets the case close."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.conftest import Y1, Y2, ApiWorld, amounts, application_in, count
from tests.api.portal.test_case import _post, portal_login
from tests.factories import final_report_payload
from workflow import engine as wf
from workflow.db import unit_of_work
from workflow.models import ApplicationYear, FinalReportCheck


def test_the_check_from_the_staff_page(client: TestClient, api_world: ApiWorld) -> None:
    reference = application_in(api_world, "active")
    with unit_of_work(api_world.engine) as s:
        wf.fire(s, reference, "submit_final_report", api_world.actor("carrier"),
                payload=final_report_payload(amounts("40000", "45000")))
    portal_login(client, api_world, "reviewer")
    url = f"/pruefung/antraege/{reference}/verwendungsnachweis"
    assert url in client.get(f"/pruefung/antraege/{reference}").text
    html = client.get(url).text
    assert "Plan" in html and "Differenz" in html and "Personalausgaben" in html
    assert "Stadtteilmütter-Team" in html and 'name="bewertung__belegliste"' in html
    fields = {f"bewertung__{c}": "erfuellt"
              for c in ("sachbericht", "finanzplan", "belegliste", "zweck")}
    bad = _post(client, url, {**fields, "zusammenfassung": "ok",
                              f"zuwendung__{Y2}": "44000"})
    assert bad.status_code == 422 and f'id="grund__{Y2}-error"' in bad.text
    assert "44000" in bad.text and count(api_world, FinalReportCheck) == 0
    done = _post(client, url, {**fields, "zusammenfassung": "ok", f"zuwendung__{Y2}": "44000",
                               f"grund__{Y2}": "Bewirtung nicht förderfähig"})
    assert done.status_code == 303, done.text
    with unit_of_work(api_world.engine) as s:
        finals = {y.year: y.final_grant_cents for y in s.exec(
            ApplicationYear.__table__.select())}
        assert finals[Y1] == 40_000_00 and finals[Y2] == 44_000_00
    portal_login(client, api_world, "carrier")
    assert client.get(url, follow_redirects=False).status_code == 403
