"""The carrier's whole journey through the portal's pages, in one browser: a new organisation
registers, is confirmed, chooses its password from the emailed link, creates a draft, leaves,
comes back, completes the finance plan, previews, submits, follows the receipt email's link,
answers a document request with an upload, sees the approval, downloads the notice and submits
the final report. Only the authority's steps run on the command line (they are not the
carrier's pages; the staff portal is issue 15); the carrier's steps never touch the API.

The journey runs twice: with the mouse, and with the keyboard only (tests/portal/drivers.py:
Tab to each control, type, Space, Enter; every control reached shows its focus). Following an
email's link is typing its address, the one step both ways share."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.portal.conftest import DEMO_PASSWORD, Portal, axe
from tests.portal.drivers import DRIVERS, Driver
from tests.portal.final_report_steps import submit_final_report
from tests.portal.test_application_form import _first_year

PASSWORD = "Grüne Wolke über dem Kanal 12"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
REVIEWER, APPROVER = "pruefung@quartier.example", "zeichnung@quartier.example"


def _state(portal: Portal, reference: str) -> str:
    with sqlite3.connect(portal.home / "quartier.sqlite3") as db:
        return db.execute("select state from application where reference = ?",
                          (reference,)).fetchone()[0]


def _login(d: Driver, portal: Portal, email: str, password: str = DEMO_PASSWORD) -> None:
    page = d.page
    page.goto(f"{portal.url}/anmelden")
    d.fill(page.get_by_label("E-Mail-Adresse"), email)
    d.fill(page.get_by_label("Passwort", exact=True), password)
    d.activate(page.get_by_role("button", name="Anmelden"))
    page.wait_for_load_state()
    assert "/anmelden" not in page.url, page.inner_text("main")


@pytest.mark.parametrize("way", DRIVERS)
def test_the_carriers_whole_journey_through_the_pages(browser_page: Any, portal: Portal,
                                                      tmp_path: Path, way: str) -> None:
    page = browser_page
    d = DRIVERS[way](page)
    # Each run registers its own organisation (the portal is shared by the module's tests).
    organisation = f"Kinderhaus Ückendorf ({way}) e. V."
    contact = f"leitung-{way}@kinderhaus-ueckendorf.example"
    # Registration, confirmation by an admin in the page, the password from the link.
    page.goto(f"{portal.url}/")
    d.activate(page.get_by_role("link", name="Organisation registrieren").first)
    d.fill(page.get_by_label("Name der Organisation"), organisation)
    d.select(page.get_by_label("Rechtsform"), "eingetragener_verein")
    d.fill(page.get_by_label("Straße und Hausnummer"), "Bochumer Straße 12")
    d.fill(page.get_by_label("Postleitzahl"), "45886")
    d.fill(page.get_by_label("Ort"), "Gelsenkirchen")
    d.fill(page.get_by_label("Name der Ansprechperson"), "Derya Yılmaz")
    d.fill(page.get_by_label("E-Mail-Adresse der Ansprechperson"), contact)
    d.activate(page.get_by_role("button", name="Registrierung absenden"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Vielen Dank für Ihre Registrierung")
    _login(d, portal, "admin@quartier.example")
    page.goto(f"{portal.url}/verwaltung/organisationen")
    d.activate(page.get_by_role("button", name=f"Bestätigen: {organisation}"))
    d.activate(page.get_by_role("button", name="Abmelden"))
    [link] = portal.links(portal.mail_to(contact, "Registrierung bestätigt"))
    page.goto(link)
    d.fill(page.get_by_label("Neues Passwort", exact=True), PASSWORD)
    d.fill(page.get_by_label("Neues Passwort wiederholen"), PASSWORD)
    d.activate(page.get_by_role("button", name="Passwort speichern"))
    expect(page.get_by_role("status").first).to_contain_text("Sie sind angemeldet")

    # A draft, saved and left; back another day; the plan; preview; submit.
    page.goto(f"{portal.url}/antraege")
    d.activate(page.get_by_role("link", name="Neuen Antrag stellen"))
    d.check(page.get_by_label("Demo-Aufruf", exact=False))
    d.select(page.get_by_label("Baustein"), "B2")
    d.activate(page.get_by_role("button", name="Entwurf anlegen"))
    reference = page.url.split("/antraege/")[1].split("/")[0]
    d.fill(page.get_by_label("Titel des Projekts"), "Bewegte Pause Ückendorf")
    d.activate(page.get_by_role("button", name="Als Entwurf speichern"))
    d.activate(page.get_by_role("button", name="Abmelden"))
    _login(d, portal, contact, PASSWORD)
    d.activate(page.get_by_role("link", name=f"Entwurf bearbeiten {reference}"))
    expect(page.get_by_label("Titel des Projekts")).to_have_value("Bewegte Pause Ückendorf")
    d.fill(page.get_by_label("Kurzbeschreibung"),
           "Bewegungsangebote in den Pausen der Grundschule.")
    d.fill(page.get_by_label("Quartier", exact=True), "Ückendorf")
    d.fill(page.get_by_label("Kommune"), "Gelsenkirchen")
    year = _first_year(portal)
    d.fill_date(page.get_by_label("Projektbeginn"), date(year, 3, 1))
    d.fill_date(page.get_by_label("Projektende"), date(year + 1, 12, 31))
    d.activate(page.get_by_role("button", name="Speichern und weiter"))
    for y in (year, year + 1):
        d.fill(page.locator(f"#y{y}_personnel"), "40.000,00")
        d.fill(page.locator(f"#y{y}_fees"), "5.000,00")
        d.fill(page.locator(f"#y{y}_own"), "2.000,00")
    d.activate(page.get_by_role("button", name="Speichern und weiter"))
    assert "43.000,00 €" in page.inner_text("main")  # the grant follows from the plan
    d.activate(page.get_by_role("button", name="Antrag verbindlich einreichen"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Ihr Antrag ist eingegangen")
    receipt = portal.mail_to(contact, reference)
    page.goto(portal.links(receipt)[0])  # the receipt email's link opens the case
    assert reference in page.inner_text("main")

    # The authority asks for a document; the carrier uploads it on the page.
    portal.cli("fire", reference, "start_review", "--as", REVIEWER)
    portal.cli("fire", reference, "request_documents", "--as", REVIEWER, "--reason",
               "Bitte die Satzung nachreichen.", "--document", "Satzung")
    page.goto(f"{portal.url}/antraege/{reference}")
    assert "Bitte die Satzung nachreichen." in page.inner_text("main")
    d.activate(page.get_by_role("link", name="Jetzt beantworten").first)
    satzung = tmp_path / "Satzung.pdf"
    satzung.write_bytes(PDF)
    d.upload(page.locator("#dateien"), [satzung])
    d.activate(page.get_by_role("button", name="Unterlagen einreichen"))
    assert "Satzung.pdf" in page.inner_text("main")
    assert _state(portal, reference) == "in_review"

    # Recommended and approved (four eyes); the carrier sees it and downloads the notice.
    portal.cli("fire", reference, "recommend", "--as", REVIEWER, "--reason", "Förderfähig.",
               "--amount", f"{year}=43000", "--amount", f"{year + 1}=43000")
    portal.cli("fire", reference, "approve", "--as", APPROVER)
    page.goto(f"{portal.url}/antraege/{reference}")
    assert "Antrag bewilligt" in page.inner_text("main")
    akte = page.get_by_role("table", name="Unterlagen und Bescheide dieses Antrags")
    notice = tmp_path / "bescheid.pdf"
    with d.download(akte.get_by_role("link").first) as download:
        download.save_as(notice)
    assert notice.read_bytes().startswith(b"%PDF")

    # The project runs; the final report through its form.
    portal.cli("fire", reference, "start", "--as", contact, "--waiver-of-appeal")
    page.goto(f"{portal.url}/antraege/{reference}")
    d.activate(page.get_by_role("link", name="Verwendungsnachweis einreichen").first)
    submit_final_report(d, page, tmp_path)
    assert "Vielen Dank, Ihr Verwendungsnachweis ist eingegangen." in page.inner_text("main")
    assert _state(portal, reference) == "report_submitted"
    assert axe(page) == []
