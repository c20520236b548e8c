"""The approver's signing queue in a real browser: money per budget year, returning a case to the
review (a reason is required, shown next to the field), a concurrent change that makes the page
stale (a clear message, nothing fired), and the same for an action on the staff case view."""

from __future__ import annotations

import re
from typing import Any

from tests.portal.conftest import Portal, axe, login

APPROVER = "zeichnung@quartier.example"
REVIEWER2 = "pruefung2@quartier.example"  # Tobias Krüger recommended the Chorweiler case
TITLE = "Gesund groß werden in Chorweiler"


def test_return_to_review_and_stale_pages(browser_page: Any, portal: Portal) -> None:
    page = browser_page
    login(page, portal, APPROVER)
    assert page.url.endswith("/zeichnung")
    assert page.get_by_role("link", name="Zeichnung").get_attribute("aria-current") == "page"
    assert "Verfügbar" in page.locator("#mittel + div").inner_text()
    case = page.locator("section", has_text=TITLE).last
    reference = case.get_attribute("id").removeprefix("antrag-")
    assert "Tobias Krüger" in case.inner_text()
    assert axe(page) == []
    page.set_viewport_size({"width": 320, "height": 800})
    assert axe(page) == []
    page.set_viewport_size({"width": 1280, "height": 900})

    # Returning needs a reason: the engine's refusal next to the field, nothing changed.
    case.get_by_role("button", name=re.compile("^An die Prüfung zurückgeben")).click()
    case = page.locator(f"[id='antrag-{reference}']")
    assert "Begründung" in case.locator(".kern-error").inner_text()
    assert axe(page) == []

    # Someone else acts meanwhile: the page's version is stale, the signature is not fired.
    portal.cli("fire", reference, "return_to_review", "--as", APPROVER, "--reason",
               "Bitte die Finanzierung durch Drittmittel belegen.")
    case.get_by_role("button", name=re.compile("^Bewilligen")).click()
    assert "inzwischen geändert" in page.locator("main").inner_text()
    assert page.locator(f"[id='antrag-{reference}']").count() == 0

    # The case is back in review, with the reason in its history.
    page.goto(f"{portal.url}/pruefung/antraege/{reference}")
    assert page.locator("#status").inner_text() == "In Prüfung"
    history = page.locator("#verlauf + ol").inner_text()
    assert "An die Prüfung zurückgeben" in history
    assert "Bitte die Finanzierung durch Drittmittel belegen." in history

    # On the case view too: a form shown before a change does not fire after it.
    page.context.clear_cookies()
    login(page, portal, REVIEWER2)
    page.goto(f"{portal.url}/pruefung/antraege/{reference}")
    years = [i.get_attribute("id").rsplit("__", 1)[1]
             for i in page.locator("input[id^=recommend__amounts__]").all()]
    assert len(years) == 2
    portal.cli("fire", reference, "recommend", "--as", REVIEWER2, "--reason", "Belegt.",
               *[arg for y in years for arg in ("--amount", f"{y}=60000")])
    page.locator("#recommend__reason").fill("Noch einmal vorgeschlagen.")
    page.get_by_role("button", name="Zur Bewilligung vorschlagen").click()
    assert "inzwischen von jemand anderem geändert" in page.locator("main").inner_text()
    assert page.locator("#status").inner_text() == "Zur Bewilligung vorgeschlagen"
    assert "Noch einmal vorgeschlagen." not in page.locator("#verlauf + ol").inner_text()
