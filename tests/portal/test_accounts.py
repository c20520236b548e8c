"""Onboarding in the browser: a new organisation registers, an admin confirms it in the page, the
contact chooses the password from the emailed link (read from the real mailbox) and logs in.
axe-core checks each page on the way."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.portal.conftest import Portal, axe, login

NEW = "Blaue Giraffe tanzt Walzer 7"
ORGANISATION = "Nachbarschaftstreff Bismarck e. V."
CONTACT = "nina.berger@treff-bismarck.example"


def test_a_new_organisation_registers_is_confirmed_and_logs_in(portal: Portal,
                                                              browser_page: Any) -> None:
    page = browser_page
    page.goto(f"{portal.url}/registrieren")
    assert axe(page) == []
    page.get_by_label("Name der Organisation").fill(ORGANISATION)
    page.get_by_label("Rechtsform").select_option("eingetragener_verein")
    page.get_by_label("Straße und Hausnummer").fill("Bismarckstraße 200")
    page.get_by_label("Postleitzahl").fill("4588")  # one digit short: refused, kept
    page.get_by_label("Ort").fill("Gelsenkirchen")
    page.get_by_label("Name der Ansprechperson").fill("Nina Berger")
    page.get_by_label("E-Mail-Adresse der Ansprechperson").fill(CONTACT)
    page.get_by_role("button", name="Registrierung absenden").click()
    expect(page.locator("#postcode-error")).to_contain_text("fünf Ziffern")
    expect(page.get_by_label("Name der Organisation")).to_have_value(ORGANISATION)
    assert axe(page) == []
    page.get_by_label("Postleitzahl").fill("45889")
    page.get_by_role("button", name="Registrierung absenden").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Vielen Dank für Ihre Registrierung")
    assert axe(page) == []
    portal.mail_to(CONTACT, f"Registrierung eingegangen: {ORGANISATION}")

    login(page, portal, "admin@quartier.example")
    page.goto(f"{portal.url}/verwaltung/organisationen")
    assert axe(page) == []
    page.get_by_role("button", name=f"Bestätigen: {ORGANISATION}").click()
    expect(page.get_by_role("status").first).to_contain_text("ist bestätigt")
    page.get_by_role("button", name="Abmelden").click()

    confirmed = portal.mail_to(CONTACT, f"Registrierung bestätigt: {ORGANISATION}")
    [link] = portal.links(confirmed)
    assert "/passwort-setzen/" in link
    page.goto(link)
    assert axe(page) == []
    page.get_by_label("Neues Passwort", exact=True).fill(NEW)
    page.get_by_label("Neues Passwort wiederholen").fill(NEW)
    page.get_by_role("button", name="Passwort speichern").click()
    expect(page.get_by_role("status").first).to_contain_text("Sie sind angemeldet")
    page.goto(f"{portal.url}/organisation")
    expect(page.get_by_role("heading", level=1)).to_have_text(ORGANISATION)
    assert axe(page) == []
    page.get_by_role("button", name="Abmelden").click()

    login(page, portal, CONTACT, NEW)
    page.goto(f"{portal.url}/konto")
    expect(page.get_by_label("Name", exact=True)).to_have_value("Nina Berger")
    assert axe(page) == []


def test_the_account_pages_pass_axe_logged_in_and_out(portal: Portal,
                                                      browser_page: Any) -> None:
    page = browser_page
    for path in ("/passwort-vergessen", "/passwort-setzen/kein-gueltiger-link",
                 "/registrieren/danke"):
        page.goto(portal.url + path)
        assert axe(page) == [], path
    login(page, portal, "traeger1@quartier.example")
    for width in (1280, 320):
        page.set_viewport_size({"width": width, "height": 900})
        for path in ("/konto", "/konto/passwort", "/organisation"):
            page.goto(portal.url + path)
            assert axe(page) == [], f"{path}@{width}"
    page.get_by_role("button", name="Abmelden").click()
    login(page, portal, "admin@quartier.example")
    page.goto(portal.url + "/verwaltung/organisationen")
    assert axe(page) == []
