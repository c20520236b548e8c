"""The portal's frame in a real browser: the start page, logging in and out, Meine Anträge,
and no WCAG 2.1 A/AA violation on them at desktop width and at 320 px."""

from __future__ import annotations

from typing import Any

from tests.portal.conftest import Portal, axe, login


def test_start_page_shows_every_call_and_the_funding_stop(browser_page: Any,
                                                          portal: Portal) -> None:
    page = browser_page
    page.goto(portal.url + "/")
    assert page.locator("h1").inner_text() == "Förderaufrufe"
    stopped = page.get_by_role("region", name="ZiQ – Förderaufruf 2021/2022")
    assert "Fördermittelstopp seit" in stopped.inner_text()
    assert "08.02.2021, 11:17" in stopped.inner_text()
    assert page.get_by_role("region", name="Demo-Aufruf – ZiQ im Übungsbetrieb").is_visible()
    assert page.locator("html").get_attribute("lang") == "de"


def test_login_meine_antraege_and_logout(browser_page: Any, portal: Portal) -> None:
    page = browser_page
    page.goto(portal.url + "/antraege")
    assert "/anmelden" in page.url  # not logged in: to the login, and back afterwards
    page.get_by_label("E-Mail-Adresse").fill("traeger1@quartier.example")
    page.get_by_label("Passwort", exact=True).fill("falsch-falsch-falsch")
    page.get_by_role("button", name="Anmelden").click()
    assert "E-Mail-Adresse oder Passwort ist falsch" in page.locator("#fehlerliste").inner_text()
    assert page.get_by_label("E-Mail-Adresse").input_value() == "traeger1@quartier.example"
    page.get_by_label("Passwort", exact=True).fill("quartier-demo")
    page.get_by_role("button", name="Anmelden").click()
    assert page.url.endswith("/antraege")
    table = page.get_by_role("table", name="Anträge Ihrer Organisation")
    assert "Entwurf" in table.inner_text() and "Bewilligt" in table.inner_text()
    page.get_by_role("button", name="Abmelden").click()
    assert "Sie sind abgemeldet." in page.inner_text("main")
    page.goto(portal.url + "/antraege")
    assert "/anmelden" in page.url


def test_english_by_choice(browser_page: Any, portal: Portal) -> None:
    page = browser_page
    page.goto(portal.url + "/")
    page.get_by_role("link", name="English").click()
    assert page.locator("h1").inner_text() == "Calls for proposals"
    assert page.locator("html").get_attribute("lang") == "en"


def test_no_wcag_violations_at_desktop_and_320px(browser_page: Any, portal: Portal) -> None:
    page = browser_page
    found: dict[str, Any] = {}
    for width in (1280, 320):
        page.set_viewport_size({"width": width, "height": 900})
        for path in ("/", "/anmelden"):
            page.goto(portal.url + path)
            found[f"{path}@{width}"] = axe(page)
    login(page, portal, "traeger1@quartier.example")
    for width in (1280, 320):
        page.set_viewport_size({"width": width, "height": 900})
        for path in ("/", "/antraege"):
            page.goto(portal.url + path)
            found[f"{path}@{width} (angemeldet)"] = axe(page)
    assert {k: v for k, v in found.items() if v} == {}
