"""Money after the approval in the browser (real server, worker and Chromium): the carrier enters
the bank account, waives the right of appeal and calls 60 % of year 1; a reviewer certifies the
call; the same reviewer trying to order is refused with the reason on the page; an approver
orders; the SEPA file downloads and validates against the pain.001.001.03 XSD; the carrier sees
the payment. The project runs: the carrier hands in the Verwendungsnachweis spending less than
was paid; the reviewer checks it and settles; the carrier answers the hearing; the approver
revokes in part; the carrier reads the repayment claim with its interest and account; the
reviewer records the repayment and the case closes. Screenshots of each page go to
/tmp/shots-pay."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import sepaxml
import xmlschema

from tests.portal.conftest import Portal, login
from tests.portal.drivers import Driver
from tests.portal.final_report_steps import approved_years, submit_final_report

SHOTS = Path("/tmp/shots-pay")
XSD = Path(sepaxml.__file__).parent / "schemas" / "pain.001.001.03.xsd"
CARRIER, REVIEWER, APPROVER = ("traeger1@quartier.example", "pruefung@quartier.example",
                               "zeichnung@quartier.example")


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _approved(portal: Portal) -> tuple[str, int, int]:
    """The demo call's approved application: reference, its first year and what it commits."""
    with sqlite3.connect(portal.home / "quartier.sqlite3") as db:
        return db.execute(
            "select a.reference, y.year, y.committed_cents from application a "
            "join call c on c.id = a.call_id join application_year y on y.application_id = a.id "
            "where c.code = 'ZiQ-DEMO' and a.state = 'approved' order by y.year").fetchone()


def _german(cents: int) -> str:
    return f"{cents // 100:,}".replace(",", ".") + f",{cents % 100:02d}"


def test_call_of_funds_to_sepa_file_settlement_and_closing(browser_page: Any, portal: Portal,
                                                            tmp_path: Path) -> None:
    page, act = browser_page, Driver(browser_page)
    reference, year, committed = _approved(portal)
    amount = committed * 60 // 100

    login(page, portal, CARRIER)
    page.goto(f"{portal.url}/organisation")
    act.fill(page.get_by_label("IBAN"), "DE89 3704 0044 0532 0130 01")
    act.activate(page.get_by_role("button", name="Bankverbindung speichern"))
    assert "keine gültige IBAN" in page.locator("#fehlerliste").inner_text()
    _shot(page, "01-bank-account-refused")
    act.fill(page.get_by_label("IBAN"), "DE89 3704 0044 0532 0130 00")
    act.fill(page.get_by_label("Kontoinhaber"), "Stadtteilmütter Schalke e.V.")
    act.activate(page.get_by_role("button", name="Bankverbindung speichern"))
    assert "Die Bankverbindung Ihrer Organisation ist gespeichert." in page.content()
    assert "COBADEFFXXX" in page.content()
    _shot(page, "02-bank-account")

    page.goto(f"{portal.url}/antraege/{reference}")
    _shot(page, "03-case-before")
    act.activate(page.get_by_role("link", name="Rechtsbehelfsverzicht erklären"))
    act.activate(page.get_by_role("button", name="Rechtsbehelfsverzicht erklären"))
    assert "Bitte bestätigen Sie" in page.locator("#fehlerliste").inner_text()
    act.check(page.get_by_label("Ich verzichte für meine Organisation", exact=False))
    _shot(page, "04-waiver")
    act.activate(page.get_by_role("button", name="Rechtsbehelfsverzicht erklären"))
    assert "Sie haben auf Rechtsbehelfe verzichtet" in page.content()
    assert "bestandskräftig seit" in page.content()

    act.activate(page.get_by_role("link", name="Mittel abrufen"))
    act.select(page.get_by_label("Haushaltsjahr", exact=True), str(year))
    act.fill(page.get_by_label("Betrag", exact=True), _german(committed + 1))
    act.fill(page.locator("#zweck"), "Personalausgaben")
    act.check(page.get_by_label("für fällige Zahlungen benötigt", exact=False))
    act.activate(page.get_by_role("button", name="Mittel abrufen"))
    assert "noch abrufbar" in page.locator("#fehlerliste").inner_text()
    assert page.get_by_label("Betrag", exact=True).input_value() == _german(committed + 1)  # kept
    _shot(page, "05-call-refused")
    act.fill(page.get_by_label("Betrag", exact=True), _german(amount))
    act.activate(page.get_by_role("button", name="Mittel abrufen"))
    assert "Ihr Mittelabruf ist eingegangen" in page.content()

    page.context.clear_cookies()
    login(page, portal, REVIEWER)
    act.activate(page.get_by_role("link", name="Zahlungen", exact=True))
    assert reference in page.content() and _german(amount) in page.content()
    _shot(page, "06-payments-to-check")
    check = f"Mittelabruf sachlich richtig zeichnen {reference}"
    act.activate(page.get_by_role("button", name=check, exact=False))
    assert "sachlich richtig gezeichnet" in page.content()
    act.activate(page.get_by_role("button", name=f"{reference} / {year}", exact=False))
    assert "Vier-Augen-Prinzip" in page.locator(".kern-table .kern-error").inner_text()
    _shot(page, "07-four-eyes-refused")

    page.context.clear_cookies()
    login(page, portal, APPROVER)
    page.goto(f"{portal.url}/zahlungen")
    act.activate(page.get_by_role("button", name=f"{reference} / {year}", exact=False))
    assert "Die Auszahlung ist angeordnet" in page.content()
    _shot(page, "08-ordered")
    page.goto(f"{portal.url}/pruefung/antraege/{reference}#zahlungen")
    assert "angeordnet:" in page.locator("section[aria-labelledby=zahlungen]").inner_text()
    _shot(page, "08b-staff-case")
    page.goto(f"{portal.url}/auswertung")
    assert "Ausgezahlt (EUR)" in page.content()
    _shot(page, "08c-dashboard")
    page.goto(f"{portal.url}/zahlungen")
    with act.download(page.get_by_role("button", name="SEPA-Datei (pain.001) herunterladen")
                      ) as download:
        target = tmp_path / download.suggested_filename
        download.save_as(target)
    xml = target.read_text(encoding="utf-8")
    xmlschema.XMLSchema(str(XSD)).validate(xml)
    assert "DE89370400440532013000" in xml and f"{amount // 100}.{amount % 100:02d}" in xml

    page.context.clear_cookies()
    login(page, portal, CARRIER)
    page.goto(f"{portal.url}/antraege/{reference}#zahlungen")
    section = page.locator("section[aria-labelledby=zahlungen]").inner_text()
    assert "Ausgezahlt" in section and _german(amount) in section
    _shot(page, "09-carrier-sees-payment")

    # The project runs (the worker starts it on its first day; here at once); the carrier
    # reports spending of a third of the first year only: less than was paid.
    portal.cli("fire", reference, "start", "--as", CARRIER)
    page.goto(f"{portal.url}/antraege/{reference}")
    act.activate(page.get_by_role("link", name="Verwendungsnachweis einreichen").first)
    spent = {y: "0,00" for y in approved_years(page)}
    spent[year] = _german(committed // 3)
    submit_final_report(act, page, tmp_path, spent)
    assert "Verwendungsnachweis" in page.inner_text("main")

    page.context.clear_cookies()
    login(page, portal, REVIEWER)
    page.goto(f"{portal.url}/pruefung/antraege/{reference}")
    act.activate(page.get_by_role("link", name="Verwendungsnachweis und Prüfung öffnen"))
    for code in ("sachbericht", "finanzplan", "belegliste", "zweck"):
        act.check(page.locator(f"input[name=bewertung__{code}][value=erfuellt]"))
    act.fill(page.get_by_label("Zusammenfassung"), "Sachbericht und Belege vollständig.")
    act.activate(page.get_by_role("button", name="Prüfung erfassen und Zuwendung festsetzen"))
    page.goto(f"{portal.url}/pruefung/antraege/{reference}")
    act.activate(page.get_by_role("link", name="Abrechnung und Rückforderung öffnen"))
    table = page.get_by_role("table", name="Abrechnung: ausgezahlt und festgesetzte Zuwendung")
    assert _german(committed // 3) in table.inner_text()  # the final grant of the first year
    act.activate(page.get_by_role("button", name="Abrechnen"))
    assert "#begruendung" in page.locator("#fehlerliste").inner_html()  # grounds are needed
    act.fill(page.get_by_label("Gründe des beabsichtigten Teilwiderrufs"),
             "Ausgaben nur zu einem Drittel nachgewiesen.")
    _shot(page, "10-settle")
    act.activate(page.get_by_role("button", name="Abrechnen"))
    assert "Anhörung" in page.inner_text("main")

    page.context.clear_cookies()
    login(page, portal, CARRIER)
    page.goto(f"{portal.url}/antraege/{reference}")
    act.activate(page.get_by_role("link", name="Stellungnahme", exact=False).first)
    act.fill(page.get_by_label("Ihre Stellungnahme"), "Wir sehen die Überzahlung ein.")
    act.activate(page.get_by_role("button", name="Stellungnahme abgeben"))

    page.context.clear_cookies()
    login(page, portal, APPROVER)
    page.goto(f"{portal.url}/pruefung/antraege/{reference}")
    revoke = page.locator("section[aria-labelledby=aktion-revoke_partially]")
    act.fill(revoke.get_by_role("textbox").first, "Teilwiderruf in Höhe der Überzahlung.")
    act.activate(revoke.get_by_role("button"))
    assert "Rückforderung" in page.inner_text("main")

    page.context.clear_cookies()
    login(page, portal, CARRIER)
    page.goto(f"{portal.url}/antraege/{reference}")
    main = page.inner_text("main")
    overpaid = amount - committed // 3
    assert "Rückforderung" in main and _german(overpaid) in main and "Fällig am" in main
    assert "Verwendungszweck" in main  # where to pay it
    todo = page.locator("section[aria-labelledby=aktionen]").inner_text()
    assert f"Rückforderung überweisen: {_german(overpaid)} € offen" in todo
    _shot(page, "11-carrier-claim")
    open_text = page.locator("dt:has-text('Offen am') + dd").inner_text()

    page.context.clear_cookies()
    login(page, portal, REVIEWER)
    page.goto(f"{portal.url}/pruefung/antraege/{reference}/abrechnung")
    act.fill(page.get_by_label("Eingegangener Betrag"), open_text.replace("€", "").strip())
    act.activate(page.get_by_role("button", name="Rückzahlung erfassen"))
    assert page.locator("dt:has-text('Stand') + dd").first.inner_text() == "Beglichen"
    assert page.locator("dt:has-text('Offen am') + dd").inner_text().startswith("0,00")
    assert page.get_by_role("button", name="Rückzahlung erfassen").count() == 0  # paid
    _shot(page, "12-repaid")
    page.goto(f"{portal.url}/pruefung/antraege/{reference}")
    close = page.locator("section[aria-labelledby=aktion-close]")
    act.activate(close.get_by_role("button", name="Abschließen"))
    assert "Abgeschlossen" in page.inner_text("main")

    page.context.clear_cookies()
    login(page, portal, CARRIER)
    page.goto(f"{portal.url}/antraege/{reference}")
    assert "abgeschlossen" in page.inner_text("main").lower()
    money = page.get_by_role("table", name="Gebundene, abgerufene und ausgezahlte Mittel")
    assert "Zurückgezahlt" in money.inner_text() and _german(overpaid) in money.inner_text()
    _shot(page, "13-carrier-closed")
