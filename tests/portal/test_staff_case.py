"""A reviewer's day in a real browser against a real server (issue 15, done-when 1): log in, take
an unassigned case, start the review and request documents with the forms the transition
table generates, the carrier uploads through its pages, the case shows up in "waiting for me",
the Prüfvermerk is recorded, the case recommended; an approver who requested documents on the
case is refused in the signing queue with the reason on the page, another approver signs it.
The carrier's case page never shows the Prüfvermerk."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.portal.conftest import Portal, axe, login

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
REVIEWER = "pruefung@quartier.example"
APPROVER = "zeichnung@quartier.example"
SECOND_APPROVER = "zeichnung2@quartier.example"
CARRIER = "traeger2@quartier.example"  # Bewegte Kindheit Marxloh, submitted, nobody has it
TITLE = "Bewegte Kindheit Marxloh"
SUMMARY = "Tragfähiges Konzept mit klarem Quartiersbezug; Personalkosten angemessen."
CRITERIA = ("quartiersbezug", "zielgruppe", "wirtschaftlichkeit", "foerderfaehigkeit",
            "finanzierung")


def _main(page: Any) -> str:
    return page.locator("main").inner_text()


def _as(page: Any, portal: Portal, email: str, password: str | None = None) -> None:
    page.context.clear_cookies()
    if password:
        login(page, portal, email, password)
    else:
        login(page, portal, email)


def test_a_reviewer_day(browser_page: Any, portal: Portal, tmp_path: Path) -> None:
    page = browser_page
    second_password = "zweite-Zeichnung-2026!"
    portal.cli("users", "create", "--email", SECOND_APPROVER, "--name", "Jonas Berger",
               "--role", "approver", "--password-stdin", input=second_password + "\n")

    # The reviewer lands on the worklist; the unassigned view has the Marxloh case.
    login(page, portal, REVIEWER)
    assert page.url.endswith("/pruefung"), page.url
    assert page.get_by_role("link", name="Prüfung").first.get_attribute("aria-current") == "page"
    page.get_by_role("link", name="Nicht zugewiesen").click()
    row = page.locator("#arbeitsliste tr", has_text=TITLE)
    assert "nicht zugewiesen" in row.inner_text()
    reference = row.get_by_role("link").first.inner_text().strip()
    assert axe(page) == []
    row.get_by_role("link", name=reference).click()
    assert page.url.endswith(f"/pruefung/antraege/{reference}")

    # Take the case; the actions come from the table (start the review, reject ...).
    page.get_by_role("button", name="Fall übernehmen").click()
    assert "Sabine Weiß" in page.locator("#sachbearbeitung").inner_text()
    assert page.get_by_role("heading", name="Ablehnen").count() == 1
    assert axe(page) == []
    page.get_by_role("button", name="Prüfung beginnen").click()
    assert page.locator("#status").inner_text() == "In Prüfung"

    # Request documents: without a reason the engine's refusal stands next to the field.
    page.locator("#request_documents__documents").fill("Satzung\nAktueller Vereinsregisterauszug")
    page.get_by_role("button", name="Unterlagen nachfordern").click()
    error = page.locator("#request_documents__reason-error").inner_text()
    assert "Begründung erforderlich" in error
    assert page.locator("#request_documents__documents").input_value().startswith("Satzung")
    assert axe(page) == []
    page.locator("#request_documents__reason").fill("Bitte Satzung und Registerauszug nachreichen.")
    page.get_by_role("button", name="Unterlagen nachfordern").click()
    assert page.locator("#status").inner_text() == "Nachforderung"
    assert "Aktueller Vereinsregisterauszug" in page.locator("#verlauf + ol").inner_text()

    # The carrier answers with an upload through its own pages.
    _as(page, portal, CARRIER)
    page.goto(f"{portal.url}/antraege/{reference}/unterlagen")
    satzung = tmp_path / "Satzung.pdf"
    satzung.write_bytes(PDF)
    page.locator("#dateien").set_input_files([str(satzung)])
    page.get_by_role("button", name="Unterlagen einreichen").click()
    assert page.url.endswith(f"/antraege/{reference}")

    # "Waiting for me" shows it to the case officer, with the upload in the case file.
    _as(page, portal, REVIEWER)
    page.get_by_role("link", name="Wartet auf mich").click()
    assert reference in page.locator("#arbeitsliste").inner_text()
    page.locator("#arbeitsliste").get_by_role("link", name=reference).click()
    assert page.locator("#status").inner_text() == "In Prüfung"
    assert page.get_by_role("link", name=re.compile("Satzung.pdf")).count() == 1

    # A second approver asks for one more document (review work), the carrier explains.
    portal.cli("fire", reference, "request_documents", "--as", SECOND_APPROVER, "--reason",
               "Bitte noch den Kostenvoranschlag.", "--document", "Kostenvoranschlag")
    portal.cli("fire", reference, "provide_documents", "--as", CARRIER, "--explanation",
               "Der Kostenvoranschlag folgt mit dem Zwischennachweis.")

    # The Prüfvermerk: a first save lists what is missing, the second is complete.
    page.goto(f"{portal.url}/pruefung/antraege/{reference}/pruefvermerk")
    assert axe(page) == []
    page.locator("#zusammenfassung").fill(SUMMARY)
    page.get_by_role("button", name="Prüfvermerk speichern").click()
    missing = page.locator("#fehlende-teile").inner_text()
    assert "Quartiersbezug" in missing and "empfohlener Betrag" in missing
    assert "Version 1" in page.locator("#version").inner_text()
    for code in CRITERIA:
        page.locator(f"#bewertung__{code}-1").check()
    page.locator("#notiz__wirtschaftlichkeit").fill("Honorare leicht über dem Durchschnitt.")
    years = [int(i.get_attribute("id").split("__")[1])
             for i in page.locator("input[id^=betrag__]").all()]
    assert len(years) == 2
    for year in years:
        page.locator(f"#betrag__{year}").fill("40.000,00")
    page.get_by_role("button", name="Prüfvermerk speichern").click()
    assert "vollständig" in page.locator("#fehlende-teile").inner_text()
    assert "Version 2" in page.locator("#version").inner_text()
    page.get_by_role("link", name="Druckansicht").click()
    assert SUMMARY in _main(page) and "Honorare leicht" in _main(page)
    assert axe(page) == []

    # Recommend: the amounts come from the Prüfvermerk; the reason is the reviewer's.
    page.goto(f"{portal.url}/pruefung/antraege/{reference}")
    assert page.locator(f"#recommend__amounts__{years[0]}").input_value() == "40000,00"
    page.locator("#recommend__reason").fill("Förderfähig; Beträge gemäß Prüfvermerk.")
    page.get_by_role("button", name="Zur Bewilligung vorschlagen").click()
    assert page.locator("#status").inner_text() == "Zur Bewilligung vorgeschlagen"

    # The approver who requested documents is refused, with the reason on the page.
    _as(page, portal, SECOND_APPROVER, second_password)
    assert page.url.endswith("/zeichnung"), page.url
    case = page.locator(f"[id='antrag-{reference}']")
    assert "Vier-Augen-Prinzip: Wer einen Antrag geprüft hat" in case.locator(
        "[id^=verweigert-]").inner_text()
    assert "Jonas Berger" in case.inner_text()
    case.get_by_role("button", name=re.compile("^Bewilligen")).click()
    case = page.locator(f"[id='antrag-{reference}']")
    assert "Vier-Augen-Prinzip" in case.get_by_role("alert").inner_text()
    assert axe(page) == []

    # The other approver previews the notice, then signs from the queue.
    _as(page, portal, APPROVER)
    assert page.url.endswith("/zeichnung")
    assert "Verfügbar" in _main(page)
    case = page.locator(f"[id='antrag-{reference}']")
    assert case.locator("[id^=verweigert-]").count() == 0
    with page.expect_download() as preview:
        case.get_by_role("button", name=re.compile("Vorschau des Zuwendungsbescheids")).click()
    assert Path(preview.value.path()).read_bytes().startswith(b"%PDF")
    assert preview.value.suggested_filename == f"Bescheid-Vorschau {reference}.pdf"
    assert axe(page) == []
    case.get_by_role("button", name=re.compile("^Bewilligen")).click()
    assert f"{reference}: Bewilligen erledigt." in _main(page)
    assert page.locator(f"[id='antrag-{reference}']").count() == 0
    page.goto(f"{portal.url}/pruefung/antraege/{reference}")
    assert page.locator("#status").inner_text() == "Bewilligt"
    # The preview kept nothing: exactly one notice, from the signature, in the case file.
    assert page.get_by_role("link", name=re.compile("Zuwendungsbescheid")).count() == 1

    # The carrier's case page never shows the Prüfvermerk.
    _as(page, portal, CARRIER)
    page.goto(f"{portal.url}/antraege/{reference}")
    text = _main(page)
    assert "Bewilligt" in text
    assert SUMMARY not in text and "Honorare leicht" not in text and "Prüfvermerk" not in text
    assert page.request.get(
        f"{portal.url}/pruefung/antraege/{reference}/pruefvermerk").status == 403
