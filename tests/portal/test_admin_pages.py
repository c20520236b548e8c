"""Programme administration in the browser: a budget change lands in the ledger, a wrong amount
is refused next to its field and writes nothing; a funding stop is declared with a reason and
lifted; a module is added; an account is created, gets another role and is disabled; a dead
letter is requeued. Every change is audited the way the admin API audits it."""

from __future__ import annotations

import sqlite3
from typing import Any

from playwright.sync_api import expect

from tests.portal.conftest import Portal, axe, login

ADMIN = "admin@quartier.example"
CODE = "ZiQ-DEMO"


def _one(portal: Portal, sql: str, *args: Any) -> Any:
    with sqlite3.connect(portal.home / "quartier.sqlite3") as db:
        row = db.execute(sql, args).fetchone()
        return row[0] if row else None


def _ledger_count(portal: Portal) -> int:
    return _one(portal, "select count(*) from ledger_entry e join budget_line b on "
                        "b.id = e.budget_line_id join call c on c.id = b.call_id "
                        "where c.code = ?", CODE)


def test_budget_change_and_funding_stop(browser_page: Any, portal: Portal) -> None:
    page = browser_page
    login(page, portal, ADMIN)
    page.goto(f"{portal.url}/verwaltung/aufrufe/{CODE}")
    assert axe(page) == []
    before = _ledger_count(portal)
    lines = page.get_by_label("Budgetzeile", exact=True)
    lines.select_option(lines.locator("option").first.get_attribute("value"))
    page.get_by_label("Änderung in Euro").fill("zwölf Euro")
    page.get_by_label("Vermerk", exact=True).fill("Nachtragshaushalt")
    page.get_by_role("button", name="Budget ändern").click()
    expect(page.locator("#aenderung-error")).to_be_visible()
    assert page.get_by_label("Änderung in Euro").get_attribute("aria-invalid") == "true"
    assert _ledger_count(portal) == before
    assert axe(page) == []
    page.get_by_label("Änderung in Euro").fill("25.000,00")
    page.get_by_role("button", name="Budget ändern").click()
    assert "im Mittelbuch eingetragen" in page.inner_text("main")
    assert _ledger_count(portal) == before + 1
    rows = page.locator("#mittelbuch-tabelle tbody tr")
    assert "Nachtragshaushalt" in rows.last.inner_text()
    assert "Budgetänderung" in rows.last.inner_text()

    # The funding stop: without a reason refused next to the field, then declared and lifted.
    page.get_by_role("button", name="Fördermittelstopp erklären").click()
    assert "Grund" in page.locator("#grund-error").inner_text()
    assert _one(portal, "select stop_kind from call where code = ?", CODE) is None
    page.get_by_label("Grund des Fördermittelstopps").fill("Haushaltssperre des Landes")
    page.get_by_role("button", name="Fördermittelstopp erklären").click()
    assert "Fördermittelstopp ist erklärt" in page.inner_text("main")
    assert _one(portal, "select stop_kind from call where code = ?", CODE) == "declared"
    assert "Haushaltssperre des Landes" in page.inner_text("main")
    assert axe(page) == []
    page.get_by_role("button", name="Fördermittelstopp aufheben").click()
    assert "aufgehoben" in page.inner_text("main")
    assert _one(portal, "select stop_kind from call where code = ?", CODE) is None
    actions = [a for (a,) in sqlite3.connect(portal.home / "quartier.sqlite3").execute(
        "select action from admin_audit where subject = ? order by id", (CODE,))]
    assert actions[-2:] == ["declare_funding_stop", "lift_funding_stop"]
    protocol = page.locator("#protokoll ~ ul").inner_text()
    assert "Haushaltssperre des Landes" in protocol

    # A module for the programme.
    page.goto(f"{portal.url}/verwaltung/programme")
    assert axe(page) == []
    page.get_by_label("Kürzel des Bausteins").fill("B1")
    page.get_by_label("Name des Bausteins").fill("Doppelt")
    page.get_by_role("button", name="Baustein hinzufügen").click()
    assert "gibt es in ZiQ bereits" in page.locator("#kuerzel-ZiQ-error").inner_text()
    page.get_by_label("Kürzel des Bausteins").fill("B3")
    page.get_by_label("Name des Bausteins").fill("Familienzentren im Quartier")
    page.get_by_role("button", name="Baustein hinzufügen").click()
    assert "B3 – Familienzentren im Quartier" in page.inner_text("main")
    assert _one(portal, "select count(*) from admin_audit where action = 'add_module' "
                        "and subject = 'ZiQ/B3'") == 1


def test_accounts_and_dead_letters(browser_page: Any, portal: Portal) -> None:
    page = browser_page
    login(page, portal, ADMIN)
    page.goto(f"{portal.url}/verwaltung/benutzer")
    assert axe(page) == []
    page.get_by_label("Name", exact=True).fill("Paula Prüferin")
    page.get_by_label("E-Mail-Adresse").fill("paula.pruefer@quartier.example")
    page.get_by_label("Rolle", exact=True).select_option("reviewer")
    page.get_by_label("Erstes Passwort").fill("kurz")
    page.get_by_role("button", name="Konto anlegen").click()
    expect(page.locator("#passwort-error")).to_be_visible()
    assert _one(portal, "select count(*) from app_user where email = ?",
                "paula.pruefer@quartier.example") == 0
    page.get_by_label("Erstes Passwort").fill("Quartiersarbeit-mit-Herz-2026")
    page.get_by_role("button", name="Konto anlegen").click()
    assert "ist angelegt" in page.inner_text("main")
    user_id = _one(portal, "select id from app_user where email = ?",
                   "paula.pruefer@quartier.example")
    page.get_by_label("Rolle von Paula Prüferin").select_option("approver")
    page.get_by_role("button", name="Rolle ändern: Paula Prüferin").click()
    assert _one(portal, "select role from app_user where id = ?", user_id) == "approver"
    page.get_by_role("button", name="Sperren: Paula Prüferin").click()
    assert _one(portal, "select disabled from app_user where id = ?", user_id) == 1
    expect(page.get_by_role("button", name="Entsperren: Paula Prüferin")).to_be_visible()
    # A carrier keeps its role (no role form); the own account has no buttons at all.
    assert page.locator("form[action$='/rolle'] select").count() == _one(
        portal, "select count(*) from app_user where role != 'carrier' and email != ?", ADMIN)
    assert axe(page) == []

    # A dead letter (the mail server refused it for good) is requeued from the outbox page.
    with sqlite3.connect(portal.home / "quartier.sqlite3") as db:
        mail_id = db.execute("select id from outbox_message order by id desc limit 1"
                             ).fetchone()[0]
        db.execute("update outbox_message set status = 'dead', attempts = 8, "
                   "last_error = '550 mailbox unavailable' where id = ?", (mail_id,))
    page.goto(f"{portal.url}/verwaltung/postausgang")
    assert "550 mailbox unavailable" in page.inner_text("main")
    assert "unzustellbar" in page.inner_text("main")
    assert axe(page) == []
    page.locator(f"form[action='/verwaltung/postausgang/{mail_id}'] button").click()
    assert "erneut eingereiht" in page.inner_text("main")
    assert _one(portal, "select status from outbox_message where id = ?", mail_id) != "dead"
