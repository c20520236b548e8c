"""A carrier applies through the pages: creates a draft, leaves, comes back, completes the
finance plan, previews, submits, gets the receipt page and the receipt email whose link opens
the case; a funding stop refuses the submission with the engine's reason and keeps the draft."""

from __future__ import annotations

import sqlite3
from typing import Any

from tests.portal.conftest import Portal, axe, login

CARRIER = "traeger2@quartier.example"


def _state(portal: Portal, reference: str) -> str:
    with sqlite3.connect(portal.home / "quartier.sqlite3") as db:
        return db.execute("select state from application where reference = ?",
                          (reference,)).fetchone()[0]


def _new_draft(page: Any, portal: Portal, title: str) -> str:
    page.goto(portal.url + "/antraege")
    page.get_by_role("link", name="Neuen Antrag stellen").click()
    page.get_by_label("Demo-Aufruf", exact=False).check()
    page.get_by_label("Baustein").select_option("B1")
    assert axe(page) == []
    page.get_by_role("button", name="Entwurf anlegen").click()
    assert "/bearbeiten/projekt" in page.url
    reference = page.url.split("/antraege/")[1].split("/")[0]
    page.get_by_label("Titel des Projekts").fill(title)
    page.get_by_label("Kurzbeschreibung").fill("Nachbarschaftstreff für Familien im Quartier.")
    page.get_by_label("Quartier", exact=True).fill("Hassel")
    page.get_by_label("Kommune").fill("Gelsenkirchen")
    return reference


def _dates_and_plan(page: Any, year: int) -> None:
    page.get_by_label("Projektbeginn").fill(f"{year}-03-01")
    page.get_by_label("Projektende").fill(f"{year + 1}-12-31")
    page.get_by_role("button", name="Speichern und weiter").click()
    assert "/bearbeiten/finanzplan" in page.url
    assert axe(page) == []
    for y in (year, year + 1):
        page.locator(f"#y{y}_personnel").fill("50.000,00")
        page.locator(f"#y{y}_material").fill("8.000,00")
        page.locator(f"#y{y}_own").fill("3.000,00")
    page.get_by_role("button", name="Speichern und weiter").click()
    assert "/vorschau" in page.url


def test_a_carrier_applies_through_the_pages(browser_page: Any, portal: Portal) -> None:
    page = browser_page
    login(page, portal, CARRIER)
    reference = _new_draft(page, portal, "Familientreff Hassel")
    page.get_by_role("button", name="Als Entwurf speichern").click()  # leaves
    assert page.url.endswith("/antraege")
    page.context.clear_cookies()
    login(page, portal, CARRIER)  # comes back another day
    page.get_by_role("link", name=f"Entwurf bearbeiten {reference}").click()
    assert page.get_by_label("Titel des Projekts").input_value() == "Familientreff Hassel"
    _dates_and_plan(page, _first_year(portal))
    main = page.inner_text("main")
    assert "Familientreff Hassel" in main and "55.000,00 €" in main  # the grant follows the plan
    assert axe(page) == []
    page.get_by_role("button", name="Antrag verbindlich einreichen").click()
    assert page.url.endswith(f"/antraege/{reference}/eingang")
    assert reference in page.inner_text("main")
    assert _state(portal, reference) == "submitted"
    mail = portal.mail_to(CARRIER, reference)
    links = portal.links(mail)
    assert links, portal.text_of(mail)
    page.goto(links[0])
    assert reference in page.inner_text("main")


def _first_year(portal: Portal) -> int:
    with sqlite3.connect(portal.home / "quartier.sqlite3") as db:
        return db.execute("select min(b.year) from budget_line b join call c on c.id = b.call_id "
                          "where c.code = 'ZiQ-DEMO'").fetchone()[0]


def test_a_funding_stop_refuses_the_submission_and_keeps_the_draft(browser_page: Any,
                                                                   portal: Portal) -> None:
    page = browser_page
    login(page, portal, CARRIER)
    reference = _new_draft(page, portal, "Spielplatzpaten Hassel")
    _dates_and_plan(page, _first_year(portal))
    portal.cli("funding-stop", "declare", "--call", "ZiQ-DEMO", "--as", "admin@quartier.example",
               "--reason", "Mittel gebunden")
    try:
        page.get_by_role("button", name="Antrag verbindlich einreichen").click()
        alert = page.locator("#fehlerliste").inner_text()
        assert "Fördermittelstopp" in alert and "Ihr Entwurf bleibt gespeichert." in alert
        assert _state(portal, reference) == "draft"
    finally:
        portal.cli("funding-stop", "lift", "--call", "ZiQ-DEMO", "--as", "admin@quartier.example")
