"""The carrier's Verwendungsnachweis form: a refusal names every reason at its field and in the
summary, keeps what was typed and writes nothing; the draft is kept, the Belegliste imported
from CSV, and the report submitted with an upload."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Y1, Y2, ApiWorld, application_in, count, version_of
from tests.api.portal.test_case import PDF, _post, portal_login
from tests.factories import SACHBERICHT
from workflow import final_report
from workflow.db import unit_of_work
from workflow.models import FinalReport


@pytest.fixture
def portal_client(client: TestClient, api_world: ApiWorld) -> TestClient:
    portal_login(client, api_world)
    return client


def test_refusal_keeps_what_was_typed_and_names_the_fields(portal_client: TestClient,
                                                          api_world: ApiWorld) -> None:
    reference = application_in(api_world, "active")
    url = f"/antraege/{reference}/verwendungsnachweis"
    form = portal_client.get(url).text
    assert f'name="ist_{Y1}_personnel"' in form and 'name="beleg_0_amount"' in form
    assert 'name="belegliste_datei"' in form
    bad = _post(portal_client, url, {
        "aktion": "einreichen", "sachbericht": "Alles lief gut",
        f"ist_{Y1}_personnel": "40.000,00", f"ist_{Y2}_personnel": "45.000,00",
        "beleg_0_year": str(Y1), "beleg_0_heading": "personnel", "beleg_0_date": f"31.03.{Y1}",
        "beleg_0_party": "Lohnbüro", "beleg_0_purpose": "Gehalt", "beleg_0_amount": "39.000,00"})
    assert bad.status_code == 422
    assert 'id="sachbericht-error"' in bad.text and "zu kurz" in bad.text
    assert f'id="ist_{Y1}_personnel-error"' in bad.text and "Belegliste ergibt" in bad.text
    assert 'href="#sachbericht"' in bad.text  # the summary links to the field
    assert "Alles lief gut" in bad.text and "39.000,00" in bad.text and "Lohnbüro" in bad.text
    assert version_of(api_world.engine, reference)[0] == "active"
    assert count(api_world, FinalReport) == 0


def test_save_import_and_submit(portal_client: TestClient, api_world: ApiWorld) -> None:
    reference = application_in(api_world, "active")
    url = f"/antraege/{reference}/verwendungsnachweis"
    saved = _post(portal_client, url, {"aktion": "speichern", "sachbericht": SACHBERICHT})
    assert saved.status_code == 303, saved.text
    assert SACHBERICHT[:40] in portal_client.get(url).text
    csv = (f"Datum;Empfänger/Einzahler;Zweck;Betrag;Kostenposition;Jahr\r\n"
           f"31.03.{Y1};Lohnbüro;Gehalt;40.000,00;Personalausgaben;{Y1}\r\n"
           f"31.03.{Y2};Lohnbüro;Gehalt;45.000,00;Personalausgaben;{Y2}\r\n").encode("cp1252")
    broken = _post(portal_client, url, {"aktion": "importieren", "sachbericht": SACHBERICHT},
                   [("belegliste_datei", ("belege.csv", csv.replace(b"31.03.", b"31.13."),
                                          "text/csv"))])
    assert broken.status_code == 422 and "Zeile 2" in broken.text
    assert 'id="belegliste_datei-error"' in broken.text
    imported = _post(portal_client, url, {"aktion": "importieren", "sachbericht": SACHBERICHT},
                     [("belegliste_datei", ("belege.csv", csv, "text/csv"))])
    assert imported.status_code == 303, imported.text
    page = portal_client.get(url).text
    assert "40.000,00" in page and "45.000,00" in page
    fields = {"aktion": "einreichen", "sachbericht": SACHBERICHT, "belege_anzahl": "2",
              f"ist_{Y1}_personnel": "40.000,00", f"ist_{Y2}_personnel": "45.000,00"}
    for i, year in enumerate((Y1, Y2)):
        fields.update({f"beleg_{i}_year": str(year), f"beleg_{i}_heading": "personnel",
                       f"beleg_{i}_date": f"31.03.{year}", f"beleg_{i}_party": "Lohnbüro",
                       f"beleg_{i}_purpose": "Gehalt", f"beleg_{i}_amount": "45.000,00"
                       if year == Y2 else "40.000,00"})
    done = _post(portal_client, url, fields,
                 [("dateien", ("sachbericht.pdf", PDF, "application/pdf"))])
    assert done.status_code == 303, done.text
    assert version_of(api_world.engine, reference)[0] == "report_submitted"
    with unit_of_work(api_world.engine) as s:
        app_id = s.exec(FinalReport.__table__.select()).first().application_id
        assert final_report.newest_submitted(s, app_id).version == 1
    case = portal_client.get(f"/antraege/{reference}").text
    assert "Verwendungsnachweis eingereicht" in case and "sachbericht.pdf" in case
