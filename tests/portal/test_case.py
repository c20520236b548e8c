"""The carrier's case in a real browser: answering a document request with an upload, the
approval and its notice to download, and the final report; no WCAG 2.1 A/AA violation on the
case pages."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.portal.conftest import Portal, axe, login
from tests.portal.drivers import Driver
from tests.portal.final_report_steps import submit_final_report

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _open_case(page: Any, portal: Portal, title: str) -> str:
    page.goto(portal.url + "/antraege")
    cell = page.locator("td", has_text=title)
    reference = cell.get_by_role("link").first.inner_text().strip()
    cell.get_by_role("link", name=reference).click()
    assert page.url.endswith(f"/antraege/{reference}")
    return reference


def test_answer_a_document_request_with_an_upload(browser_page: Any, portal: Portal,
                                                  tmp_path: Path) -> None:
    """traeger3 (Anna Schröder) reads the portal in English: the engine's reasons too."""
    page = browser_page
    login(page, portal, "traeger3@quartier.example")
    reference = _open_case(page, portal, "Familienlotsen Hagen-Altenhagen")
    main = page.locator("main")
    assert "Documents requested" in main.inner_text()
    assert "Bitte Finanzierungsplan und Satzung nachreichen." in main.inner_text()
    assert axe(page) == []
    page.get_by_role("link", name=re.compile("Answer now")).click()
    assert page.url.endswith(f"/antraege/{reference}/unterlagen")
    assert axe(page) == []
    # Nothing chosen and nothing explained: the engine's reason, and still the form.
    page.get_by_role("button", name="Submit documents").click()
    assert "Upload at least one document" in page.locator("#fehlerliste").inner_text()
    assert axe(page) == []
    satzung = tmp_path / "Satzung.pdf"
    satzung.write_bytes(PDF)
    page.locator("#dateien").set_input_files([str(satzung)])
    page.get_by_role("button", name="Submit documents").click()
    assert page.url.endswith(f"/antraege/{reference}")
    text = page.locator("main").inner_text()
    assert "Thank you, your documents were received." in text
    assert "Documents provided" in text and "Satzung.pdf" in text
    assert page.get_by_role("link", name=re.compile("Answer now")).count() == 0


def test_approval_notice_download_and_final_report(browser_page: Any, portal: Portal,
                                                   tmp_path: Path) -> None:
    page = browser_page
    login(page, portal, "traeger1@quartier.example")
    reference = _open_case(page, portal, "Familienzentrum Bismarck")
    text = page.locator("main").inner_text()
    assert "Antrag bewilligt" in text and "Bescheid" in text
    assert axe(page) == []
    akte = page.get_by_role("table", name="Unterlagen und Bescheide dieses Antrags")
    with page.expect_download() as download:
        akte.get_by_role("link").first.click()
    saved = tmp_path / "bescheid.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")
    # Approved, not withdrawable: the confirmation page says why (the engine's reason).
    page.goto(f"{portal.url}/antraege/{reference}/zurueckziehen")
    assert "Zurückziehen ist zurzeit nicht möglich." in page.locator("main").inner_text()
    assert axe(page) == []
    # The project starts (setup: the carrier waives its right of appeal on the command line).
    portal.cli("fire", reference, "start", "--as", "traeger1@quartier.example",
               "--waiver-of-appeal")
    page.goto(f"{portal.url}/antraege/{reference}")
    page.get_by_role("link", name="Verwendungsnachweis einreichen").first.click()
    assert page.url.endswith(f"/antraege/{reference}/verwendungsnachweis")
    assert axe(page) == []
    submit_final_report(Driver(page), page, tmp_path)
    assert page.url.endswith(f"/antraege/{reference}")
    text = page.locator("main").inner_text()
    assert "Vielen Dank, Ihr Verwendungsnachweis ist eingegangen." in text
    assert "Verwendungsnachweis eingereicht" in text and "Sachbericht.pdf" in text
    assert axe(page) == []
