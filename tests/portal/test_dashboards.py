"""Issue 15, done-when 2: an admin creates a new call with its budget and criteria in the browser
(a wrong window is refused next to its field and writes nothing), a carrier submits to it through
the carrier pages, the case is recommended (with the Prüfvermerk on the call's criteria) and
approved, and the dashboard shows the money move; the dashboard's and the ledger's XLSX read
back with openpyxl give the same rows as the page."""

from __future__ import annotations

import io
import sqlite3
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from openpyxl import load_workbook

from tests.portal.conftest import DEMO_PASSWORD, Portal, axe, login

ADMIN = "admin@quartier.example"
CARRIER = "traeger2@quartier.example"
CODE = "ZiQ-PRUEF"


def _count(portal: Portal, sql: str, *args: Any) -> Any:
    with sqlite3.connect(portal.home / "quartier.sqlite3") as db:
        return db.execute(sql, args).fetchone()[0]


def _euro(value: Decimal) -> str:
    """A Decimal as the German page writes it: 1.234,56 €."""
    whole, cents = f"{value:.2f}".split(".")
    return f"{int(whole):,}".replace(",", ".") + f",{cents} €"


def _cell(value: Any) -> str:
    """A euro amount of the file as the page writes it."""
    return _euro(Decimal(str(value)).quantize(Decimal("0.01")))


def _page_rows(page: Any, table: str) -> list[list[str]]:
    return page.eval_on_selector_all(
        f"#{table} tbody tr",
        "rows => rows.map(r => [...r.children].map(c => c.innerText.trim()))")


def _xlsx_rows(content: bytes) -> list[list[Any]]:
    sheet = load_workbook(io.BytesIO(content)).active
    return [list(row) for row in sheet.iter_rows(min_row=2, values_only=True)]


def _download(page: Any, link: str) -> bytes:
    with page.expect_download() as info:
        page.get_by_role("link", name=link).click()
    return info.value.path().read_bytes()


def _create_call(page: Any, portal: Portal, year: int) -> None:
    page.goto(portal.url + "/verwaltung/aufrufe/neu")
    assert axe(page) == []
    now = datetime.now(UTC)
    page.get_by_label("Förderprogramm").select_option("ZiQ")
    page.get_by_label("Kürzel des Aufrufs").fill(CODE)
    page.get_by_label("Titel", exact=True).fill("Prüfaufruf Quartier")
    page.get_by_label("Einreichung ab").fill((now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
    # The window closes before it opens: refused next to its field, nothing written.
    page.get_by_label("Einreichung bis").fill((now - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Mindestzuwendung").fill("10.000,00")
    page.get_by_label("Prüfkriterien des Prüfvermerks").fill(
        "Quartiersbezug | Neighbourhood focus\nZielgruppe | Target group")
    page.get_by_label("Haushaltsjahr, Zeile 1").fill(str(year))
    page.get_by_label("Mittelquelle, Zeile 1").fill("Landesmittel")
    page.get_by_label("Betrag, Zeile 1").fill("200.000,00")
    page.get_by_label("Haushaltsjahr, Zeile 2").fill(str(year + 1))
    page.get_by_label("Mittelquelle, Zeile 2").fill("Landesmittel")
    page.get_by_label("Betrag, Zeile 2").fill("150.000,00")
    page.get_by_role("button", name="Förderaufruf anlegen").click()
    error = page.locator("#ende-error").inner_text()
    assert "muss sich öffnen, bevor es schließt" in error, error
    assert page.get_by_label("Einreichung bis").get_attribute("aria-invalid") == "true"
    assert _count(portal, "select count(*) from call where code = ?", CODE) == 0
    assert _count(portal, "select count(*) from admin_audit where subject = ?", CODE) == 0
    assert axe(page) == []
    page.get_by_label("Einreichung bis").fill((now + timedelta(days=60)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Förderaufruf anlegen").click()
    assert page.url.endswith(f"/verwaltung/aufrufe/{CODE}"), page.url
    assert "ist angelegt" in page.inner_text("main")
    assert axe(page) == []
    criteria = _count(portal, "select assessment_criteria from call where code = ?", CODE)
    assert "quartiersbezug" in criteria and "Target group" in criteria
    assert _count(portal, "select count(*) from admin_audit where subject = ? and "
                          "action = 'create_call'", CODE) == 1


def _apply(page: Any, portal: Portal, year: int) -> str:
    page.goto(portal.url + "/antraege")
    page.get_by_role("link", name="Neuen Antrag stellen").click()
    page.get_by_label("Prüfaufruf Quartier", exact=False).check()
    page.get_by_label("Baustein").select_option("B2")
    page.get_by_role("button", name="Entwurf anlegen").click()
    reference = page.url.split("/antraege/")[1].split("/")[0]
    page.get_by_label("Titel des Projekts").fill("Gesund aufwachsen in Marxloh")
    page.get_by_label("Kurzbeschreibung").fill("Bewegung und Ernährung für Kinder im Quartier.")
    page.get_by_label("Quartier", exact=True).fill("Marxloh")
    page.get_by_label("Kommune").fill("Duisburg")
    page.get_by_label("Projektbeginn").fill(f"{year}-02-01")
    page.get_by_label("Projektende").fill(f"{year + 1}-12-31")
    page.get_by_role("button", name="Speichern und weiter").click()
    for y in (year, year + 1):
        page.locator(f"#y{y}_personnel").fill("40.000,00")
        page.locator(f"#y{y}_material").fill("5.000,00")
        page.locator(f"#y{y}_own").fill("5.000,00")
    page.get_by_role("button", name="Speichern und weiter").click()
    page.get_by_role("button", name="Antrag verbindlich einreichen").click()
    assert page.url.endswith(f"/antraege/{reference}/eingang"), page.inner_text("main")
    return reference


def _recommend_and_approve(portal: Portal, reference: str, year: int) -> None:
    portal.cli("fire", reference, "start_review", "--as",
               "pruefung@quartier.example")
    token = httpx.post(portal.url + "/api/v1/auth/token", data={
        "username": "pruefung@quartier.example", "password": DEMO_PASSWORD}).json()
    answer = httpx.put(
        f"{portal.url}/api/v1/applications/{reference}/assessment",
        headers={"Authorization": f"Bearer {token['access_token']}"},
        json={"ratings": {"quartiersbezug": {"rating": "erfuellt", "note": "Klarer Bezug."},
                          "zielgruppe": {"rating": "erfuellt", "note": "Kinder bis 10."}},
              "summary": "Förderfähig.", "amounts": {str(year): "40000",
                                                    str(year + 1): "40000"}})
    assert answer.status_code == 200, answer.text
    portal.cli("fire", reference, "recommend", "--as",
               "pruefung@quartier.example", "--reason", "Förderfähig.",
               "--amount", f"{year}=40000", "--amount", f"{year + 1}=40000")
    portal.cli("fire", reference, "approve", "--as",
               "zeichnung@quartier.example")


def _money_row(page: Any, year: int) -> list[str]:
    rows = _page_rows(page, "mittel-tabelle")
    return next(r for r in rows if r[0] == str(year) and r[1] == "Summe")


def test_a_new_call_from_the_browser_fills_the_dashboard(browser_page: Any,
                                                         portal: Portal) -> None:
    page = browser_page
    year = datetime.now(UTC).year + 1
    login(page, portal, ADMIN)
    _create_call(page, portal, year)

    page.goto(f"{portal.url}/auswertung?aufruf={CODE}")
    assert axe(page) == []
    assert _money_row(page, year)[2:5] == ["200.000,00 €", "0,00 €", "200.000,00 €"]
    assert "Noch keine eingereichten Anträge." in page.inner_text("main")

    page.context.clear_cookies()
    login(page, portal, CARRIER)
    reference = _apply(page, portal, year)
    _recommend_and_approve(portal, reference, year)

    page.context.clear_cookies()
    login(page, portal, ADMIN)
    page.goto(f"{portal.url}/auswertung?aufruf={CODE}")
    assert _money_row(page, year)[2:] == ["200.000,00 €", "40.000,00 €",
                                          "160.000,00 €", "20", "0,00 €", "0,00 €"]
    states = _page_rows(page, "status-tabelle")
    assert states == [["Bewilligt", "1", "80.000,00 €", "80.000,00 €"]]
    assert _page_rows(page, "bausteine-tabelle")[0][:2] == ["B2", "1"]
    assert _page_rows(page, "kommunen-tabelle")[0][:2] == ["Duisburg", "1"]
    assert page.locator("svg.q-chart").count() == 5
    assert axe(page) == []
    page.set_viewport_size({"width": 320, "height": 900})
    assert axe(page) == []
    page.set_viewport_size({"width": 1280, "height": 900})

    # The downloads read back with the same rows as the page (numbers as numbers).
    money = _xlsx_rows(_download(page, "Mittel je Haushaltsjahr und Quelle als Excel (XLSX)"))
    assert [[str(r[0]), r[1], _cell(r[2]), _cell(r[3]), _cell(r[4]), str(r[5]), _cell(r[6]),
             _cell(r[7])] for r in money] == _page_rows(page, "mittel-tabelle")
    assert all(isinstance(r[0], int) and isinstance(r[2], float | int) for r in money)
    by_state = _xlsx_rows(_download(page, "Anträge nach Status als Excel (XLSX)"))
    assert [[r[0], str(r[1]), _cell(r[2]), _cell(r[3])] for r in by_state] == states

    # The ledger: the commitment of the approval is an entry, the same in XLSX as on the page.
    page.get_by_role("link", name=f"Förderaufruf {CODE} verwalten").click()
    ledger = _page_rows(page, "mittelbuch-tabelle")
    assert any(r[4] == "Bindung" and r[5] == reference for r in ledger), ledger
    book = _xlsx_rows(_download(page, "Mittelbuch als Excel (XLSX)"))
    assert len(book) == len(ledger)
    for on_page, in_file in zip(ledger, book, strict=True):
        assert on_page[0] == str(in_file[0]) and on_page[5] == (in_file[5] or "–")
        assert on_page[6] == _cell(in_file[6])
