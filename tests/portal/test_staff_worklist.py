"""The reviewer's worklist in a real browser: views, search, filters, sort by due date, paging, a
link with a value the list does not know, and the export of the filtered list (XLSX that
openpyxl reads back with the page's rows, and CSV)."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from tests.portal.conftest import Portal, axe, login

REVIEWER = "pruefung@quartier.example"


def _references(page: Any) -> list[str]:
    return [cell.inner_text().split("\n")[0].strip()
            for cell in page.locator("#arbeitsliste tbody tr td:first-child").all()]


def test_views_search_filters_and_paging(browser_page: Any, portal: Portal) -> None:
    page = browser_page
    login(page, portal, REVIEWER)
    assert page.url.endswith("/pruefung")
    # My cases in the demo call: those Sabine Weiß has (documents requested, approved).
    page.goto(f"{portal.url}/pruefung?aufruf=ZiQ-DEMO")
    mine = page.locator("#arbeitsliste").inner_text()
    assert "Familienlotsen Hagen-Altenhagen" in mine and "Familienzentrum Bismarck" in mine
    assert "Gesund groß werden in Chorweiler" not in mine  # Tobias Krüger's
    assert axe(page) == []
    page.set_viewport_size({"width": 320, "height": 800})
    assert axe(page) == []
    page.set_viewport_size({"width": 1280, "height": 900})

    # Search over all cases, with the columns of the list.
    page.get_by_role("link", name="Alle", exact=True).click()
    page.get_by_label("Suche").fill("Chorweiler")
    page.get_by_role("button", name="Anwenden").click()
    row = page.locator("#arbeitsliste tbody tr", has_text="Gesund groß werden in Chorweiler")
    text = row.inner_text()
    assert "Tobias Krüger" in text and "Zur Bewilligung vorgeschlagen" in text
    assert "Nachbarschaftsverein Köln-Chorweiler e.V." in text
    assert "140.000,00" in text and "130.000,00" in text  # requested, recommended

    # Filters: the call's recommended cases only.
    page.goto(f"{portal.url}/pruefung?ansicht=alle&aufruf=ZiQ-DEMO&status=recommended")
    states = page.locator("#arbeitsliste tbody td[data-label=Status]").all_inner_texts()
    assert states and set(states) == {"Zur Bewilligung vorgeschlagen"}

    # A value the list does not know is named, and the list is still shown.
    page.goto(f"{portal.url}/pruefung?ansicht=alle&aufruf=ZiQ-DEMO&status=erfunden")
    assert "Unbekannter Status" in page.locator("#fehlerliste").inner_text()
    assert len(_references(page)) >= 4
    assert axe(page) == []

    # Sort by the next due date: dated rows first, ascending.
    page.goto(f"{portal.url}/pruefung?ansicht=alle&sortierung=due")
    dues = page.locator("#arbeitsliste tbody td[data-label='Nächste Frist']").all_inner_texts()
    dated = [datetime.strptime(d.strip(), "%d.%m.%Y") for d in dues if d.strip() != "–"]
    assert dated and dated == sorted(dated)
    assert all(d.strip() == "–" for d in dues[len(dated):])

    # Paging through the history call.
    page.goto(f"{portal.url}/pruefung?ansicht=alle&aufruf=ZiQ-2021&sortierung=reference")
    first = _references(page)
    assert len(first) == 25 and first == sorted(first)
    assert re.search(r"Seite 1 von \d+", page.locator("#anzahl").inner_text())
    page.get_by_role("link", name="Nächste Seite").click()
    second = _references(page)
    assert second and not set(first) & set(second) and second[0] > first[-1]


def test_export_gives_the_rows_of_the_page(browser_page: Any, portal: Portal,
                                           tmp_path: Path) -> None:
    page = browser_page
    login(page, portal, REVIEWER)
    page.goto(f"{portal.url}/pruefung?ansicht=alle&aufruf=ZiQ-DEMO&sortierung=reference")
    shown = _references(page)
    assert len(shown) >= 4
    with page.expect_download() as download:
        page.get_by_role("link", name="Als XLSX exportieren").click()
    path = tmp_path / "arbeitsliste.xlsx"
    download.value.save_as(path)
    sheet = load_workbook(path).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Aktenzeichen"
    assert [r[0] for r in rows[1:]] == shown
    with page.expect_download() as download:
        page.get_by_role("link", name="Als CSV exportieren").click()
    text = Path(download.value.path()).read_bytes().decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert [line[0] for line in lines[1:]] == shown
