"""The carrier's whole journey through the portal's pages, in one browser: a new organisation
registers, is confirmed, chooses its password from the emailed link, creates a draft, leaves,
comes back, completes the finance plan, previews, submits, follows the receipt email's link,
answers a document request with an upload, sees the approval, downloads the notice and submits
the final report. Only the authority's steps run on the command line (they are not the
carrier's pages; the staff portal is issue 15); the carrier's steps never touch the API."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.portal.conftest import Portal, axe, login
from tests.portal.test_application_form import _first_year

ORGANISATION = "Kinderhaus Ückendorf e. V."
CONTACT = "leitung@kinderhaus-ueckendorf.example"
PASSWORD = "Grüne Wolke über dem Kanal 12"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
REVIEWER, APPROVER = "pruefung@quartier.example", "zeichnung@quartier.example"


def _state(portal: Portal, reference: str) -> str:
    with sqlite3.connect(portal.home / "quartier.sqlite3") as db:
        return db.execute("select state from application where reference = ?",
                          (reference,)).fetchone()[0]


def test_the_carriers_whole_journey_through_the_pages(browser_page: Any, portal: Portal,
                                                      tmp_path: Path) -> None:
    page = browser_page
    # Registration, confirmation by an admin in the page, the password from the link.
    page.goto(f"{portal.url}/")
    page.get_by_role("link", name="Organisation registrieren").first.click()
    page.get_by_label("Name der Organisation").fill(ORGANISATION)
    page.get_by_label("Rechtsform").select_option("eingetragener_verein")
    page.get_by_label("Straße und Hausnummer").fill("Bochumer Straße 12")
    page.get_by_label("Postleitzahl").fill("45886")
    page.get_by_label("Ort").fill("Gelsenkirchen")
    page.get_by_label("Name der Ansprechperson").fill("Derya Yılmaz")
    page.get_by_label("E-Mail-Adresse der Ansprechperson").fill(CONTACT)
    page.get_by_role("button", name="Registrierung absenden").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Vielen Dank für Ihre Registrierung")
    login(page, portal, "admin@quartier.example")
    page.goto(f"{portal.url}/verwaltung/organisationen")
    page.get_by_role("button", name=f"Bestätigen: {ORGANISATION}").click()
    page.get_by_role("button", name="Abmelden").click()
    [link] = portal.links(portal.mail_to(CONTACT, "Registrierung bestätigt"))
    page.goto(link)
    page.get_by_label("Neues Passwort", exact=True).fill(PASSWORD)
    page.get_by_label("Neues Passwort wiederholen").fill(PASSWORD)
    page.get_by_role("button", name="Passwort speichern").click()
    expect(page.get_by_role("status").first).to_contain_text("Sie sind angemeldet")

    # A draft, saved and left; back another day; the plan; preview; submit.
    page.goto(f"{portal.url}/antraege")
    page.get_by_role("link", name="Neuen Antrag stellen").click()
    page.get_by_label("Demo-Aufruf", exact=False).check()
    page.get_by_label("Baustein").select_option("B2")
    page.get_by_role("button", name="Entwurf anlegen").click()
    reference = page.url.split("/antraege/")[1].split("/")[0]
    page.get_by_label("Titel des Projekts").fill("Bewegte Pause Ückendorf")
    page.get_by_role("button", name="Als Entwurf speichern").click()
    page.get_by_role("button", name="Abmelden").click()
    login(page, portal, CONTACT, PASSWORD)
    page.get_by_role("link", name=f"Entwurf bearbeiten {reference}").click()
    expect(page.get_by_label("Titel des Projekts")).to_have_value("Bewegte Pause Ückendorf")
    page.get_by_label("Kurzbeschreibung").fill("Bewegungsangebote in den Pausen der Grundschule.")
    page.get_by_label("Quartier", exact=True).fill("Ückendorf")
    page.get_by_label("Kommune").fill("Gelsenkirchen")
    year = _first_year(portal)
    page.get_by_label("Projektbeginn").fill(f"{year}-03-01")
    page.get_by_label("Projektende").fill(f"{year + 1}-12-31")
    page.get_by_role("button", name="Speichern und weiter").click()
    for y in (year, year + 1):
        page.locator(f"#y{y}_personnel").fill("40.000,00")
        page.locator(f"#y{y}_fees").fill("5.000,00")
        page.locator(f"#y{y}_own").fill("2.000,00")
    page.get_by_role("button", name="Speichern und weiter").click()
    assert "43000.00" in page.inner_text("main")  # the grant follows from the plan
    page.get_by_role("button", name="Antrag verbindlich einreichen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ihr Antrag ist eingegangen")
    receipt = portal.mail_to(CONTACT, reference)
    page.goto(portal.links(receipt)[0])  # the receipt email's link opens the case
    assert reference in page.inner_text("main")

    # The authority asks for a document; the carrier uploads it on the page.
    portal.cli("fire", reference, "start_review", "--as", REVIEWER)
    portal.cli("fire", reference, "request_documents", "--as", REVIEWER, "--reason",
               "Bitte die Satzung nachreichen.", "--document", "Satzung")
    page.goto(f"{portal.url}/antraege/{reference}")
    assert "Bitte die Satzung nachreichen." in page.inner_text("main")
    page.get_by_role("link", name="Jetzt beantworten").first.click()
    satzung = tmp_path / "Satzung.pdf"
    satzung.write_bytes(PDF)
    page.locator("#dateien").set_input_files([str(satzung)])
    page.get_by_role("button", name="Unterlagen einreichen").click()
    assert "Satzung.pdf" in page.inner_text("main")
    assert _state(portal, reference) == "in_review"

    # Recommended and approved (four eyes); the carrier sees it and downloads the notice.
    portal.cli("fire", reference, "recommend", "--as", REVIEWER, "--reason", "Förderfähig.",
               "--amount", f"{year}=43000", "--amount", f"{year + 1}=43000")
    portal.cli("fire", reference, "approve", "--as", APPROVER)
    page.goto(f"{portal.url}/antraege/{reference}")
    assert "Antrag bewilligt" in page.inner_text("main")
    akte = page.get_by_role("table", name="Unterlagen und Bescheide dieses Antrags")
    with page.expect_download() as download:
        akte.get_by_role("link").first.click()
    notice = tmp_path / "bescheid.pdf"
    download.value.save_as(notice)
    assert notice.read_bytes().startswith(b"%PDF")

    # The project runs; the final report through its form.
    portal.cli("fire", reference, "start", "--as", CONTACT, "--waiver-of-appeal")
    page.goto(f"{portal.url}/antraege/{reference}")
    page.get_by_role("link", name="Verwendungsnachweis einreichen").first.click()
    fields = page.locator("input[name^=ausgaben_]")
    fields.nth(0).fill("43.000,00")
    fields.nth(1).fill("42.500,00")
    page.get_by_label("Sachbericht").fill("Bewegte Pausen an drei Schulen, 240 Kinder.")
    page.get_by_role("button", name="Verwendungsnachweis einreichen").click()
    assert "Vielen Dank, Ihr Verwendungsnachweis ist eingegangen." in page.inner_text("main")
    assert _state(portal, reference) == "report_submitted"
    assert axe(page) == []
